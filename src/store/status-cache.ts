import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { randomBytes } from '../util/random.js';
import { version } from '../version.js';
import { cacheFile, writeCache, type Fingerprint } from './cache.js';
import { inDir, modeWarning } from './account-dir.js';
import { isRegularMode, modeIfUnchanged } from './quick-stat.js';
import type { AccountStore, FileProblem, LoadedAccount } from './store.js';
import { rowTexts, TEXT_SEP, type RowTexts } from './status-texts.js';

/**
 * `status` over a pool: each account's row, as the JSON text status printed (and its table seed, see
 * render/status-table.ts), remembered per file fingerprint
 * with the time until which it stays the same (see rowStableUntil in render/views.ts). A row is taken from here
 * only while its file is unchanged (inode, size, mtime, ctime), `now` is before that time, no live process
 * holds the account's lock and no tokens of it wait in recovery/; every other account is read and planned as
 * always. The key holds the config, the program's version and the proxy the pool answered.
 *
 * The texts were scrubbed when they were written, and the document they end up in is scrubbed again against
 * every secret this run read. On disk: a first line with the byte lengths of the four sections that follow: the
 * header (JSON: key, ids, and a token new with every save), the numbers (float64, WIDTH per row, NaN for null),
 * the texts (as status-texts.ts has them) and the seeds separated by \x01 (JSON text never holds a raw control
 * character). Rows are saved in the order status prints them. A run reads the header, the numbers and the half
 * it prints: the seeds whole, the texts a stretch at a time as it prints them.
 */
const NAME = 'status-rows';
/** accounts/ when a listing of it was exactly the rows of one save (see dir-stamp.ts) */
export const STATUS_DIR_STAMP = 'status-dir.json';
const SEP = '\x01';
const PREFIX_BYTES = 64;
/** per row: inode, size, mtime, ctime, stable until (null = forever), priority, needs a person (0/1), text bytes, seed length */
const WIDTH = 9;

/** A row as it is saved. */
export interface CachedRow {
  id: string;
  priority: number;
  /** null: stays the same while the file does */
  until: number | null;
  needsPerson: boolean;
  /** the row's JSON as it stands in the printed array (status-texts.ts), scrubbed */
  text: string;
  /** JSON.stringify(tableSeed(row)), scrubbed */
  seed: string;
  fp: Fingerprint;
}

interface Header {
  key: string;
  ids: string;
  /** tells one save from another: a second read of the file (see complete) checks it is the same one */
  token: string;
}

// `texts in place`: the layout of the texts section (an earlier build of this version may have written another)
export const statusCacheKey = (configFingerprint: string, poolAnswer: string | null) => `${configFingerprint}|${version()}|${poolAnswer ?? ''}|texts in place`;

/** Which half of the cache a run reads: `status --json` prints the texts, the table is made from the seeds. */
export type CachePart = 'text' | 'seed';

/**
 * The rows as read: by their place in the cache (an index), with their numbers where they are in the file. An
 * object per row is made only for a save: 10,000 of them cost a fresh process ~20 ms.
 */
export interface StatusCache {
  /** in the cache's order (each row's index) */
  ids: readonly string[];
  indexOf: ReadonlyMap<string, number>;
  /** per row, from WIDTH * index: inode, size, mtime and ctime first (a fingerprint for modeIfUnchanged) */
  values: Float64Array;
  /** null: stays the same while the file does */
  until(i: number): number | null;
  priority(i: number): number;
  needsPerson(i: number): boolean;
  /** the table seeds by index, when they were asked for */
  seeds: readonly string[] | null;
  /** new with every save: what a stamp of the accounts directory is tied to (see dir-stamp.ts) */
  token: string;
  /**
   * The rows at `indices` with both halves read (a run that saves needs them); null when they cannot be read, and
   * then only the rows made in this run may be saved.
   */
  complete(indices: readonly number[]): CachedRow[] | null;
  /** the json texts, read as they are printed (when the texts were asked for) */
  texts: RowTexts | null;
  /** gives back the file the texts are read from */
  close(): void;
}

/** `length` bytes of the open file `fd` from `position` (into `buf`); null when the file is shorter. */
function readBytes(fd: number, position: number, length: number, buf = Buffer.allocUnsafe(length)): Buffer | null {
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, position + off);
    if (n === 0) return null;
    off += n;
  }
  return buf;
}
const readText = (fd: number, position: number, length: number) => readBytes(fd, position, length)?.toString('utf8') ?? null;

