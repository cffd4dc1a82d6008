import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Account, Provider } from '../model/types.js';
import type { Unavailable } from './pool.js';

/**
 * What `serve` does to the bytes on the wire: which headers cross, which credentials go on, how a body is piped,
 * and the answers serve gives itself, in the provider's own error shapes.
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
/** the client's own credentials, and what undici sets for the upstream connection itself */
const NOT_FORWARDED = new Set(['authorization', 'x-api-key', 'cookie', 'host', 'content-length']);

/** Headers less what belongs to one connection (in either direction): hop-by-hop, what `connection` names, proxy-*. */
export function endToEnd(headers: Record<string, string | string[] | undefined>, drop: (k: string) => boolean = () => false): Record<string, string> {
  // `connection` usually says only keep-alive or close, which are not header names: no set to build then.
  const conn = headers.connection;
  const named = conn && !/^\s*(keep-alive|close)\s*$/i.test(String(conn)) ? new Set(String(conn).toLowerCase().split(',').map((s) => s.trim())) : null;
  const out: Record<string, string> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || named?.has(k) || k.startsWith('proxy-') || drop(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** An upstream base (`https://host/prefix`), parsed once: the client's path and query are appended unchanged. */
const bases = new Map<string, { origin: string; prefix: string }>();
export function upstreamOf(base: string): { origin: string; prefix: string } {
  let b = bases.get(base);
  if (!b) {
    const u = new URL(base);
    b = { origin: u.origin, prefix: u.pathname.replace(/\/+$/, '') };
    bases.set(base, b);
  }
  return b;
}

/** The client's headers as they go upstream: end to end, less its own credentials and our control headers. */
export const forwardedHeaders = (req: IncomingMessage) => endToEnd(req.headers, (k) => NOT_FORWARDED.has(k) || k.startsWith('x-refresher-'));

export interface Route {
  provider: Provider;
  /** the path to append to the upstream base (query included) */
  rest: string;
}

/** Which provider a request path belongs to: `/v1/*` anthropic, `/codex/*` codex, `/grok/*` grok. */
export function route(url: string): Route | null {
  if (url.startsWith('/v1/')) return { provider: 'anthropic', rest: url };
  if (url.startsWith('/codex/')) return { provider: 'codex', rest: url.slice('/codex'.length) };
  if (url.startsWith('/grok/')) return { provider: 'grok', rest: url.slice('/grok'.length) };
  return null;
}

/** where Claude Code and the Codex CLI say which conversation a request belongs to */
const SESSION_HEADERS = ['x-claude-code-session-id', 'session_id', 'session-id'];

/** What a request says about itself that serve acts on: its headers to forward, its session, a pinned account. */
export function requestFacts(req: IncomingMessage): { client: Record<string, string>; sessionId: string | null; pin: string | null } {
  const sessionId = SESSION_HEADERS.map((h) => req.headers[h]).find((v): v is string => typeof v === 'string' && v.length > 0) ?? null;
  const pin = typeof req.headers['x-refresher-account'] === 'string' ? req.headers['x-refresher-account'] : null;
  return { client: forwardedHeaders(req), sessionId, pin };
}

export function credentialHeaders(a: Account, client: Record<string, string>): Record<string, string> {
  if (a.provider === 'grok') return { cookie: a.credentials.ssoRw ? `sso=${a.credentials.sso}; sso-rw=${a.credentials.ssoRw}` : `sso=${a.credentials.sso}` };
  const h: Record<string, string> = { authorization: `Bearer ${a.credentials.accessToken}` };
  if (a.provider === 'anthropic') {
    const beta = (client['anthropic-beta'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    h['anthropic-beta'] = [...new Set([...beta, 'oauth-2025-04-20'])].join(',');
  } else if (a.credentials.accountId) h['chatgpt-account-id'] = a.credentials.accountId;
  return h;
}

/**
 * The upstream body to the client as it arrives, with backpressure. The chunk that completes a body of known
 * length goes out with the end of the response: headers, body and end in one write. After the first byte
 * there is no failover: an error mid-stream ends the client's stream.
 */
export function pipeBody(body: Readable, res: ServerResponse, contentLength: string | undefined, onBytes: (n: number) => void, onFinish: () => void): Promise<void> {
  const length = contentLength === undefined ? -1 : Number(contentLength);
  let got = 0;
  return new Promise((resolve) => {
    const finish = (chunk?: Buffer) => {
      if (res.writableEnded) return;
      onFinish();
      res.end(chunk);
      resolve();
    };
    // read() hands over everything buffered at once: a fast upstream and a slow client make few large writes,
    // and nothing waits for more to arrive.
    // Read on past the end of the response, so that the body itself ends.
    let waiting = false;
    const pump = () => {
      if (waiting) return;
      let chunk: Buffer | null;
      while ((chunk = body.read() as Buffer | null) !== null) {
        if (res.writableEnded) continue;
        got += chunk.length;
        onBytes(chunk.length);
        if (got === length) {
          finish(chunk);
          continue;
        }
        if (!res.write(chunk)) {
          waiting = true;
          res.once('drain', () => {
            waiting = false;
            pump();
          });
          return;
        }
      }
    };
    body.on('readable', pump);
    body.once('end', () => finish());
    body.once('error', () => {
      res.destroy();
      resolve();
    });
    res.once('close', () => {
      if (!res.writableFinished) body.destroy();
      resolve();
    });
  });
}

/** Seconds until `at` for a `retry-after` (at least 1; a minute when unknown). */
export const secondsUntil = (at: number | null, now: number) => (at ? Math.max(1, Math.ceil((at - now) / 1000)) : 60);

/** That no account can take the request, in the provider's own error shape; a 429 says when to come back. */
export function sendUnavailable(provider: Provider, res: ServerResponse, u: Unavailable, now: number): void {
  if (u.status !== 429) return void sendJson(res, u.status, errorDoc(u.status, provider, `refresher serve: ${u.message}`));
  const secs = secondsUntil(u.retryAt, now);
  const message = `refresher serve: ${u.message}; usable again in ${secs} s`;
  const body =
    provider === 'anthropic'
      ? { type: 'error', error: { type: 'rate_limit_error', message } }
      : provider === 'codex'
        ? { error: { type: 'usage_limit_reached', message, resets_in_seconds: secs } }
        : { code: 8, message };
  const text = JSON.stringify(body);
  // set apart from writeHead so that the log line can read it back (getHeader does not see writeHead's headers)
  res.setHeader('content-length', Buffer.byteLength(text));
  res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(secs) });
  res.end(text);
}

const ERROR_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error', 409: 'invalid_request_error' };

/** An error of our own in the provider's shape (anthropic's `{type: 'error', error}`, else `{error}`). */
function errorDoc(status: number, provider: Provider, message: string): object {
  const error = { type: ERROR_TYPES[status] ?? 'api_error', message };
  return provider === 'anthropic' ? { type: 'error', error } : { error };
}

/** An answer of our own, in the provider's error shape, for when no upstream answer can be passed on. */
export function synthetic(status: number, provider: Provider, message: string): { status: number; headers: Record<string, string>; text: string } {
  return { status, headers: { 'content-type': 'application/json' }, text: JSON.stringify(errorDoc(status, provider, message)) };
}

export function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  const text = JSON.stringify(doc);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

export const isLoopback = (addr: string | undefined) => !!addr && (addr === '::1' || addr.startsWith('127.') || addr === '::ffff:127.0.0.1');

/** A plain HTTP answer on a connection that asked for an upgrade (the client falls back to HTTPS), then close. */
export function refuseUpgrade(socket: Duplex, status: number, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { type: status === 401 ? 'authentication_error' : status === 429 ? 'usage_limit_reached' : 'api_error', message } });
  answerUpgrade(socket, status, 'application/json', body, extra);
}

