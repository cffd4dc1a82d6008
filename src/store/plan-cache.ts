import { readdirSync } from 'node:fs';
import { version } from '../version.js';
import { readCache, sameFingerprint, writeCache, type Fingerprint } from './cache.js';
import { LEFTOVER, type AccountStore } from './store.js';

/**
 * The idle fast path of `tick`. When does each account next become due? The planner's `dueAt` is a pure
 * function of the account file and the config (it never depends on `now`), so it can be remembered per
 * file fingerprint. A tick whose files and config are all unchanged, and whose `now` is before every
 * remembered due time and before the next reminder, knows without reading a single account that nothing
 * is due. Anything the full tick would act on that is not in an account file (leftovers of killed writes,
 * tokens waiting in recovery/) makes the cache decline.
 */
const NAME = 'plan.json';

interface Entry {
  fp: Fingerprint;
  /** earliest due time (ms; 0 = due since forever); null = never (skipped, or nothing can become due) */
  due: number | null;
}

interface PlanCache {
  key: string;
  entries: Record<string, Entry>;
  /** the dry-run/tick skip list in plan order */
  skipped: { account: string; reason: string }[];
  /** when the next "needs a person" reminder is due; null = nobody needs one */
  remindAt: number | null;
  /** who needs a person, for --json (a function of the files, like the due times) */
  attention: { account: string; reason: string; fix: string }[];
}

export interface IdleResult {
  accounts: number;
  attention: PlanCache['attention'];
  skipped: { account: string; reason: string }[];
  warnings: string[];
}

const keyOf = (configFingerprint: string) => `${configFingerprint}|${version()}`;

/** -Infinity (due since forever) does not survive JSON: 0 is before every `now` too. */
export const cachedDue = (dueAt: number | null): number | null => (dueAt === null ? null : Math.max(0, dueAt));

/** Null unless the cache proves that nothing is due at `now`. */
export function idleFromCache(store: AccountStore, configFingerprint: string, now: number): IdleResult | null {
  const cache = readCache<PlanCache>(store.home, NAME);
  if (!cache || cache.key !== keyOf(configFingerprint)) return null;
  if (cache.remindAt !== null && !(cache.remindAt > now)) return null;
  let names: string[];
  try {
    names = readdirSync(store.dir);
  } catch {
    return null;
  }
  let accounts = 0;
  const warnings = store.dirWarnings();
  for (const name of names) {
    if (!name.endsWith('.json')) {
      if (LEFTOVER.test(name)) return null;
      continue;
    }
    const e = cache.entries[name.slice(0, -5)];
    if (!e || (e.due !== null && !(e.due > now))) return null;
    const st = store.statOne(name.slice(0, -5));
    if (!st || !sameFingerprint(st.fingerprint, e.fp)) return null;
    if (st.warning) warnings.push(st.warning);
    accounts++;
  }
  if (accounts !== Object.keys(cache.entries).length || store.pendingRecovery().size > 0) return null;
  return { accounts, skipped: cache.skipped, warnings, attention: cache.attention ?? [] };
}

export function savePlanCache(store: AccountStore, configFingerprint: string, doc: Omit<PlanCache, 'key'>): void {
  writeCache(store.home, NAME, { key: keyOf(configFingerprint), ...doc } satisfies PlanCache);
}

/** When the last tick (not a dry run) ended, how long it took and how it exited: for metrics. */
const LAST_TICK = 'last-tick.json';
export function saveLastTick(store: AccountStore, t: { at: number; durationMs: number; exitCode: number }): void {
  writeCache(store.home, LAST_TICK, t);
}
export function lastTick(store: AccountStore): { at: number; durationMs: number; exitCode: number } | null {
  const t = readCache<{ at?: unknown; durationMs?: unknown; exitCode?: unknown }>(store.home, LAST_TICK);
  return t && typeof t.at === 'number' && typeof t.durationMs === 'number' && typeof t.exitCode === 'number' ? (t as never) : null;
}

/** When the daily "needs a person" line was last printed. */
const REMINDER = 'reminder.json';
export function lastReminder(store: AccountStore): number | null {
  const r = readCache<{ at?: unknown }>(store.home, REMINDER);
  return typeof r?.at === 'number' ? r.at : null;
}
export function saveReminder(store: AccountStore, at: number): void {
  writeCache(store.home, REMINDER, { at });
}

/**
 * Warnings a tick repeats (a home made with plain mkdir is 0755): said once per `every`, so that cron does not
 * mail the same line every minute. Returns the ones to print now, and remembers them.
 */
const WARNED = 'warned.json';
export function warningsDue(store: AccountStore, warnings: readonly string[], now: number, every: number): string[] {
  if (!warnings.length) return [];
  const seen = readCache<Record<string, number>>(store.home, WARNED) ?? {};
  const due = warnings.filter((w) => !(typeof seen[w] === 'number' && seen[w]! <= now && now < seen[w]! + every));
  if (due.length) {
    const next: Record<string, number> = {};
    for (const w of warnings) next[w] = due.includes(w) ? now : seen[w]!;
    writeCache(store.home, WARNED, next);
  }
  return due;
}