/** The sections, from the file's first line of byte lengths: header, numbers, texts, seeds. */
function sectionsOf(fd: number): { header: string; values: Float64Array; at: { text: [number, number]; seed: [number, number] } } | null {
  const size = fstatSync(fd).size;
  const first = readText(fd, 0, Math.min(PREFIX_BYTES, size));
  const m = first && /^(\d+) (\d+) (\d+) (\d+)\n/.exec(first);
  if (!m) return null;
  const [h, v, t, sd] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  const start = m[0].length;
  // the sections cover the file exactly: anything added or cut shows here, even in the last entry
  if (start + h + v + t + sd !== size || v % 8 !== 0) return null;
  const header = readText(fd, start, h);
  // read straight into the array (a Buffer from allocUnsafe may start at any offset of its pool: not for float64)
  const values = new Float64Array(v / 8);
  if (header === null || readBytes(fd, start + h, v, Buffer.from(values.buffer)) === null) return null;
  return { header, values, at: { text: [start + h + v, t], seed: [start + h + v + t, sd] } };
}

/**
 * The cache, with one half decoded: the other is read from the file only by `complete` (a table over 10,000 rows
 * reads 1.8 MB of it instead of 9). Null when there is none, or it is for another key, or it is damaged.
 */
export function readStatusCache(store: AccountStore, key: string, want: CachePart): StatusCache | null {
  const file = cacheFile(store.home, NAME);
  /** fn's answer from the open file, which is closed after unless `keepOpen` says otherwise of the answer */
  const read = <T>(fn: (fd: number) => T | null, keepOpen: (answer: T) => boolean = () => false): T | null => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return null;
    }
    let answer: T | null = null;
    try {
      return (answer = fn(fd));
    } catch {
      return null;
    } finally {
      if (answer === null || !keepOpen(answer)) closeSync(fd);
    }
  };
  return read((fd) => {
    const sections = sectionsOf(fd);
    if (!sections) return null;
    const h = JSON.parse(sections.header) as Header;
    if (h.key !== key || typeof h.ids !== 'string') return null;
    const ids = h.ids === '' ? [] : h.ids.split('\n');
    const v = sections.values;
    if (v.length !== ids.length * WIDTH) return null;
    const indexOf = new Map<string, number>();
    for (let i = 0; i < ids.length; i++) indexOf.set(ids[i]!, i);
    if (indexOf.size !== ids.length) return null;
    const until = (i: number) => (Number.isNaN(v[i * WIDTH + 4]!) ? null : v[i * WIDTH + 4]!);
    const priority = (i: number) => v[i * WIDTH + 5]!;
    const needsPerson = (i: number) => v[i * WIDTH + 6] === 1;
    const textsOf = (fd: number) => rowTexts(fd, sections.at.text[0], sections.at.text[1], ids, (i) => v[i * WIDTH + 7]!);
    // a damaged half (cut short, or edited) is not used: each entry has its length, and starts with its id
    const seedsOf = (fd: number): string[] | null => {
      const [from, length] = sections.at.seed;
      const text = readText(fd, from, length);
      const list = text === null ? [] : ids.length ? text.split(SEP) : [];
      if (list.length !== ids.length) return null;
      const lengthAt = 8;
      // (the id is looked for without building a prefix per row; an id that JSON would escape never matches)
      const before = '["';
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        const entry = list[i]!;
        const end = before.length + id.length;
        if (entry.length !== v[i * WIDTH + lengthAt] || !entry.startsWith(before) || !entry.startsWith(id, before.length) || entry.charCodeAt(end) !== 0x22 || entry.charCodeAt(end + 1) !== 0x2c) return null;
      }
      return list;
    };
    let texts: RowTexts | null = null;
    let seeds: string[] | null = null;
    if (want === 'seed' ? !(seeds = seedsOf(fd)) : !(texts = textsOf(fd))) return null;
    // the same file still (its header unchanged), read again: holding it all until a save would cost memory
    const complete = (indices: readonly number[]): CachedRow[] | null => {
      if (!indices.length) return [];
      return read((again) => {
        const allSeeds = sectionsOf(again)?.header === sections.header ? (seeds ?? seedsOf(again)) : null;
        const allTexts = allSeeds && textsOf(again);
        if (!allSeeds || !allTexts) return null;
        // in the file's order, so that the texts are read straight through (a save sorts them again)
        return [...indices].sort((a, b) => a - b).map((i) => {
          const k = i * WIDTH;
          return { id: ids[i]!, fp: [v[k]!, v[k + 1]!, v[k + 2]!, v[k + 3]!], until: until(i), priority: priority(i), needsPerson: needsPerson(i), text: allTexts.run(i, i), seed: allSeeds[i]! };
        });
      });
    };
    // the texts are read from this file as they are printed: it stays open until then
    let open = texts !== null;
    const close = () => {
      if (open) closeSync(fd);
      open = false;
    };
    return { ids, indexOf, values: v, until, priority, needsPerson, seeds, token: h.token, complete, texts, close };
  }, (cache) => cache.texts !== null);
}

