import { version } from '../version.js';
import { readCache, sameFingerprint, writeCache, type Fingerprint } from './cache.js';
import type { AccountStore } from './store.js';

/**
 * The idle fast path of `tick`. When did each account next become due? That is a pure function of the
 * account file and the config (the planner's due times do not depend on `now`), so it can be remembered
 * per file fingerprint. A tick whose files and config are all unchanged, and whose `now` is before every
 * remembered due time, knows without reading a single account that nothing is due.
 */
const NAME = 'plan.json';

interface Entry {
  fp: Fingerprint;
  /** earliest due time (ms); null = never (skipped, or nothing can become due) */
  due: number | null;
}

interface PlanCache {
  key: string;
  entries: Record<string, Entry>;
  /** the dry-run/tick skip list in plan order */
  skipped: { account: string; reason: string }[];
}

export interface IdleResult {
  accounts: number;
  skipped: { account: string; reason: string }[];
  warnings: string[];
}

const keyOf = (configFingerprint: string) => `${configFingerprint}|${version()}`;

/** Null unless the cache proves that nothing is due at `now`. */
export function idleFromCache(store: AccountStore, configFingerprint: string, now: number): IdleResult | null {
  const cache = readCache<PlanCache>(store.home, NAME);
  if (!cache || cache.key !== keyOf(configFingerprint)) return null;
  const ids = store.listIds();
  if (ids.length !== Object.keys(cache.entries).length) return null;
  const warnings = store.dirWarnings();
  for (const id of ids) {
    const e = cache.entries[id];
    if (!e || (e.due !== null && e.due <= now)) return null;
    const st = store.statOne(id);
    if (!st || !sameFingerprint(st.fingerprint, e.fp)) return null;
    if (st.warning) warnings.push(st.warning);
  }
  return { accounts: ids.length, skipped: cache.skipped, warnings };
}

export function savePlanCache(
  store: AccountStore,
  configFingerprint: string,
  entries: Record<string, Entry>,
  skipped: { account: string; reason: string }[],
): void {
  writeCache(store.home, NAME, { key: keyOf(configFingerprint), entries, skipped } satisfies PlanCache);
}
