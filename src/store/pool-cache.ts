import { readCache, writeCache } from './cache.js';
import { lock } from './lock.js';
import type { AccountStore } from './store.js';

/**
 * The proxy pool's last answer, shared by every process through <home>/cache/proxy-pool.json (0600: a pool
 * may hand out URLs with passwords). Fetches happen under a lock so that ten ticks in one interval ask once.
 */
const NAME = 'proxy-pool.json';
// Account ids cannot start with "_", so this lock never collides with an account's.
const LOCK_ID = '_proxy-pool';

export interface PoolEntry {
  /** the pool URL it came from: a changed proxy_pool_url invalidates the entry */
  pool: string;
  url: string;
  fetchedAt: number;
}

export function readPoolEntry(store: AccountStore, pool: string): PoolEntry | null {
  const e = readCache<PoolEntry>(store.home, NAME);
  return e && e.pool === pool && typeof e.url === 'string' && typeof e.fetchedAt === 'number' ? e : null;
}

/** The pool's last answer if it is still within proxy_pool_interval, for display. */
export function currentPoolProxy(store: AccountStore, cfg: { proxyPoolUrl: string | null; proxyPoolIntervalS: number }, now: number): string | null {
  if (!cfg.proxyPoolUrl) return null;
  const e = readPoolEntry(store, cfg.proxyPoolUrl);
  return e && now - e.fetchedAt < cfg.proxyPoolIntervalS * 1000 ? e.url : null;
}

export function writePoolEntry(store: AccountStore, entry: PoolEntry): void {
  writeCache(store.home, NAME, entry);
}

export async function withPoolLock<T>(store: AccountStore, fn: () => Promise<T>): Promise<T> {
  store.ensureDirs();
  const release = await lock(store.lockDir, LOCK_ID, 15_000);
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/** The pool cache of one home, in the shape net/ asks for. */
export function poolCacheOf(store: AccountStore) {
  return {
    read: (pool: string) => readPoolEntry(store, pool),
    write: (entry: PoolEntry) => writePoolEntry(store, entry),
    withLock: <T>(fn: () => Promise<T>) => withPoolLock(store, fn),
  };
}
