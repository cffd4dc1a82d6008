import { readSync } from 'node:fs';

/**
 * The json half of the status cache, read from the file as bytes, never whole. At 10,000 rows it is 7 MB: made
 * into one string (and its Buffer before that) it is 14 MB of memory touched for the first time, which costs a
 * fresh process about as much as everything else `status --json` does. Here a run reads the stretch it prints
 * next into one reused buffer.
 *
 * Each row's text is as it stands inside the printed array: `JSON.stringify(row, null, 2)` indented two more
 * spaces. They follow one another in the cache's order joined by what joins them in the array (TEXT_SEP), so a
 * run of rows that are neighbours in both is one read and one string, separators included.
 */
export const TEXT_SEP = ',\n  ';
const READ_AHEAD = 1 << 16;

/** How a section's entries look: what each starts with before its id, its last byte, what joins two. */
export interface EntryForm {
  head: Buffer;
  close: number;
  sep: Buffer;
}
/** the json texts (an id that JSON would escape never matches) */
export const TEXT_FORM: EntryForm = { head: Buffer.from('{\n    "id": "'), close: 0x7d, sep: Buffer.from(TEXT_SEP) };
/** the table seeds: JSON arrays, joined by \x01 (JSON text never holds a raw control character) */
export const SEED_SEP = '\x01';
export const SEED_FORM: EntryForm = { head: Buffer.from('["'), close: 0x5d, sep: Buffer.from(SEED_SEP) };

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
 * The entries of `ids` (in the cache's order) in the section at `base`, `length` bytes long, whose byte lengths
 * are `lengthOf(i)`; null when the section is not exactly them: the lengths do not add up to it, or an entry does
 * not start with the form's head and its own id and end with its closing byte, or what is between two is not the
 * form's separator. Checked through before any is used, so that a damaged cache is never half printed.
 */
export function rowTexts(fd: number, base: number, length: number, ids: readonly string[], lengthOf: (i: number) => number, form: EntryForm = TEXT_FORM): RowTexts | null {
  const { head: HEAD, sep: SEP_BYTES } = form;
  const n = ids.length;
  const starts = new Float64Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    starts[i] = at;
    at += lengthOf(i) + SEP_BYTES.length;
  }
  starts[n] = at; // where a next row would start
  if ((n ? at - SEP_BYTES.length : 0) !== length) return null;
  const end = (i: number) => starts[i + 1]! - SEP_BYTES.length;
  const reader = new SectionReader(fd, base, length);
  // byte by byte in the reused buffer: a Buffer view per check costs more than the checks (20,000 of them)
  const same = (at: number, bytes: Buffer): boolean => {
    for (let k = 0; k < bytes.length; k++) if (reader.buf[at + k] !== bytes[k]) return false;
    return true;
  };
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const from = starts[i]!;
    const to = end(i);
    if (to - from < HEAD.length + id.length + 3 || !reader.load(from, from + HEAD.length + id.length + 2)) return null;
    let at = from - reader.lo;
    if (!same(at, HEAD)) return null;
    at += HEAD.length;
    for (let k = 0; k < id.length; k++) if (reader.buf[at + k] !== id.charCodeAt(k)) return null;
    at += id.length;
    if (reader.buf[at] !== 0x22 || reader.buf[at + 1] !== 0x2c) return null;
    // the closing byte, then the separator (none after the last)
    if (!reader.load(to - 1, i + 1 < n ? starts[i + 1]! : to)) return null;
    at = to - 1 - reader.lo;
    if (reader.buf[at] !== form.close || (i + 1 < n && !same(at + 1, SEP_BYTES))) return null;
  }
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
