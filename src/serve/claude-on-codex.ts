import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Account } from '../model/types.js';
import { directions, isCodexModel, sseFrame, SseParser, type ModelMap } from '../translate/index.js';
import { version } from '../version.js';
import type { ClientState, Exchange, Failure } from './exchange.js';
import type { ServeServer } from './server.js';
import { credentialHeaders, sendJson, sendUnavailable } from './wire.js';

/**
 * Claude Code (and any Anthropic Messages client) on codex accounts: which requests go there, and the exchange
 * that carries them. serve chooses the route and the account here; the formats are the translator's.
 */
export type CodexForClaude = 'off' | 'fallback' | 'always';
export type ClaudeRoute = 'anthropic' | 'codex' | 'anthropic-then-codex';

/** Where a Messages request goes: a codex model name, or `always`, goes to codex; `fallback` tries anthropic first. */
export function claudeRoute(mode: CodexForClaude, model: string, anthropicCanServe: boolean): ClaudeRoute {
  if (mode === 'off') return 'anthropic';
  if (mode === 'always' || isCodexModel(model)) return 'codex';
  return anthropicCanServe ? 'anthropic-then-codex' : 'codex';
}

export interface ClaudeRequest {
  kind: 'messages' | 'count_tokens' | 'models';
  /** the parsed body; null for GET /v1/models */
  doc: any;
}

/** The requests of the Messages API that can be answered from codex accounts; null for the rest (forwarded). */
export function claudeRequest(mode: CodexForClaude, method: string, url: string, body: Buffer): ClaudeRequest | null {
  if (mode === 'off') return null;
  const path = url.split('?')[0];
  if (method === 'GET' && path === '/v1/models') return { kind: 'models', doc: null };
  if (method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) return null;
  try {
    const doc = JSON.parse(body.toString('utf8'));
    return typeof doc?.model === 'string' ? { kind: path === '/v1/messages' ? 'messages' : 'count_tokens', doc } : null;
  } catch {
    return null; // the upstream says what is wrong with it
  }
}

const DIRECTION = directions['messages->responses'];
const CODEX_HEADER = { 'x-refresher-provider': 'codex' };

export async function serveClaude(
  s: ServeServer,
  res: ServerResponse,
  claude: ClaudeRequest,
  plain: Exchange,
  facts: { sessionId: string | null; pin: string | null },
  client: ClientState,
  onAccount: (id: string) => void,
  onBytes: (n: number) => void,
  markVia: () => void,
): Promise<void> {
  const { cfg } = s;
  const now = Date.now();
  const anthropic = s.pool.choose('anthropic', now, facts);
  if (claude.kind === 'models') return listModels(s, res, plain, anthropic, facts, client, onAccount);
  const where = claudeRoute(cfg.serve.codexForClaude, claude.doc.model, anthropic.length > 0);
  let anthropicFailure: Failure | null = null;
  if (where === 'anthropic-then-codex') {
    const done = await s.attempt(res, plain, anthropic, facts, client, onAccount);
    if (done.sent) return;
    anthropicFailure = done.lastFailure;
    s.log.info(`[serve] no anthropic account could serve ${claude.doc.model}; trying the codex accounts (serve.codex_for_claude: fallback)`);
  }
  markVia();
  if (claude.kind === 'count_tokens') return countTokens(res, claude.doc);
  const t = DIRECTION.request(claude.doc, { models: cfg.serve.models as ModelMap, sessionId: facts.sessionId });
  if (!t.ok) return sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: `refresher serve: this request cannot be answered by a codex account: ${t.message}` } });
  const codex = s.pool.choose('codex', Date.now(), { sessionId: facts.sessionId, pin: null });
  const ex: Exchange = {
    provider: 'codex',
    path: DIRECTION.upstreamPath,
    method: 'POST',
    headers: (a: Account) => ({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'user-agent': `refresher/${version()}`,
      ...(facts.sessionId ? { 'session-id': facts.sessionId } : {}),
      ...credentialHeaders(a, {}),
    }),
    body: Buffer.from(JSON.stringify(t.body)),
    deliver: (up, status) => (status >= 300 ? upstreamError(res, status, up) : t.stream ? stream(res, up, t, onBytes, client) : whole(res, up, t, onBytes, client)),
  };
  const done = codex.length ? await s.attempt(res, ex, codex, facts, client, onAccount) : { sent: false as const, lastFailure: null };
  if (done.sent) return;
  return unavailable(s, res, anthropicFailure, done.lastFailure);
}

/** Neither provider could answer: when one is cooling down, say when; else what the last upstream said. */
function unavailable(s: ServeServer, res: ServerResponse, anthropicFailure: Failure | null, codexFailure: Failure | null): void {
  const now = Date.now();
  const resets = [s.pool.earliestReset('anthropic', now), s.pool.earliestReset('codex', now)].filter((x): x is number => x !== null);
  if (resets.length) return sendUnavailable('anthropic', res, { status: 429, message: 'every anthropic and codex account is cooling down', retryAt: Math.min(...resets) }, now);
  if (codexFailure) {
    res.writeHead(codexFailure.status, { 'content-type': 'application/json', ...CODEX_HEADER });
    return void res.end(JSON.stringify(DIRECTION.error(codexFailure.status, codexFailure.text)));
  }
  if (anthropicFailure) return s.answerFailure(res, 'anthropic', anthropicFailure);
  sendUnavailable('anthropic', res, { status: 503, message: 'no anthropic or codex account is usable now; see refresher status', retryAt: null }, now);
}

