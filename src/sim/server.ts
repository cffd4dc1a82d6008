import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { drainOrClose } from '../util/drain.js';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptWebSocket } from './websocket.js';
import { codexCliRoute } from './codex-cli.js';
import { decodeBody } from './encoding.js';
import { CODEX_RESPONSES_PATH, codexResponses } from './codex-responses.js';
import { SimState, type SimOAuthAccount, type SimProvider } from './state.js';

/**
 * One local HTTP server that behaves like the three upstreams in providers.md: anthropic (token, messages,
 * usage), codex (token, wham/usage) and grok (rate-limits). Faults can be scripted per path, and every
 * request is logged for assertions. Used by the tests, the benchmarks and `refresher demo`.
 */
export interface Fault {
  status?: number;
  body?: string | object;
  headers?: Record<string, string>;
  delayMs?: number;
  /** destroy the connection instead of answering */
  reset?: boolean;
  /** answer 200 headers at once, then one byte of body every this many ms, for ever (a trickling answer) */
  trickleMs?: number;
  /** answer 200 with this many bytes of server-sent events, as fast as the reader takes them (benchmarks) */
  streamBytes?: number;
  /** how many requests it applies to (default 1; Infinity for all) */
  times?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** the body decoded (a zstd or gzip body as the backend reads it) */
  body: string;
  at: number;
  status?: number;
  /** when the connection of a trickling answer closed (the client, or a proxy, went away) */
  closedAt?: number;
}

export const SIM_PATHS = {
  anthropicToken: '/v1/oauth/token',
  codexToken: '/oauth/token',
  messages: '/v1/messages',
  anthropicUsage: '/api/oauth/usage',
  wham: '/backend-api/wham/usage',
  grokRateLimits: '/rest/rate-limits',
  anthropicAuthorize: '/anthropic/oauth/authorize',
  codexAuthorize: '/oauth/authorize',
} as const;

/** the only redirect URI registered for Claude Code's client id */
export const ANTHROPIC_REDIRECT_URI = 'https://platform.claude.com/oauth/code/callback';
/** the modelName values current grok clients send to rest/rate-limits */
const GROK_MODELS = new Set(['auto', 'fast', 'expert', 'heavy']);
/**
 * How the simulator decides that an OAuth request comes from Claude Code, for accounts where the third-party
 * policy is on. The service's real rule is not public; this is what it plausibly checks, from what Claude
 * Code sends (providers.md): its user agent, `x-app: cli`, and its beta flag. All three must be there.
 */
export function fromClaudeCode(h: Record<string, string | string[] | undefined>): boolean {
  const beta = String(h['anthropic-beta'] ?? '').split(',').map((s) => s.trim());
  return /^claude-cli\//.test(String(h['user-agent'] ?? '')) && h['x-app'] === 'cli' && beta.includes('claude-code-20250219');
}

export const THIRD_PARTY_REFUSAL = {
  type: 'error',
  error: {
    type: 'invalid_request_error',
    message: 'Third-party apps now draw from your extra usage, not your plan limits. Enable extra usage to continue, or use Claude Code.',
  },
};

const KNOWN_MODELS = new Set(['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1']);
const FIVE_HOURS = 5 * 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