/** status's order: the planner's (priority, then id). */
export const printOrder = (a: { priority: number; id: string }, b: { priority: number; id: string }): number => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Rows missing either half are left out; the others are saved in print order, so that the next run reads runs
 * of neighbours. Returns the new save's token and how many rows it holds.
 */
export function saveStatusCache(store: AccountStore, key: string, all: readonly CachedRow[]): { token: string; rows: number } {
  const rows = [...all].sort(printOrder);
  const values = new Float64Array(rows.length * WIDTH);
  rows.forEach((r, i) => values.set([...r.fp, r.until ?? NaN, r.priority, r.needsPerson ? 1 : 0, Buffer.byteLength(r.text), r.seed.length], i * WIDTH));
  const token = randomBytes(8).toString('hex');
  const header = Buffer.from(JSON.stringify({ key, ids: rows.map((r) => r.id).join('\n'), token } satisfies Header));
  const numbers = Buffer.from(values.buffer);
  const texts = Buffer.from(rows.map((r) => r.text).join(TEXT_SEP));
  const seeds = Buffer.from(rows.map((r) => r.seed).join(SEP));
  const lengths = `${header.length} ${numbers.length} ${texts.length} ${seeds.length}\n`;
  writeCache(store.home, NAME, Buffer.concat([Buffer.from(lengths), header, numbers, texts, seeds]));
  return { token, rows: rows.length };
}

export interface StatusLoad {
  /** the accounts read and parsed in this run */
  accounts: LoadedAccount[];
  problems: FileProblem[];
  warnings: string[];
  /** rows taken from the cache: their indices in it */
  cached: number[];
}

/**
 * loadAll, except that an account whose remembered row is still good is only lstat'ed. In id order, with the
 * same warnings and problems as loadAll. `ids`: the listing's names alone (its file types cost a listing of
 * 10,000 files twice the time; the lstat here, or store.read's, says the same).
 */
export function loadForStatus(store: AccountStore, ids: readonly string[], cache: StatusCache | null, now: number, holders: ReadonlyMap<string, unknown>): StatusLoad {
  const out: StatusLoad = { accounts: [], problems: [], warnings: store.dirWarnings(), cached: [] };
  const recovery = store.pendingRecovery();
  inDir(store.dir, (prefix) => {
    for (const id of ids) readOne(id, prefix);
  });
  return out;

  function readOne(id: string, prefix: string): void {
    const path = `${prefix}${id}.json`;
    const i = cache?.indexOf.get(id);
    const until = i === undefined ? undefined : cache!.until(i);
    if (i !== undefined && (until === null || now < until!) && !holders.has(id) && !recovery.has(id)) {
      // an lstat and four numbers compared: this runs for every remembered row
      const mode = modeIfUnchanged(path, cache!.values, i * WIDTH, 'lstat');
      if (mode >= 0 && isRegularMode(mode)) {
        // the warning's text (the file's whole path) only for a file that has one
        if (mode & 0o077) out.warnings.push(modeWarning(store.fileOf(id), mode, 0o600)!);
        out.cached.push(i);
        return;
      }
    }
    const r = store.read(id, out.warnings);
    if ('account' in r) {
      r.account.recovery = recovery.get(id) ?? null;
      out.accounts.push(r);
    } else out.problems.push(r);
  }
}
