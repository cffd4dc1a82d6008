import { randomBytes } from '../util/random.js';
import { readdirSync, readFileSync } from 'node:fs';
import { version } from '../version.js';
import { cacheFile, readCache, writeCache, type Fingerprint } from './cache.js';
import { inDir, LEFTOVER, modeWarning, type AccountDir } from './account-dir.js';
import { modeIfUnchanged, quickStat } from './quick-stat.js';
import { rememberStamp, settled, stampHolds } from './dir-stamp.js';

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

/**
 * As written: the account files' names (`<id>.json`, one per line) in one string, and their fingerprints and
 * due times in `plan.bin` (five float64 each: inode, size, mtime, ctime, due with NaN for never), which a tick
 * reads without parsing. `bin` names the plan.bin that belongs to this plan.json (both are written, not together
 * atomically: a mismatch declines).
 */
interface PlanCacheFile {
  key: string;
  files: string;
  bin: string;
  /** the dry-run/tick skip list in plan order */
  skipped: { account: string; reason: string }[];
  /** when the next "needs a person" reminder is due; null = nobody needs one */
  remindAt: number | null;
  /** who needs a person, for --json (a function of the files, like the due times) */
  attention: { account: string; reason: string; fix: string }[];
}

type PlanCache = Omit<PlanCacheFile, 'files' | 'bin'> & { entries: Record<string, Entry> };
const BIN = 'plan.bin';
const TOKEN_BYTES = 8;

export interface IdleResult {
  accounts: number;
  attention: PlanCacheFile['attention'];
  skipped: { account: string; reason: string }[];
  warnings: string[];
}

const keyOf = (configFingerprint: string) => `${configFingerprint}|${version()}`;

/** -Infinity (due since forever) does not survive JSON: 0 is before every `now` too. */
export const cachedDue = (dueAt: number | null): number | null => (dueAt === null ? null : Math.max(0, dueAt));

/** The accounts directory when a tick found its listing to be exactly the plan's files, no leftovers (see dir-stamp.ts). */
const DIR_STAMP = 'plan-dir.json';

/**
 * Null unless the cache proves that nothing is due at `now`. `remember`: a run that is not a dry run may note
 * the directory's stamp (see DIR_STAMP) when it had to list it.
 */
export function idleFromCache(store: AccountDir, configFingerprint: string, now: number, remember = false): IdleResult | null {
  const cache = readCache<PlanCacheFile>(store.home, NAME);
  if (!cache || cache.key !== keyOf(configFingerprint) || typeof cache.files !== 'string') return null;
  if (cache.remindAt !== null && !(cache.remindAt > now)) return null;
  const values = readValues(store.home, cache.bin);
  if (!values) return null;
  const files = cache.files;
  const count = values.length / 5;
  // stat'ed before it is listed: a change after this makes the stamp differ next time
  const dir = quickStat(store.dir);
  if (!dir) return null;
  const statedAt = Date.now();
  const listed = !stampHolds(store.home, DIR_STAMP, cache.bin, dir);
  let listing: string[] | null = null;
  if (listed) {
    try {
      listing = readdirSync(store.dir);
    } catch {
      return null;
    }
  }
  const warnings = store.dirWarnings();
  const accounts = inDir(store.dir, (prefix) => {
    let n = 0;
    const check = (name: string, k: number): boolean => {
      const due = values[k + 4]!;
      if (!Number.isNaN(due) && !(due > now)) return false;
      const mode = modeIfUnchanged(prefix === '' ? name : prefix + name, values, k);
      if (mode < 0) return false;
      // the warning's text (the file's whole path) only for a file that has one
      if (mode & 0o077) warnings.push(modeWarning(store.fileOf(name.slice(0, -5)), mode, 0o600)!);
      n++;
      return true;
    };
    if (!listing) {
      // One name at a time, sliced from the string: an array of 10,000 names would live through the loop, and
      // the young generation's collections would copy it (at 10,000 files, ~5 ms of a tick).
      if (files === '') return count === 0 ? 0 : -1;
      for (let at = 0, i = 0; ; i++) {
        const end = files.indexOf('\n', at);
        if (i >= count || !check(files.slice(at, end < 0 ? files.length : end), i * 5)) return -1;
        if (end < 0) return i + 1 === count ? n : -1;
        at = end + 1;
      }
    }
    const names = files === '' ? [] : files.split('\n');
    if (names.length !== count) return -1;
    const at = new Map<string, number>();
    for (let i = 0; i < names.length; i++) at.set(names[i]!, i * 5);
    for (const name of listing) {
      if (!name.endsWith('.json')) {
        if (LEFTOVER.test(name)) return -1;
        continue;
      }
      const k = at.get(name);
      if (k === undefined || !check(name, k)) return -1;
    }
    return n;
  });
  if (accounts !== count || store.pendingRecovery().size > 0) return null;
  // The listing was the plan's files exactly: remember the directory, unless it changed too recently to tell.
  if (listed && remember && settled(dir, statedAt)) rememberStamp(store.home, DIR_STAMP, cache.bin, dir);
  return { accounts, skipped: cache.skipped, warnings, attention: cache.attention ?? [] };
}

