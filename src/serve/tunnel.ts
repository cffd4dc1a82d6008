import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Account, Provider } from '../model/types.js';
import { dispatcherFor } from '../net/dispatcher.js';
import { chooseProxy } from '../net/proxy.js';
import type { AccountPool } from './pool.js';
import type { Recorder } from './recorder.js';
import { upgradeOrRefusal } from './upgrade.js';
import { answerUpgrade, credentialHeaders, endToEnd, refuseUpgrade, requestFacts, route, secondsUntil, splice, upstreamOf } from './wire.js';

/** What a tunnel needs of the server it belongs to. */
export interface TunnelHost {
  readonly pool: AccountPool;
  readonly recorder: Recorder;
  readonly cfg: Config;
  readonly log: Logger;
  authorized(req: IncomingMessage): boolean;
  usable(a: Account): Promise<Account | null>;
  /** the account cools down to the reset a 429/529 names, in memory and in its file */
  coolDown(id: string, provider: Provider, status: number, headers: Record<string, string>, text: string, at: number): void;
  /** counts the connection as in flight (shutdown waits for it, then closes it) until it closes */
  track(socket: Duplex): void;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * A WebSocket (the Codex CLI tries one before HTTPS): the same choice of account, credentials and refresh as a
 * request, then a tunnel. No failover once it is open; an upstream that refuses the upgrade moves on to the
 * next account, and when none takes it the client gets a plain answer and falls back to HTTPS.
 */
export async function tunnel(host: TunnelHost, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { pool, cfg, log } = host;
  const started = Date.now();
  let accountId = '-';
  let status = 101;
  let bytes = 0;
  socket.on('error', () => undefined);
  host.track(socket);
  socket.once('close', () => log.info(`[serve] ${req.method} ${(req.url ?? '/').split('?')[0]} ${accountId} ${status} ${Date.now() - started}ms ${bytes}B`));
  const refuse = (code: number, message: string, extra?: Record<string, string>) => refuseUpgrade(socket, (status = code), `refresher serve: ${message}`, extra);
  if (!host.authorized(req)) return refuse(401, 'a client key is required (x-api-key or Authorization: Bearer)');
  pool.sync();
  const r = route(req.url ?? '/');
  if (!r) return refuse(404, 'use /v1/* (anthropic), /codex/* or /grok/*');
  const { client, sessionId, pin } = requestFacts(req);
  const now = Date.now();
  const candidates = pool.choose(r.provider, now, { sessionId, pin }).slice(0, cfg.serve.maxAttempts);
  if (!candidates.length) {
    const u = pool.unavailable(r.provider, pin, now);
    return refuse(u.status, u.message, u.status === 429 ? { 'retry-after': String(secondsUntil(u.retryAt, now)) } : {});
  }
  const gone = new EventEmitter();
  socket.once('close', () => gone.emit('abort'));
  let refusal: { status: number; headers: Record<string, string | string[]>; body: string } | null = null;
  for (const candidate of candidates) {
    accountId = candidate.id;
    const a = await host.usable(candidate);
    if (!a) continue;
    const target = upstreamOf(a.endpoint ?? cfg.providers[r.provider].apiBase);
    try {
      const dispatcher = await dispatcherFor(chooseProxy(a, cfg).url, cfg.timeoutMs);
      const up = await upgradeOrRefusal(dispatcher, { origin: target.origin, path: target.prefix + r.rest, method: req.method ?? 'GET', headers: { ...client, ...credentialHeaders(a, client) }, protocol: String(req.headers.upgrade ?? 'websocket'), signal: gone });
      const at = Date.now();
      if (!up.ok) {
        refusal = up;
        // Only a refusal about the account is a reason to try another: its token (401) or its limits (429).
        if (up.status === 429) host.coolDown(a.id, r.provider, 429, endToEnd(up.headers as Headers), up.body, at);
        if (up.status === 401 || up.status === 429) {
          log.warn(`[serve] ${a.id}: the upstream refused the WebSocket with ${up.status}; trying the next account`);
          continue;
        }
        break;
      }
      pool.noteUse(a.id, at, sessionId);
      host.recorder.note(a.id, r.provider, { lastUsedAt: at, headers: endToEnd(up.headers as Headers) });
      return await splice(socket, head, up.socket, up.headers as Headers, (n) => (bytes += n));
    } catch (e) {
      if (socket.destroyed) return;
      log.warn(`[serve] ${a.id}: the upstream did not take the WebSocket (${(e as Error).message}); trying the next account`);
    }
  }
  // The upstream's own refusal, as it came (a 426 stays a 426: the client falls back to HTTPS at once).
  if (refusal && refusal.status !== 429 && refusal.status !== 401) return answerUpgrade(socket, (status = refusal.status), String(refusal.headers['content-type'] ?? 'application/json'), refusal.body);
  const u = pool.unavailable(r.provider, null, Date.now());
  if (u.status === 429) return refuse(429, u.message, { 'retry-after': String(secondsUntil(u.retryAt, Date.now())) });
  refuse(refusal?.status ?? 502, `no ${r.provider} account tried could open this WebSocket upstream; use HTTPS`);
}

