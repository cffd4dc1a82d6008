import { readSync } from 'node:fs';
import { crc32 } from '../util/crc32.js';

/**
 * The halves of the status cache (the json texts, the table seeds), read from the file as bytes, never whole. At
 * 10,000 rows the texts are 7 MB: made into one string (and its Buffer before that) they are 14 MB of memory
 * touched for the first time, which costs a fresh process about as much as everything else `status --json` does.
 * Here a run reads the stretch it prints next into one reused buffer.
 *
 * Each row's text is as it stands inside the printed array: `JSON.stringify(row, null, 2)` indented two more
 * spaces. They follow one another in the cache's order joined by what joins them in the array (TEXT_SEP), so a
 * run of rows that are neighbours in both is one read and one string, separators included. The seeds likewise,
 * joined by SEED_SEP.
 */
export const TEXT_SEP = ',\n  ';
const READ_AHEAD = 1 << 16;

/** what joins two seeds (JSON arrays): a comma, so that a run of them in brackets is one JSON text to parse */
export const SEED_SEP = ',';

/** A row's text as it stands in the array: its JSON, each line after the first indented two more spaces. */
export const inArray = (json: string): string => (json.includes('\n') ? json.replaceAll('\n', '\n  ') : json);

export interface RowTexts {
  /** rows `from` to `to` (indices in the cache, both included) as one string, with the separators between them */
  run(from: number, to: number): string;
  /** the byte length of rows `from` to `to` as run() gives them */
  bytes(from: number, to: number): number;
  /** the same bytes, put into `out` as they are read */
  copy(from: number, to: number, out: (bytes: Buffer) => void): void;
}

/** A stretch of one section of an open file, read ahead into a buffer that is reused. */
class SectionReader {
  buf = Buffer.allocUnsafe(READ_AHEAD);
  /** the section's bytes [lo, hi) are in buf from 0 */
  lo = 0;
  hi = 0;

  constructor(
    private readonly fd: number,
    private readonly base: number,
    private readonly length: number,
  ) {}

  /** Makes bytes [from, to) of the section readable in buf (at `from - lo`); false when the file ends before. */
  load(from: number, to: number): boolean {
    if (from >= this.lo && to <= this.hi) return true;
    if (to > this.length) return false;
    if (to - from > this.buf.length) this.buf = Buffer.allocUnsafe(to - from);
    const want = Math.min(this.buf.length, this.length - from);
    let off = 0;
    while (off < want) {
      const n = readSync(this.fd, this.buf, off, want - off, this.base + from + off);
      if (n === 0) return false;
      off += n;
    }
    this.lo = from;
    this.hi = from + want;
    return true;
  }
}

/**
 * The `n` entries, joined by `sep`, of the section at `base`, `length` bytes long, whose byte lengths are
 * `lengthOf(i)`; null when the section is not exactly them: the lengths do not add up to it, or its bytes are not
 * those that were saved (their CRC-32 is not `crc`). Checked through before any is used, so that a damaged cache
 * is never half printed.
 */
export function rowTexts(fd: number, base: number, length: number, n: number, lengthOf: (i: number) => number, sep: string, crc: number): RowTexts | null {
  const SEP_BYTES = Buffer.byteLength(sep);
  const starts = new Float64Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    starts[i] = at;
    at += lengthOf(i) + SEP_BYTES;
  }
  starts[n] = at; // where a next row would start
  if ((n ? at - SEP_BYTES : 0) !== length) return null;
  const end = (i: number) => starts[i + 1]! - SEP_BYTES;
  const reader = new SectionReader(fd, base, length);
  // one native call per 64 KB: a check of each row's first and last bytes in JS cost ~2 µs a row in a fresh process
  let sum = 0;
  for (let from = 0; from < length; from = reader.hi) {
    if (!reader.load(from, Math.min(length, from + READ_AHEAD))) return null;
    sum = crc32(reader.buf.subarray(0, reader.hi - reader.lo), sum);
  }
  if (sum !== crc) return null;
  return {
    bytes: (from, to) => end(to) - starts[from]!,
    run(from, to) {
      if (!reader.load(starts[from]!, end(to))) throw new Error('the status cache changed while it was read; run status again');
      return reader.buf.toString('utf8', starts[from]! - reader.lo, end(to) - reader.lo);
    },
    copy(from, to, out) {
      for (let at = starts[from]!, stop = end(to); at < stop; ) {
        const next = Math.min(stop, at + READ_AHEAD);
        if (!reader.load(at, next)) throw new Error('the status cache changed while it was read');
        out(reader.buf.subarray(at - reader.lo, next - reader.lo));
        at = next;
      }
    },
  };
}
