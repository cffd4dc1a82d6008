import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { randomBytes } from '../util/random.js';
import { version } from '../version.js';
import { cacheFile, writeCacheWith, type Fingerprint } from './cache.js';
import { inDir, modeWarning } from './account-dir.js';
import { isRegularMode, modeIfUnchanged } from './quick-stat.js';
import type { AccountStore, FileProblem, LoadedAccount } from './store.js';
import { rowTexts, SEED_SEP, TEXT_SEP, type RowTexts } from './status-texts.js';
import { crc32 } from '../util/crc32.js';

/**
 * `status` over a pool: each account's row, as the JSON text status printed (and its table seed, see
 * render/status-table.ts), remembered per file fingerprint
 * with the time until which it stays the same (see rowStableUntil in render/views.ts). A row is taken from here
 * only while its file is unchanged (inode, size, mtime, ctime), `now` is before that time, no live process
 * holds the account's lock and no tokens of it wait in recovery/; every other account is read and planned as
 * always. The key holds the config, the program's version and the proxy the pool answered.
 *
 * The texts were scrubbed when they were written, and the document they end up in is scrubbed again against
 * every secret this run read. On disk: a first line with the byte lengths of the four sections that follow and
 * three CRC-32s (of the header and numbers, of the texts, of the seeds), then the sections: the header (JSON: key,
 * ids, and a token new with every save), the numbers (float64, WIDTH per row, NaN for null), the texts and the
 * seeds (each as status-texts.ts has them). Rows are saved in the order status prints them. A run reads the
 * header, the numbers and the half it prints, a stretch at a time as it prints it. Nothing is used from a file
 * whose sections do not add up to it or whose bytes are not those saved (their CRC).
 */
const NAME = 'status-rows';
/** accounts/ when a listing of it was exactly the rows of one save (see dir-stamp.ts) */
export const STATUS_DIR_STAMP = 'status-dir.json';
const PREFIX_BYTES = 96;
/** per row: inode, size, mtime, ctime, stable until (null = forever), priority, needs a person (0/1), text bytes, seed bytes */
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
  /** tells one save from another: a second read of the file (see carry) checks it is the same one */
  token: string;
}

// the file's layout (see above): an earlier build of this version may have written another
export const statusCacheKey = (configFingerprint: string, poolAnswer: string | null) => `${configFingerprint}|${version()}|${poolAnswer ?? ''}|rows in bytes, checked by CRC`;

/** The halves of a cache that a save copies rows from; close() when done. */
export interface Carry {
  texts: RowTexts;
  seeds: RowTexts;
  close(): void;
}

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
  /** the table seeds (JSON arrays), read as the table is made (when the seeds were asked for) */
  seeds: RowTexts | null;
  /** new with every save: what a stamp of the accounts directory is tied to (see dir-stamp.ts) */
  token: string;
  /**
   * Both halves of the rows, checked, for a save to copy from as bytes; null when they cannot be read, and then
   * only the rows made in this run may be saved.
   */
  carry(): Carry | null;
  /** the json texts, read as they are printed (when the texts were asked for) */
  texts: RowTexts | null;
  /** gives back the file the texts or seeds are read from */
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

interface Sections {
  header: string;
  values: Float64Array;
  at: { text: [number, number]; seed: [number, number] };
  crc: { text: number; seed: number };
}

/** The first line: the four sections' byte lengths, then the CRCs (8 hex digits each, so that a save can fill them in last). */
const FIRST_LINE = /^(\d+) (\d+) (\d+) (\d+) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})\n/;
const hex = (crc: number) => crc.toString(16).padStart(8, '0');
const firstLine = (lengths: readonly number[], crcs: readonly number[]) => Buffer.from(`${lengths.join(' ')} ${crcs.map(hex).join(' ')}\n`);

/** The sections, from the file's first line: header and numbers read and checked, where texts and seeds are. */
function sectionsOf(fd: number): Sections | null {
  const size = fstatSync(fd).size;
  const first = readText(fd, 0, Math.min(PREFIX_BYTES, size));
  const m = first && FIRST_LINE.exec(first);
  if (!m) return null;
  const [h, v, t, sd] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  const start = m[0].length;
  // the sections cover the file exactly: anything added or cut shows here, even in the last entry
  if (start + h + v + t + sd !== size || v % 8 !== 0) return null;
  const header = readBytes(fd, start, h);
  // read straight into the array (a Buffer from allocUnsafe may start at any offset of its pool: not for float64)
  const values = new Float64Array(v / 8);
  const numbers = Buffer.from(values.buffer);
  if (header === null || readBytes(fd, start + h, v, numbers) === null) return null;
  if (crc32(numbers, crc32(header)) !== parseInt(m[5]!, 16)) return null;
  return {
    header: header.toString('utf8'),
    values,
    at: { text: [start + h + v, t], seed: [start + h + v + t, sd] },
    crc: { text: parseInt(m[6]!, 16), seed: parseInt(m[7]!, 16) },
  };
}

