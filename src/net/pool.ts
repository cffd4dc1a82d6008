import type { Config } from '../config/types.js';
import { proxyProblem } from '../model/urls.js';
import type { Logger } from '../log.js';
import { redactUrl } from '../util/secrets.js';
import { userAgent } from '../version.js';
import { sendOnce } from './http.js';

/** GET proxy_pool_url: the proxy URL is the trimmed text body. socks5:// becomes socks5h:// (remote DNS). */
export async function fetchPoolProxy(poolUrl: string, timeoutMs: number): Promise<string> {
  const res = await sendOnce({ method: 'GET', url: poolUrl, headers: { 'user-agent': userAgent() } }, { timeoutMs, proxy: null });
  if (res.status !== 200) throw new Error(`answered HTTP ${res.status}`);
  const text = res.text.trim();
  const problem = text.length > 2048 || /\s/.test(text) ? 'not a single URL' : proxyProblem(text);
  if (problem || text === 'direct') throw new Error(`answered something that is not a proxy URL (${problem ?? 'direct'})`);
  return text.replace(/^socks5:\/\//i, 'socks5h://');
}

/** Where the pool's last answer is shared between processes; the caller (the store) provides it. */
export interface PoolCache {
  read(pool: string): { url: string; fetchedAt: number } | null;
  write(entry: { pool: string; url: string; fetchedAt: number }): void;
  /** runs fn under a cross-process lock, so that ten ticks in one interval ask the pool once */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * The pool as one tick sees it: asked at most once per process and once per `proxy_pool_interval` across
 * processes (the answer is cached in the home), and asked again after a block of the current proxy. When
 * the pool fails, accounts fall back to proxy_url (or direct), and the log says so.
 */
export class ProxyPool {
  private current: Promise<string | null> | null = null;
  private replacing = new Map<string, Promise<string | null>>();

  constructor(private readonly o: { cache: PoolCache; cfg: Config; log: Logger; now: () => number }) {}

  get(): Promise<string | null> {
    this.current ??= this.load(null);
    return this.current;
  }

  /** After `bad` was blocked: a fresh proxy, unless another worker or process already moved on. */
  replace(bad: string): Promise<string | null> {
    let p = this.replacing.get(bad);
    if (!p) {
      p = this.load(bad);
      this.replacing.set(bad, p);
      this.current = p;
    }
    return p;
  }

  private async load(bad: string | null): Promise<string | null> {
    const { cache, cfg, log } = this.o;
    const pool = cfg.proxyPoolUrl!;
    const fresh = () => {
      const e = cache.read(pool);
      return e && this.o.now() - e.fetchedAt < cfg.proxyPoolIntervalS * 1000 && e.url !== bad ? e.url : null;
    };
    const cached = fresh();
    if (cached) return cached;
    try {
      return await cache.withLock(async () => {
        const again = fresh();
        if (again) return again;
        const url = await fetchPoolProxy(pool, cfg.timeoutMs);
        cache.write({ pool, url, fetchedAt: this.o.now() });
        log.info(`[tick] proxy pool gave ${redactUrl(url)}${bad ? ` (replacing blocked ${redactUrl(bad)})` : ''}`);
        return url;
      });
    } catch (e) {
      const fallback = cfg.proxyUrl ? `proxy_url ${redactUrl(cfg.proxyUrl)}` : 'a direct connection';
      log.warn(`[tick] proxy pool ${redactUrl(pool)}: ${(e as Error).message}; using ${fallback} instead`);
      return null;
    }
  }
}
