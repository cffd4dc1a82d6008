import type { Config } from '../config/types.js';
import type { Account } from '../model/types.js';
import { redactUrl } from '../util/secrets.js';

export interface ProxyChoice {
  /** null = direct */
  url: string | null;
  source: 'account' | 'pool' | 'config' | 'direct';
}

/** First match wins: the account's proxy (or "direct"), the pool, proxy_url, direct. Pure. */
export function chooseProxy(a: Pick<Account, 'proxy'>, cfg: Config, poolProxy: string | null = null): ProxyChoice {
  if (a.proxy === 'direct') return { url: null, source: 'direct' };
  if (a.proxy) return { url: a.proxy, source: 'account' };
  if (poolProxy) return { url: poolProxy, source: 'pool' };
  if (cfg.proxyUrl) return { url: cfg.proxyUrl, source: 'config' };
  return { url: null, source: 'direct' };
}

/**
 * For tables and JSON: the effective proxy with its password as ***. The pool is never fetched for this; its
 * last answer (cached in the home) is shown when there is one.
 */
export function describeProxy(a: Pick<Account, 'proxy'>, cfg: Config, poolAnswer: string | null = null): string {
  if (a.proxy === 'direct') return 'direct';
  if (a.proxy) return redactUrl(a.proxy);
  if (cfg.proxyPoolUrl) return poolAnswer ? `${redactUrl(poolAnswer)} (from pool)` : `pool ${redactUrl(cfg.proxyPoolUrl)}`;
  if (cfg.proxyUrl) return redactUrl(cfg.proxyUrl);
  return 'direct';
}