export class Simulator {
  readonly state = new SimState();
  readonly requests: LoggedRequest[] = [];
  /** added to every request before it is handled */
  latencyMs = 0;
  private readonly faults = new Map<string, Fault[]>();
  private server: Server | null = null;
  /** WebSocket connections, which closing the server leaves open */
  private readonly upgraded = new Set<Duplex>();
  url = '';

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      const u = new URL(req.url ?? '/', 'http://sim');
      const entry: LoggedRequest = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body: '', at: Date.now() };
      this.requests.push(entry);
      this.upgraded.add(socket);
      socket.on('close', () => this.upgraded.delete(socket));
      // a scripted status refuses the upgrade, as a usage limit or an outage would
      const f = this.takeFault(u.pathname);
      if (f?.status) {
        const body = JSON.stringify(f.body ?? { error: { type: 'usage_limit_reached', message: 'scripted fault', resets_in_seconds: 60 } });
        entry.status = f.status;
        return void socket.end(`HTTP/1.1 ${f.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
      acceptWebSocket(this.state, req, socket, entry);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const addr = this.server.address() as AddressInfo;
    this.url = `http://${host}:${addr.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    for (const s of this.upgraded) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }

  /** The config that points every provider at this simulator. */
  configYaml(extra = ''): string {
    return [
      'providers:',
      '  anthropic:',
      `    api_base: ${this.url}`,
      `    token_url: ${this.url}${SIM_PATHS.anthropicToken}`,
      `    authorize_url: ${this.url}${SIM_PATHS.anthropicAuthorize}`,
      '  codex:',
      `    api_base: ${this.url}/backend-api`,
      `    token_url: ${this.url}${SIM_PATHS.codexToken}`,
      `    authorize_url: ${this.url}${SIM_PATHS.codexAuthorize}`,
      '  grok:',
      `    api_base: ${this.url}`,
      extra,
    ].join('\n');
  }

  /** Script the next `times` requests to a path (e.g. '/v1/messages') to answer this way. */
  fault(path: string, f: Fault): void {
    this.faults.set(path, [...(this.faults.get(path) ?? []), { times: 1, ...f }]);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  requestsTo(path: string): LoggedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private takeFault(path: string): Fault | null {
    const list = this.faults.get(path);
    const f = list?.[0];
    if (!f) return null;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) list!.shift();
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const parsedUrl = new URL(req.url ?? '/', 'http://sim');
    const path = parsedUrl.pathname;
    const raw = Buffer.concat(chunks);
    const decoded = decodeBody(raw, req.headers['content-encoding'] as string | undefined);
    const entry: LoggedRequest = { method: req.method ?? '', path, query: parsedUrl.searchParams, headers: req.headers, body: (decoded ?? raw).toString('utf8'), at: Date.now() };
    this.requests.push(entry);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      if (res.destroyed) return;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const type = typeof body === 'string' && text.trimStart().startsWith('<') ? 'text/html' : 'application/json';
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(text);
    };
    if (this.latencyMs) await sleep(this.latencyMs);
    const fault = this.takeFault(path);
    if (fault?.delayMs) await sleep(fault.delayMs);
    // A client that gave up (timeout, kill -9) never had its request processed.
    if (res.destroyed || req.socket.destroyed) return;
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.streamBytes) {
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = Buffer.from(`event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', delta: { text: 'x'.repeat(16_000) } })}\n\n`);
      for (let sent = 0; sent < fault.streamBytes && !res.destroyed; sent += chunk.length) {
        if (!res.write(chunk)) await drainOrClose(res);
      }
      res.end();
      return;
    }
    if (fault?.trickleMs) {
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), fault.trickleMs);
      res.on('close', () => {
        clearInterval(timer);
        entry.closedAt = Date.now();
      });
      return;
    }
    if (fault?.status) return send(fault.status, fault.body ?? { error: { type: 'api_error', message: 'scripted fault' } }, fault.headers);
    try {
      this.route(req.method ?? 'GET', path, entry, send, res);
    } catch (e) {
      send(500, { error: { type: 'api_error', message: (e as Error).message } });
    }
  }

  /** The login page: checks the PKCE request, then shows CODE#STATE (anthropic) or redirects (codex). */
  private authorize(provider: SimProvider, req: LoggedRequest, send: (s: number, b: unknown, h?: Record<string, string>) => void): void {
    const q = req.query;
    const clientId = provider === 'anthropic' ? '9d1c250a-e61b-44d9-88ed-5944d1962f5e' : 'app_EMoamEEZ73f0CkXaXp7hrann';
    const redirectUri = q.get('redirect_uri') ?? '';
    const state = q.get('state') ?? '';
    if (q.get('client_id') !== clientId || q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || !state || !redirectUri) {
      return send(400, '<html><body>invalid authorization request</body></html>');
    }
    // The real service knows one redirect URI per client: Claude Code's is platform.claude.com's callback page;
    // the Codex CLI's is a callback on localhost (any port).
    if (provider === 'anthropic' ? redirectUri !== ANTHROPIC_REDIRECT_URI : !/^http:\/\/(localhost|127\.0\.0\.1):\d+\/auth\/callback$/.test(redirectUri)) {
      return send(400, '<html><body>Invalid redirect_uri: not registered for this client</body></html>');
    }
    const code = this.state.authorize(provider, q.get('code_challenge')!, redirectUri, Date.now(), q.get('login_hint') ?? undefined);
    if (provider === 'anthropic') return send(200, `<html><body><p>Paste this code into your terminal:</p><code>${code}#${state}</code></body></html>`);
    const to = new URL(redirectUri);
    to.searchParams.set('code', code);
    to.searchParams.set('state', state);
    send(302, '', { location: to.toString() });
  }

  private route(method: string, path: string, req: LoggedRequest, send: (s: number, b: unknown, h?: Record<string, string>) => void, res: ServerResponse): void {
    const now = Date.now();
    if (method === 'GET' && path === SIM_PATHS.anthropicAuthorize) return this.authorize('anthropic', req, send);
    if (method === 'GET' && path === SIM_PATHS.codexAuthorize) return this.authorize('codex', req, send);
    const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (method === 'POST' && path === SIM_PATHS.anthropicToken) return this.token('anthropic', req, send);
    if (method === 'POST' && path === SIM_PATHS.codexToken) return this.token('codex', req, send);
    if (method === 'POST' && path === SIM_PATHS.messages) {
      const a = this.state.byAccessToken(bearer, now);
      if (!a || a.provider !== 'anthropic') return send(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid bearer token' } });
      const body = JSON.parse(req.body || '{}');
      if (!KNOWN_MODELS.has(body.model)) return send(404, { type: 'error', error: { type: 'not_found_error', message: `model: ${body.model}` } });
      if (a.thirdPartyPolicy === 'all' || (a.thirdPartyPolicy && !fromClaudeCode(req.headers))) return send(400, THIRD_PARTY_REFUSAL);
      if (a.windowResetAt === null || a.windowResetAt <= now) a.windowResetAt = now + FIVE_HOURS;
      a.messages++;
      const reset = String(Math.floor(a.windowResetAt / 1000));
      const message = { id: `msg_${a.messages}`, type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text: '4' }], usage: { input_tokens: 12, output_tokens: 1 } };
      const headers = {
          'anthropic-ratelimit-unified-status': 'allowed',
          'anthropic-ratelimit-unified-reset': reset,
          'anthropic-ratelimit-unified-5h-status': 'allowed',
          'anthropic-ratelimit-unified-5h-reset': reset,
          'anthropic-ratelimit-unified-5h-utilization': '0.01',
          'anthropic-ratelimit-unified-7d-status': 'allowed',
          'anthropic-ratelimit-unified-7d-reset': String(Math.floor((now + 7 * 86_400_000) / 1000)),
          'anthropic-ratelimit-unified-7d-utilization': '0.10',
          'anthropic-ratelimit-unified-representative-claim': 'five_hour',
      };
      return body.stream ? this.stream(res, req, message, headers) : send(200, message, headers);
    }
    if (method === 'GET' && path === SIM_PATHS.anthropicUsage) {
      const a = this.state.byAccessToken(bearer, now);
      if (!a || a.provider !== 'anthropic') return send(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid bearer token' } });
      const resets = new Date(a.windowResetAt ?? now + FIVE_HOURS).toISOString();
      const week = new Date(now + 7 * 86_400_000).toISOString();
      return send(200, {
        five_hour: { utilization: 42.0, resets_at: resets },
        seven_day: { utilization: 10.0, resets_at: week },
        seven_day_opus: { utilization: 12.0, resets_at: week },
        seven_day_sonnet: null,
        seven_day_oauth_apps: { utilization: 3.0, resets_at: week },
        extra_usage: { is_enabled: false, monthly_limit: null, used_credits: null, utilization: null, resets_at: null },
        limits: [{ name: 'seven_day_cowork', utilization: 1.0, resets_at: week }],
      });
    }
    if (method === 'GET' && path === SIM_PATHS.wham) {
      const a = this.state.byAccessToken(bearer, now);
      if (!a || a.provider !== 'codex') return send(401, { detail: 'Unauthorized' });
      if (req.headers['chatgpt-account-id'] !== a.accountId) return send(403, { detail: 'account mismatch' });
      const win = (pct: number, secs: number) => ({ used_percent: pct, limit_window_seconds: secs, reset_after_seconds: secs / 2, reset_at: Math.floor(now / 1000) + secs / 2 });
      // Which window comes first has changed upstream: only limit_window_seconds says which is which.
      const [first, second] = this.state.codexWindowsSwapped ? [win(30, 604800), win(12, 18000)] : [win(12, 18000), win(30, 604800)];
      // The same windows as inference answers carry them in headers.
      const hdr = (which: string, w: ReturnType<typeof win>) => ({
        [`x-codex-${which}-used-percent`]: String(w.used_percent),
        [`x-codex-${which}-window-minutes`]: String(w.limit_window_seconds / 60),
        [`x-codex-${which}-reset-at`]: String(w.reset_at),
      });
      return send(200, { plan_type: a.plan, rate_limit: { allowed: true, limit_reached: false, primary_window: first, secondary_window: second }, credits: null }, { ...hdr('primary', first), ...hdr('secondary', second) });
    }
    if (codexCliRoute(this.state, method, req, send, bearer, now)) return;
    if (method === 'POST' && path === CODEX_RESPONSES_PATH) return codexResponses(this.state, req, send, res, bearer, now);
    if (method === 'POST' && path === SIM_PATHS.grokRateLimits) {
      const cookie = String(req.headers.cookie ?? '');
      const sso = /(?:^|;\s*)sso=([^;]+)/.exec(cookie)?.[1];
      const g = sso ? this.state.grok.get(sso) : undefined;
      if (!g) return send(401, { code: 16, message: 'Unauthenticated' });
      if (g.blocked) return send(403, { code: 7, message: 'User is blocked', details: [] });
      const body = JSON.parse(req.body || '{}');
      // What current clients ask for; older names (grok-3, grok-4-heavy) are refused.
      if (!GROK_MODELS.has(body.modelName)) return send(400, { code: 3, message: 'Invalid model name', details: [] });
      const heavy = body.modelName === 'heavy';
      g.asked++;
      return send(200, {
        ...(this.state.grokOmitWindow ? {} : { windowSizeSeconds: heavy ? 3600 : 7200 }),
        remainingQueries: heavy ? g.heavyRemaining : g.normalRemaining,
        totalQueries: heavy ? 20 : 140,
        lowEffortRateLimits: null,
        highEffortRateLimits: null,
      });
    }
    send(404, { error: { type: 'not_found_error', message: `no route ${method} ${path}` } });
  }

  /** A message as server-sent events, the way the Messages API streams it (Claude Code always streams). */
  private stream(res: ServerResponse, entry: LoggedRequest, message: Record<string, any>, headers: Record<string, string>): void {
    entry.status = 200;
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
    const ev = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    const text = message.content[0].text as string;
    ev('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 0 } } });
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
    ev('content_block_stop', { index: 0 });
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } });
    ev('message_stop', {});
    res.end();
  }

  private token(provider: SimProvider, req: LoggedRequest, send: (s: number, b: unknown) => void): void {
    const type = String(req.headers['content-type'] ?? '');
    const body: Record<string, string> = type.includes('application/x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(req.body))
      : JSON.parse(req.body || '{}');
    if (body.grant_type === 'authorization_code') {
      const x = this.state.exchange(provider, body.code ?? '', body.code_verifier ?? '', body.redirect_uri ?? '', Date.now());
      if (!x) return send(400, { error: 'invalid_grant', error_description: 'Invalid authorization code or code verifier' });
      return this.tokenResponse(provider, x, send);
    }
    if (body.grant_type !== 'refresh_token') return send(400, { error: 'unsupported_grant_type' });
    const r = this.state.refresh(provider, body.refresh_token ?? '', Date.now());
    if (!r.ok) {
      if (provider === 'codex') return send(401, { error: { code: r.reason === 'reused' ? 'refresh_token_reused' : 'refresh_token_invalidated', message: 'Your refresh token is not valid.' } });
      return send(400, { error: 'invalid_grant', error_description: r.reason === 'reused' ? 'Refresh token has already been used' : 'Invalid refresh token' });
    }
    this.tokenResponse(provider, r, send);
  }

  private tokenResponse(provider: SimProvider, r: { account: SimOAuthAccount; accessToken: string; refreshToken: string }, send: (s: number, b: unknown) => void): void {
    const a = r.account;
    if (provider === 'anthropic') {
      return send(200, {
        access_token: r.accessToken,
        refresh_token: r.refreshToken,
        token_type: 'Bearer',
        expires_in: this.state.anthropicTtlS,
        account: { uuid: a.accountId, email_address: a.email },
        organization: { uuid: 'org-1', name: 'Sim Org' },
      });
    }
    send(200, { id_token: this.state.idToken(a, Date.now()), access_token: r.accessToken, refresh_token: r.refreshToken });
  }
}
