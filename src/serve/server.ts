import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Account, Provider } from '../model/types.js';
import type { Dispatcher } from 'undici';
import { dispatcherFor } from '../net/dispatcher.js';
import { chooseProxy } from '../net/proxy.js';
import { retryAtFrom } from '../providers/rate-limits.js';
import type { AccountStore } from '../store/store.js';
import { version } from '../version.js';
import { AccountPool } from './pool.js';
import { endToEnd, isLoopback, requestFacts, route, sendJson, sendUnavailable, synthetic, upstreamOf } from './wire.js';
import { clientState, plainExchange, type AttemptResult, type ClientState, type Exchange, type Failure } from './exchange.js';
import { claudeRequest, serveClaude } from './claude-on-codex.js';
import { Recorder } from './recorder.js';
import { watchCooling } from './watch.js';
import { tunnel, type TunnelHost } from './tunnel.js';

/**
 * `refresher serve`: forwards bytes to the upstream, puts one account's credentials on them, and learns from
 * the response headers. No translation, no cache. Failover happens only before the first byte reaches the
 * client.
 */
const DEFAULT_COOLDOWN_MS = 60_000;
/** an access token this close to its expiry is refreshed before it is used */
const FRESH_MARGIN_MS = 60_000;

/** Whether the account's access token will last a request (grok's cookies have no expiry here). */
const tokenLasts = (a: Account) =>
  a.provider === 'grok' || (!!a.credentials.accessToken && (a.credentials.expiresAt === null || a.credentials.expiresAt > Date.now() + FRESH_MARGIN_MS));

export interface ServeOptions {
  store: AccountStore;
  cfg: Config;
  log: Logger;
  host: string;
  port: number;
  /** client keys; empty = none required (loopback only) */
  keys: string[];
}

export class ServeServer implements TunnelHost {
  readonly pool: AccountPool;
  readonly recorder: Recorder;
  private server: Server | null = null;
  private readonly refreshing = new Map<string, Promise<Account | null>>();
  private inFlight = 0;
  /** upgraded connections (WebSockets), which closing the server leaves open */
  private readonly tunnels = new Set<Duplex>();
  private stopWatch: () => void = () => undefined;

  constructor(private readonly o: ServeOptions) {
    this.pool = new AccountPool(o.store);
    this.recorder = new Recorder(o.store, o.log);
  }

  get cfg(): Config {
    return this.o.cfg;
  }

  get log(): Logger {
    return this.o.log;
  }

  track(socket: Duplex): void {
    this.inFlight++;
    this.tunnels.add(socket);
    socket.once('close', () => {
      this.inFlight--;
      this.tunnels.delete(socket);
    });
  }