/** An HTTP answer with this body on a connection that asked for an upgrade (ours, or the upstream's refusal), then close. */
export function answerUpgrade(socket: Duplex, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, `content-type: ${contentType}`, `content-length: ${Buffer.byteLength(body)}`, 'connection: close', ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * The upstream's 101 to the client as it came (its connection and upgrade headers are the handshake), then the
 * bytes both ways until either side closes, which closes the other.
 */
export function splice(client: Duplex, head: Buffer, up: Duplex, headers: Record<string, string | string[] | undefined>, onBytes: (n: number) => void): Promise<void> {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (const [k, v] of Object.entries(headers)) for (const x of v === undefined ? [] : Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`);
  client.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length) up.write(head);
  up.on('data', (d: Buffer) => onBytes(d.length));
  up.pipe(client);
  client.pipe(up);
  return new Promise((resolve) => {
    const end = () => {
      client.destroy();
      up.destroy();
      resolve();
    };
    // A WebSocket has no use for a half-close, and the server's sockets allow one (so a client that exited would
    // keep the tunnel open until shutdown): an end from either side, a close or an error ends both, once the
    // pipe has passed on what came before it.
    const ends = (s: Duplex, other: Duplex) => s.once('end', () => other.end(end)).once('close', end).once('error', end);
    ends(client, up);
    ends(up, client);
  });
}
