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
  /** each skipped account's priority, for a tick that merges the list with accounts it read (see PlanState) */
  skippedPriority?: number[];
  /** when the next "needs a person" reminder is due; null = nobody needs one */
  remindAt: number | null;
  /** who needs a person, for --json (a function of the files, like the due times) */
  attention: { account: string; reason: string; fix: string }[];
  /** each of those accounts' provider, for the notifications of a tick that read only some accounts */
  attentionProvider?: string[];
}

type PlanCache = Omit<PlanCacheFile, 'files' | 'bin'> & { entries: Record<string, Entry> };

/**
 * What the cache vouches for when some files are due or changed: every other file of the plan is unchanged and
 * not due, so a tick reads only `loud` (see tick-partial.ts). Null when it vouches for nothing (another config
 * or version, a reminder due, a file of the plan gone, leftovers, tokens in recovery, or too many to read).
 */
export interface PlanState {
  /** the plan's files that are still there, unchanged and not due at `now` */
  quiet: number;
  /** the ids to read, in id order: the plan's files that changed or are due, and files the plan does not know */
  loud: string[];
  /** the directories' warnings, then each quiet file's mode warning with its id (merged in id order with the read ones) */
  dirWarnings: string[];
  quietWarnings: { id: string; text: string }[];
  /** as saved, of every file: the skip list and who needs a person, and beside them (in plans saved since the
   * partial tick) each skipped account's priority and each one's provider */
  skipped: PlanCacheFile['skipped'];
  skippedPriority: unknown;
  attention: PlanCacheFile['attention'];
  attentionProvider: unknown;
  remindAt: number | null;
  /** the quiet files' names and numbers as plan.json and plan.bin hold them, for a save after a tick that read only the loud ones */
  quietRows(): CarriedRows;
}

/** Rows of a plan carried into the next one as they were: names (`<id>.json`, one per line) and five numbers each. */
export interface CarriedRows {
  files: string;
  values: Float64Array;
}
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

/** The idle answer of a state with nothing to read: null unless the cache proves that nothing is due. */
export function idleOf(state: PlanState): IdleResult | null {
  if (state.loud.length) return null;
  const warnings = [...state.dirWarnings, ...state.quietWarnings.map((w) => w.text)];
  return { accounts: state.quiet, skipped: state.skipped, warnings, attention: state.attention };
}

/**
 * What the cache vouches for at `now` (see PlanState). `remember`: a run that is not a dry run may note the
 * directory's stamp (see DIR_STAMP) when it had to list it. `partial`: a tick may read the files it cannot vouch
 * for, up to a quarter of them (past that, reading them all costs little more); else only an idle answer will
 * do, and the first such file ends the walk.
 */
export function planState(store: AccountDir, configFingerprint: string, now: number, remember: boolean, partial: boolean): PlanState | null {
  const cache = readCache<PlanCacheFile>(store.home, NAME);
  if (!cache || cache.key !== keyOf(configFingerprint) || typeof cache.files !== 'string') return null;
  if (cache.remindAt !== null && !(cache.remindAt > now)) return null;
  const values = readValues(store.home, cache.bin);
  if (!values) return null;
  const files = cache.files;
  const count = values.length / 5;
  const maxLoud = partial ? Math.max(64, count >> 2) : 0;
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
  const dirWarnings = store.dirWarnings();
  const quietWarnings: { id: string; text: string }[] = [];
  const loud: string[] = [];
  /** the plan's files found changed or due (the others in `loud` are new) */
  let loudKnown = 0;
  const quiet = inDir(store.dir, (prefix) => {
    let n = 0;
    /** false: the walk is over (more to read than maxLoud) */
    const check = (name: string, k: number): boolean => {
      const due = values[k + 4]!;
      const mode = !Number.isNaN(due) && !(due > now) ? -1 : modeIfUnchanged(prefix === '' ? name : prefix + name, values, k);
      if (mode < 0) {
        loudKnown++;
        return loud.push(name.slice(0, -5)) <= maxLoud;
      }
      // the warning's text (the file's whole path) only for a file that has one
      if (mode & 0o077) quietWarnings.push({ id: name.slice(0, -5), text: modeWarning(store.fileOf(name.slice(0, -5)), mode, 0o600)! });
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
      if (k === undefined) {
        // a file the plan does not know: read it (a name that is no account id is the read's problem to report)
        if (loud.push(name.slice(0, -5)) > maxLoud) return -1;
      } else if (!check(name, k)) return -1;
    }
    return n;
  });
  // every file of the plan is still there (one gone: the full tick says so, and saves a plan without it)
  if (quiet < 0 || quiet + loudKnown !== count || store.pendingRecovery().size > 0) return null;
  // The listing was the plan's files exactly: remember the directory, unless it changed too recently to tell.
  if (listed && remember && loud.length === loudKnown && settled(dir, statedAt)) rememberStamp(store.home, DIR_STAMP, cache.bin, dir);
  loud.sort();
  // in id order, as a full load gives them (the plan's files are in plan order, a listing in the directory's)
  quietWarnings.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    quiet,
    loud,
    dirWarnings,
    quietWarnings,
    skipped: cache.skipped,
    skippedPriority: cache.skippedPriority,
    attention: cache.attention ?? [],
    attentionProvider: cache.attentionProvider,
    remindAt: cache.remindAt,
    quietRows() {
      // in runs between the loud ones (a few among 10,000): no object per row
      const loudSet = new Set(loud);
      const names: string[] = [];
      const rows = new Float64Array((count - loudKnown) * 5);
      let kept = 0;
      let runFrom = 0;
      let runRow = 0;
      const endRun = (at: number, row: number) => {
        if (row > runRow) {
          names.push(files.slice(runFrom, at - 1));
          rows.set(values.subarray(runRow * 5, row * 5), kept * 5);
          kept += row - runRow;
        }
      };
      if (files !== '') {
        for (let at = 0, i = 0; i < count; i++) {
          const end = files.indexOf('\n', at);
          const next = end < 0 ? files.length + 1 : end + 1;
          if (loudSet.has(files.slice(at, next - 1 - 5))) {
            endRun(at, i);
            runFrom = next;
            runRow = i + 1;
          }
          at = next;
        }
        endRun(files.length + 1, count);
      }
      return { files: names.join('\n'), values: rows };
    },
  };
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

/** `carried`: rows of the last plan kept as they were (a partial tick's quiet files), before `entries`. */
export function savePlanCache(store: AccountDir, configFingerprint: string, doc: Omit<PlanCache, 'key'>, carried?: CarriedRows): void {
  const { entries, ...rest } = doc;
  const ids = Object.keys(entries);
  const from = carried ? carried.values.length : 0;
  const values = new Float64Array(from + ids.length * 5);
  if (carried) values.set(carried.values);
  ids.forEach((id, i) => {
    const e = entries[id]!;
    values.set([...e.fp, e.due === null ? NaN : e.due], from + i * 5);
  });
  const token = randomBytes(TOKEN_BYTES);
  // the numbers first, then the plan that names them: a plan.json never points at a plan.bin not yet written
  writeCache(store.home, BIN, Buffer.concat([token, Buffer.from(values.buffer)]));
  const fresh = ids.map((id) => `${id}.json`).join('\n');
  const files = carried && carried.files !== '' ? (fresh ? `${carried.files}\n${fresh}` : carried.files) : fresh;
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