/**
 * The cache, with one half decoded: the other is read from the file only by `carry` (a table over 10,000 rows
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
    // a damaged half (cut short, or edited) is not used: each entry has its length, and the half its CRC
    const textsOf = (fd: number) => rowTexts(fd, sections.at.text[0], sections.at.text[1], ids.length, (i) => v[i * WIDTH + 7]!, TEXT_SEP, sections.crc.text);
    const seedsOf = (fd: number) => rowTexts(fd, sections.at.seed[0], sections.at.seed[1], ids.length, (i) => v[i * WIDTH + 8]!, SEED_SEP, sections.crc.seed);
    let texts: RowTexts | null = null;
    let seeds: RowTexts | null = null;
    if (want === 'seed' ? !(seeds = seedsOf(fd)) : !(texts = textsOf(fd))) return null;
    // the same file still (its header unchanged), opened again: holding it all until a save would cost memory
    const carry = (): Carry | null =>
      read(
        (again) => {
          if (sectionsOf(again)?.header !== sections.header) return null;
          const allTexts = textsOf(again);
          const allSeeds = allTexts && seedsOf(again);
          return allSeeds ? { texts: allTexts!, seeds: allSeeds, close: () => closeSync(again) } : null;
        },
        () => true,
      );
    // the half it prints is read from this file as it is printed: it stays open until then
    let open = true;
    const close = () => {
      if (open) closeSync(fd);
      open = false;
    };
    return { ids, indexOf, values: v, until, priority, needsPerson, seeds, token: h.token, carry, texts, close };
  }, () => true);
}

/** status's order: the planner's (priority, then id). */
export const printOrder = (a: { priority: number; id: string }, b: { priority: number; id: string }): number => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The rows at `carried` in `cache`, copied from its file as bytes, and the `fresh` ones made in this run, saved in
 * print order, so that the next run reads runs of neighbours. The file is written a piece at a time: over 10,000
 * rows it is 9 MB, and made in memory first it was held three times over. When the cache cannot be read again,
 * only the fresh rows are saved. Returns the new save's token and how many rows it holds.
 */
export function saveStatusCache(store: AccountStore, key: string, cache: StatusCache | null, carried: readonly number[], fresh: readonly CachedRow[]): { token: string; rows: number } {
  const from = cache && carried.length ? cache.carry() : null;
  type Item = { id: string; priority: number; old: number; text: Buffer | null; seed: Buffer | null };
  const items: Item[] = [];
  if (from) for (const i of carried) items.push({ id: cache!.ids[i]!, priority: cache!.priority(i), old: i, text: null, seed: null });
  for (const r of fresh) items.push({ id: r.id, priority: r.priority, old: -1, text: Buffer.from(r.text), seed: Buffer.from(r.seed) });
  items.sort(printOrder);
  const byId = new Map(fresh.map((r) => [r.id, r]));
  const n = items.length;
  const values = new Float64Array(n * WIDTH);
  const textSep = Buffer.from(TEXT_SEP);
  const seedSep = Buffer.from(SEED_SEP);
  let textLength = n ? (n - 1) * textSep.length : 0;
  let seedLength = n ? (n - 1) * seedSep.length : 0;
  items.forEach((it, j) => {
    if (it.old >= 0) values.set(cache!.values.subarray(it.old * WIDTH, (it.old + 1) * WIDTH), j * WIDTH);
    else {
      const r = byId.get(it.id)!;
      values.set([...r.fp, r.until ?? NaN, r.priority, r.needsPerson ? 1 : 0, it.text!.length, it.seed!.length], j * WIDTH);
    }
    textLength += values[j * WIDTH + 7]!;
    seedLength += values[j * WIDTH + 8]!;
  });
  const token = randomBytes(8).toString('hex');
  const header = Buffer.from(JSON.stringify({ key, ids: items.map((r) => r.id).join('\n'), token } satisfies Header));
  const numbers = Buffer.from(values.buffer);
  try {
    writeCacheWith(store.home, NAME, (fd) => {
      const lengths = [header.length, numbers.length, textLength, seedLength];
      const out = new PieceWriter(fd);
      // the CRCs are filled in when the sections are written (the line keeps its length)
      out.put(firstLine(lengths, [0, 0, 0]));
      out.sum = 0;
      out.put(header);
      out.put(numbers);
      const crcs = [out.sum];
      // a run of rows that were neighbours in the old file is one copy, the separators between them with it
      const section = (half: 'text' | 'seed', old: RowTexts | undefined, sep: Buffer) => {
        out.sum = 0;
        for (let j = 0; j < n; ) {
          if (j > 0) out.put(sep);
          const it = items[j]!;
          if (it.old < 0) {
            out.put(it[half]!);
            j++;
            continue;
          }
          let k = j;
          while (k + 1 < n && items[k + 1]!.old === items[k]!.old + 1) k++;
          old!.copy(it.old, items[k]!.old, out.put);
          j = k + 1;
        }
        crcs.push(out.sum);
      };
      section('text', from?.texts, textSep);
      section('seed', from?.seeds, seedSep);
      out.flush();
      const line = firstLine(lengths, crcs);
      for (let off = 0; off < line.length; ) off += writeSync(fd, line, off, line.length - off, off);
    });
  } finally {
    from?.close();
  }
  return { token, rows: n };
}

/**
 * Writes to a file through one 64 KB buffer: a piece is copied into it, or written at once when larger. `sum` is
 * the CRC-32 of what was put since it was last set to 0.
 */
class PieceWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  sum = 0;
  constructor(private readonly fd: number) {}

  put = (bytes: Buffer): void => {
    this.sum = crc32(bytes, this.sum);
    if (this.used + bytes.length > this.buf.length) {
      this.flush();
      if (bytes.length > this.buf.length) return writeAll(this.fd, bytes);
    }
    bytes.copy(this.buf, this.used);
    this.used += bytes.length;
  };

  flush(): void {
    writeAll(this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
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