/**
 * plan.bin's numbers when its token is `bin`, else null. They are used where they were read when they sit at a
 * multiple of 8 bytes (a Float64Array needs that), which a file this size read on its own does: a copy otherwise.
 */
function readValues(home: string, bin: string): Float64Array | null {
  try {
    const raw = readFileSync(cacheFile(home, BIN));
    if (raw.length < TOKEN_BYTES || (raw.length - TOKEN_BYTES) % 40 !== 0) return null;
    if (raw.subarray(0, TOKEN_BYTES).toString('hex') !== bin) return null;
    const from = raw.byteOffset + TOKEN_BYTES;
    const length = (raw.length - TOKEN_BYTES) / 8;
    return from % 8 === 0 ? new Float64Array(raw.buffer, from, length) : new Float64Array(raw.buffer.slice(from, from + length * 8));
  } catch {
    return null;
  }
}

export function savePlanCache(store: AccountDir, configFingerprint: string, doc: Omit<PlanCache, 'key'>): void {
  const { entries, ...rest } = doc;
  const ids = Object.keys(entries);
  const values = new Float64Array(ids.length * 5);
  ids.forEach((id, i) => {
    const e = entries[id]!;
    values.set([...e.fp, e.due === null ? NaN : e.due], i * 5);
  });
  const token = randomBytes(TOKEN_BYTES);
  // the numbers first, then the plan that names them: a plan.json never points at a plan.bin not yet written
  writeCache(store.home, BIN, Buffer.concat([token, Buffer.from(values.buffer)]));
  const files = ids.map((id) => `${id}.json`).join('\n');
  writeCache(store.home, NAME, { key: keyOf(configFingerprint), files, bin: token.toString('hex'), ...rest } satisfies PlanCacheFile);
}

/** When the last tick (not a dry run) ended, how long it took and how it exited: for metrics. */
const LAST_TICK = 'last-tick.json';
export function saveLastTick(store: AccountDir, t: { at: number; durationMs: number; exitCode: number }): void {
  writeCache(store.home, LAST_TICK, t);
}
export function lastTick(store: AccountDir): { at: number; durationMs: number; exitCode: number } | null {
  const t = readCache<{ at?: unknown; durationMs?: unknown; exitCode?: unknown }>(store.home, LAST_TICK);
  return t && typeof t.at === 'number' && typeof t.durationMs === 'number' && typeof t.exitCode === 'number' ? (t as never) : null;
}

/** When the daily "needs a person" line was last printed. */
const REMINDER = 'reminder.json';
export function lastReminder(store: AccountDir): number | null {
  const r = readCache<{ at?: unknown }>(store.home, REMINDER);
  return typeof r?.at === 'number' ? r.at : null;
}
export function saveReminder(store: AccountDir, at: number): void {
  writeCache(store.home, REMINDER, { at });
}

/**
 * Warnings a tick repeats (a home made with plain mkdir is 0755): said once per `every`, so that cron does not
 * mail the same line every minute. Returns the ones to print now, and remembers them.
 */
const WARNED = 'warned.json';
export function warningsDue(store: AccountDir, warnings: readonly string[], now: number, every: number): string[] {
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