async function upstreamError(res: ServerResponse, status: number, up: { body: { text(): Promise<string> } }): Promise<void> {
  const text = await up.body.text().catch(() => '');
  res.writeHead(status, { 'content-type': 'application/json', ...CODEX_HEADER });
  res.end(JSON.stringify(DIRECTION.error(status, text)));
}

type Up = { body: Readable };
type Ok = Extract<ReturnType<typeof DIRECTION.request>, { ok: true }>;

/**
 * The backend's stream, translated event by event; what one upstream chunk yields goes in one write, with
 * backpressure. Events rather than an async iterator: this runs for every chunk of every answer.
 */
function stream(res: ServerResponse, up: Up, t: Ok, onBytes: (n: number) => void, client: ClientState): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...CODEX_HEADER });
  res.flushHeaders();
  const parser = new SseParser();
  const x = DIRECTION.stream({ model: t.model, names: t.names });
  const body = up.body;
  return new Promise((resolve) => {
    let over = false;
    let waiting = false;
    const frames = (events: ReturnType<typeof x.push>) => {
      let text = '';
      for (const e of events) text += sseFrame(e.type, e);
      if (text) onBytes(Buffer.byteLength(text));
      return text;
    };
    // The answer ends with its last events in one write. A body that ended by itself is not destroyed: undici
    // builds an error with a stack for that, which cost 8 % of serve's CPU under load.
    const finish = (tail: ReturnType<typeof x.push>, destroy: boolean) => {
      if (over) return;
      over = true;
      client.finished = true;
      if (!res.destroyed) res.end(frames(tail));
      if (destroy) body.destroy();
      resolve();
    };
    // read() takes everything buffered at once: a burst of upstream events becomes one write.
    const pump = () => {
      if (waiting) return;
      const out: ReturnType<typeof x.push> = [];
      let chunk: Buffer | null;
      while ((chunk = body.read() as Buffer | null) !== null) {
        if (over) continue; // read on to the end, so that the body ends by itself
        for (const e of parser.push(chunk)) out.push(...x.push(e));
      }
      if (over) return;
      if (x.done) return finish(out, false);
      const text = frames(out);
      if (text && !res.write(text)) {
        waiting = true;
        res.once('drain', () => {
          waiting = false;
          pump();
        });
      }
    };
    body.on('readable', pump);
    body.once('end', () => finish([...parser.end().flatMap((e) => x.push(e)), ...x.end()], false));
    // the upstream connection broke mid-stream: the client hears it as an error event, not as a short answer
    body.once('error', () => (client.left ? ((over = true), resolve()) : finish(x.end(), true)));
    res.once('close', () => {
      if (!over) {
        over = true;
        body.destroy();
        resolve();
      }
    });
  });
}

/** A caller that did not ask for a stream: the whole stream read, then one message. */
async function whole(res: ServerResponse, up: Up, t: Ok, onBytes: (n: number) => void, client: ClientState): Promise<void> {
  const parser = new SseParser();
  const x = DIRECTION.stream({ model: t.model, names: t.names });
  const events: ReturnType<typeof x.push> = [];
  try {
    for await (const chunk of up.body) events.push(...parser.push(chunk).flatMap((e) => x.push(e)));
    events.push(...parser.end().flatMap((e) => x.push(e)), ...x.end());
  } catch {
    if (client.left) return;
    events.push(...x.end());
  }
  const m = DIRECTION.assemble(events);
  const status = m.ok ? 200 : m.error.type === 'rate_limit_error' ? 429 : m.error.type === 'overloaded_error' ? 529 : m.error.type === 'invalid_request_error' ? 400 : 502;
  const text = JSON.stringify(m.ok ? m.message : { type: 'error', error: m.error });
  onBytes(Buffer.byteLength(text));
  client.finished = true;
  res.writeHead(status, { 'content-type': 'application/json', ...CODEX_HEADER });
  res.end(text);
}

/** An estimate (about four characters a token): the backend has no counting endpoint. */
function countTokens(res: ServerResponse, doc: any): void {
  const chars = JSON.stringify([doc.system ?? '', doc.messages ?? [], doc.tools ?? []]).length;
  res.writeHead(200, { 'content-type': 'application/json', 'x-refresher-estimate': 'chars/4', ...CODEX_HEADER });
  res.end(JSON.stringify({ input_tokens: Math.ceil(chars / 4) }));
}

/** The anthropic models serve can reach (when an account answers), then the codex models the map names. */
async function listModels(s: ServeServer, res: ServerResponse, plain: Exchange, anthropic: Account[], facts: { sessionId: string | null }, client: ClientState, onAccount: (id: string) => void): Promise<void> {
  const models = s.cfg.serve.models as ModelMap;
  const mapped = [...new Set(Object.values(models).map((m) => m.model))].map((id) => ({ type: 'model', id, display_name: `${id} (codex, through refresher)`, created_at: '1970-01-01T00:00:00Z' }));
  let upstream: any[] = [];
  if (anthropic.length) {
    await s.attempt(res, { ...plain, deliver: async (up, status) => void (status === 200 ? (upstream = ((await up.body.json().catch(() => ({}))) as any).data ?? []) : await up.body.text()) }, anthropic, facts, client, onAccount);
  }
  const data = [...upstream, ...mapped.filter((m) => !upstream.some((u) => u.id === m.id))];
  sendJson(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null });
}
