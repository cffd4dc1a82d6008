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
const SEP_BYTES = Buffer.from(TEXT_SEP);
/** how every row's text starts, before its id (an id that JSON would escape never matches) */
const HEAD = Buffer.from('{\n    "id": "');
const READ_AHEAD = 1 << 16;

/** A row's text as it stands in the array: its JSON, each line after the first indented two more spaces. */
export const inArray = (json: string): string => (json.includes('\n') ? json.replaceAll('\n', '\n  ') : json);

export interface RowTexts {
  /** rows `from` to `to` (indices in the cache, both included) as one string, with TEXT_SEP between them */
  run(from: number, to: number): string;
  /** the byte length of rows `from` to `to` as run() gives them */
  bytes(from: number, to: number): number;
}

/** A stretch of one section of an open file, read ahead into a buffer that is reused. */
class SectionReader {
  private buf = Buffer.allocUnsafe(READ_AHEAD);
  private lo = 0;
  private hi = 0;

  constructor(
    private readonly fd: number,
    private readonly base: number,
    private readonly length: number,
  ) {}

  /** Bytes [from, to) of the section, valid until the next call; null when the file ends before. */
  at(from: number, to: number): Buffer | null {
    if (from >= this.lo && to <= this.hi) return this.buf.subarray(from - this.lo, to - this.lo);
    if (to > this.length) return null;
    if (to - from > this.buf.length) this.buf = Buffer.allocUnsafe(to - from);
    const want = Math.min(this.buf.length, this.length - from);
    let off = 0;
    while (off < want) {
      const n = readSync(this.fd, this.buf, off, want - off, this.base + from + off);
      if (n === 0) return null;
      off += n;
    }
    this.lo = from;
    this.hi = from + want;
    return this.buf.subarray(0, to - from);
  }
}

/**
 * The texts of `ids` (in the cache's order) in the section at `base`, `length` bytes long, whose byte lengths
 * are `lengthOf(i)`; null when the section is not exactly them: the lengths do not add up to it, or a text does
 * not start with its own id and end its object, or what is between two is not TEXT_SEP. Checked through before
 * any is used, so that a damaged cache is never half printed.
 */
export function rowTexts(fd: number, base: number, length: number, ids: readonly string[], lengthOf: (i: number) => number): RowTexts | null {
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
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const headLength = HEAD.length + id.length + 2;
    if (end(i) - starts[i]! < headLength + 1) return null;
    const head = reader.at(starts[i]!, starts[i]! + headLength);
    if (!head || head.compare(HEAD, 0, HEAD.length, 0, HEAD.length) !== 0) return null;
    if (head.toString('latin1', HEAD.length, HEAD.length + id.length) !== id) return null;
    if (head[headLength - 2] !== 0x22 || head[headLength - 1] !== 0x2c) return null;
    const tail = reader.at(end(i) - 1, i + 1 < n ? starts[i + 1]! : end(i));
    if (!tail || tail[0] !== 0x7d || (i + 1 < n && tail.compare(SEP_BYTES, 0, SEP_BYTES.length, 1) !== 0)) return null;
  }
  return {
    bytes: (from, to) => end(to) - starts[from]!,
    run(from, to) {
      const b = reader.at(starts[from]!, end(to));
      if (!b) throw new Error('the status cache changed while it was read; run status again');
      return b.toString('utf8');
    },
  };
}