  async listen(): Promise<string> {
    this.pool.sync();
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void tunnel(this, req, socket, head));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.o.port, this.o.host, resolve);
    });
    this.stopWatch = watchCooling({ store: this.o.store, cfg: this.o.cfg, log: this.o.log, accounts: () => (this.pool.sync(), this.pool.all()), cooldownUntil: (a) => this.pool.cooldownUntil(a) });
    const addr = this.server.address() as AddressInfo;
    return `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }

  /** Stop accepting; let streams in flight finish for up to graceMs; write what was learned. */
  async close(graceMs = 10_000): Promise<void> {
    this.stopWatch();
    const s = this.server;
    if (s) {
      s.close();
      const until = Date.now() + graceMs;
      while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      s.closeAllConnections();
      for (const t of this.tunnels) t.destroy();
    }
    await this.recorder.flushAll();
    const { closeDispatchers } = await import('../net/dispatcher.js');
    await closeDispatchers();
  }

  authorized(req: IncomingMessage): boolean {
    if (!this.o.keys.length) return true;
    const given = String(req.headers['x-api-key'] ?? String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    const g = Buffer.from(given);
    return this.o.keys.some((k) => {
      const b = Buffer.from(k);
      return b.length === g.length && timingSafeEqual(b, g);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    this.inFlight++;
    let accountId = '-';
    let bytes = 0;
    let via = '';
    res.on('close', () => {
      this.inFlight--;
      const path = (req.url ?? '/').split('?')[0];
      // What really happened: a client that left is not a 200 (its status line may never have been written).
      const outcome = res.writableFinished ? String(res.statusCode) : res.headersSent ? `${res.statusCode} client gone mid-answer` : 'client gone before the answer';
      // an answer serve made itself (health, refusals) was not counted as it streamed: its length was set
      const size = bytes || (res.writableFinished ? Number(res.getHeader('content-length') ?? 0) : 0);
      this.o.log.info(`[serve] ${req.method} ${path} ${accountId} ${outcome} ${Date.now() - started}ms ${size}B${via}`);
    });
    try {
      const url = req.url ?? '/';
      if (!this.authorized(req)) return sendJson(res, 401, { error: { type: 'authentication_error', message: 'refresher serve: a client key is required (x-api-key or Authorization: Bearer)' } });
      this.pool.sync();
      if (url === '/health') {
        const now = Date.now();
        const all = this.pool.all();
        return sendJson(res, 200, { status: 'ok', version: version(), accounts: { total: all.length, available: all.filter((a) => this.pool.eligible(a, a.provider, now)).length } });
      }
      if (url === '/status') {
        if (!isLoopback(req.socket.remoteAddress)) return sendJson(res, 403, { error: { message: '/status answers loopback clients only' } });
        const { statusRows } = await import('../render/views.js');
        return sendJson(res, 200, statusRows(this.pool.all(), this.o.cfg, Date.now(), null));
      }
      const r = route(url);
      if (!r) return sendJson(res, 404, { error: { type: 'not_found_error', message: 'refresher serve: use /v1/* (anthropic), /codex/* or /grok/*' } });
      const body = await this.readBody(req, res);
      if (body === null) return;
      const facts = requestFacts(req);
      const client = clientState(res);
      const onAccount = (id: string) => (accountId = id);
      const onBytes = (n: number) => (bytes += n);
      const plain = plainExchange(req, r, body, facts.client, res, onBytes, client);
      const claude = r.provider === 'anthropic' ? claudeRequest(this.o.cfg.serve.codexForClaude, req.method ?? 'GET', url, body) : null;
      if (claude) return void (await serveClaude(this, res, claude, plain, facts, client, onAccount, onBytes, () => (via = ' via codex')));
      const now = Date.now();
      const candidates = this.pool.choose(r.provider, now, facts);
      if (!candidates.length) return sendUnavailable(r.provider, res, this.pool.unavailable(r.provider, facts.pin, now), now);
      const done = await this.attempt(res, plain, candidates, facts, client, onAccount);
      if (!done.sent) this.answerFailure(res, r.provider, done.lastFailure);
    } catch (e) {
      if (!res.headersSent) sendJson(res, 502, { error: { type: 'api_error', message: `refresher serve: ${(e as Error).message}` } });
      else res.destroy();
    }
  }

  /** The request body, buffered (failover must be able to send it again), up to the cap; null after a 413. */
  private readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | null> {
    // Events rather than an async iterator: this runs for every request.
    const cap = this.o.cfg.serve.maxBodyBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > cap) {
          sendJson(res, 413, { error: { type: 'request_too_large', message: `the request body is over ${cap / 1024 / 1024} MiB` } });
          req.destroy();
          resolve(null);
        } else chunks.push(c);
      });
      req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  /** The account with an access token that will last the request: refreshed first when it would not; null if that fails. */
  usable(a: Account): Promise<Account | null> {
    return tokenLasts(a) ? Promise.resolve(a) : this.fresh(a, null);
  }

  /** A token that works now: the file's, if another process refreshed; else one refresh, shared by every waiter. */
  private fresh(a: Account, rejected: string | null): Promise<Account | null> {
    let p = this.refreshing.get(a.id);
    if (!p) {
      p = this.refresh(a, rejected).finally(() => this.refreshing.delete(a.id));
      this.refreshing.set(a.id, p);
    }
    return p;
  }

  private async refresh(a: Account, rejected: string | null): Promise<Account | null> {
    const { store, cfg, log } = this.o;
    const read = () => {
      const r = store.read(a.id);
      return 'account' in r ? r.account : null;
    };
    const cur = read();
    if (!cur || cur.provider === 'grok') return cur;
    if (tokenLasts(cur) && cur.credentials.accessToken !== rejected) return cur;
    if (!cur.credentials.refreshToken) return null;
    const { Runner } = await import('../core/runner.js');
    const report = await new Runner({ store, cfg, log, now: () => Date.now(), waitForLockMs: 30_000, tag: '[serve]', embedded: true }).run(
      [{ id: a.id, actions: [{ account: a.id, action: 'token', reason: rejected ? 'the upstream refused the access token' : 'the access token is about to expire' }], forced: true }],
      [cur],
    );
    const after = read();
    if (after) this.pool.replace({ ...after, recovery: null });
    return report.actions.every((x) => x.ok) && after && tokenLasts(after) ? after : null;
  }

  /**
   * Tries the provider's accounts in turn with one exchange: a 401 refreshes once and retries, a 429/529 cools
   * the account to its reset and moves on, an unreachable upstream moves on. Anything else is the answer, and
   * goes to the client through the exchange. False when no account gave one (nothing was sent).
   */
  async attempt(res: ServerResponse, ex: Exchange, candidates: Account[], facts: { sessionId: string | null }, client: ClientState, onAccount: (id: string) => void): Promise<AttemptResult> {
    const { cfg } = this.o;
    let lastFailure: Failure | null = null;
    for (const candidate of candidates.slice(0, cfg.serve.maxAttempts)) {
      if (client.left) break;
      let a: Account = candidate;
      onAccount(a.id);
      const ready = await this.usable(a);
      if (!ready) {
        lastFailure = synthetic(401, ex.provider, `refresher serve: the token of ${a.id} could not be refreshed; see refresher status`);
        continue;
      }
      a = ready;
      for (let retry401 = 0; ; retry401++) {
        const base = a.endpoint ?? cfg.providers[ex.provider].apiBase;
        const dispatcher = await dispatcherFor(chooseProxy(a, cfg).url, cfg.timeoutMs);
        let up: Dispatcher.ResponseData;
        try {
          const target = upstreamOf(base);
          up = await dispatcher.request({
            origin: target.origin,
            path: target.prefix + ex.path,
            method: ex.method as 'GET',
            headers: ex.headers(a),
            body: ex.body,
            signal: client.gone,
            headersTimeout: cfg.serve.headersTimeoutMs,
            bodyTimeout: cfg.serve.idleTimeoutMs,
          });
        } catch (e) {
          if (client.left) return { sent: true };
          // A path undici will not send (the client's own doing) is the client's error, not the account's.
          if ((e as { code?: string }).code === 'UND_ERR_INVALID_ARG') {
            sendJson(res, 400, { error: { type: 'invalid_request_error', message: `refresher serve: ${(e as Error).message}` } });
            return { sent: true };
          }
          this.o.log.warn(`[serve] ${a.id}: ${(e as Error).message}; trying the next account`);
          lastFailure = synthetic(502, ex.provider, `refresher serve: the upstream could not be reached for ${a.id}`);
          break;
        }
        const status = up.statusCode;
        // The answer's headers as they go to the client (its own length passes: no chunked re-encoding).
        const headers = endToEnd(up.headers as Record<string, string | string[] | undefined>);
        const at = Date.now();
        if (status === 401 && a.provider !== 'grok') {
          // Refresh once and retry on the same account; refused again, move on.
          const text = await up.body.text().catch(() => '');
          lastFailure = { status, headers, text };
          const next = retry401 === 0 ? await this.fresh(a, a.credentials.accessToken) : null;
          if (next) {
            a = next;
            continue;
          }
          break;
        }
        if (status === 429 || status === 529) {
          const text = await up.body.text().catch(() => '');
          this.coolDown(a.id, ex.provider, status, headers, text, at);
          lastFailure = { status, headers, text };
          break;
        }
        // Anything else goes to the client: a 400 or 403 about the request would be the same elsewhere.
        this.pool.noteUse(a.id, at, facts.sessionId);
        this.recorder.note(a.id, ex.provider, { lastUsedAt: at, headers });
        await ex.deliver(up, status, headers);
        return { sent: true };
      }
    }
    return client.left ? { sent: true } : { sent: false, lastFailure };
  }

  /**
   * An account the upstream refused for its limits (429/529) cools down until the reset the answer names, never
   * longer; without one, a minute. In the file too, so that tick, status and other serve processes see it.
   */
  coolDown(id: string, provider: Provider, status: number, headers: Record<string, string>, text: string, at: number): void {
    const until = retryAtFrom(provider, status, headers, text, at) ?? at + DEFAULT_COOLDOWN_MS;
    this.pool.setCooldown(id, until);
    this.recorder.note(id, provider, { lastUsedAt: at, headers, cooldownUntil: until });
  }

  /** Nothing worked: if an account is cooling down, say when to come back; else pass on the last answer. */
  answerFailure(res: ServerResponse, provider: Provider, lastFailure: Failure | null): void {
    const after = this.pool.unavailable(provider, null, Date.now());
    if (after.status !== 429 && lastFailure) {
      res.writeHead(lastFailure.status, { 'content-type': lastFailure.headers['content-type'] ?? 'application/json' });
      return void res.end(lastFailure.text);
    }
    return sendUnavailable(provider, res, after, Date.now());
  }
}
