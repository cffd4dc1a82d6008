import { escapeControl, redact } from '../util/secrets.js';

export interface Cell {
  text: string;
  tone?: 'good' | 'warn' | 'bad' | 'dim';
}

/**
 * A cli-table3 box on a terminal, plain aligned columns when piped (easy to grep and diff). Both are loaded
 * lazily; colour only when asked and allowed (NO_COLOR, --no-color, not a TTY).
 */
/** The terminal's width: COLUMNS when set (as ps and kubectl honour it), else the terminal's own; null when unknown. */
export function terminalWidth(): number | null {
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env > 0) return env;
  return process.stdout.columns || null;
}

/**
 * Which columns fit a terminal `width` wide, dropping the ones named in `dropOrder` first to last; the box of
 * cli-table3 takes each column's widest cell plus two, and a border per column and one more.
 */
const WRAP_AT = 30;

export function fitColumns(header: string[], rows: Cell[][], width: number, dropOrder: readonly string[]): number[] {
  // a long cell can wrap to WRAP_AT, so it counts at most that
  const widthOf = (i: number) => Math.min(WRAP_AT, Math.max(header[i]!.length, ...rows.map((r) => r[i]?.text.length ?? 0))) + 2;
  let keep = header.map((_, i) => i);
  const total = () => keep.reduce((n, i) => n + widthOf(i) + 1, 1);
  for (const name of dropOrder) {
    if (total() <= width) break;
    keep = keep.filter((i) => header[i] !== name);
  }
  return keep;
}

/** what escapeControl changes */
const CONTROL = /[\x00-\x1f\x7f\x9b]/;

/** Cells with control characters escaped; a new row only where there is something to escape (a table over 10,000 accounts has 90,000 cells). */
function escaped(raw: Cell[][]): Cell[][] {
  let rows: Cell[][] | null = null;
  for (let j = 0; j < raw.length; j++) {
    const r = raw[j]!;
    for (let i = 0; i < r.length; i++) {
      if (!CONTROL.test(r[i]!.text)) continue;
      rows ??= raw.slice();
      rows[j] = r.map((c) => (CONTROL.test(c.text) ? { ...c, text: escapeControl(c.text) } : c));
      break;
    }
  }
  return rows ?? raw;
}

/** what escapeControl changes, other than a newline: a table's lines are counted for those */
const CONTROL_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f\x9b]/;

/**
 * Piped: plain columns two spaces apart, each as wide as its widest cell, the last one unpadded, no trailing
 * blanks; control characters escaped and secrets scrubbed. Written as loops: with 10,000 rows, spreading a column
 * into Math.max and mapping every row twice showed as a fifth of `status`. Cells are escaped only when the laid-out
 * text shows they need it (a control character, or more lines than rows): one scan of the text instead of a test
 * of each of 90,000 cells.
 */
export function plainTable(header: string[], raw: readonly (readonly string[])[]): string {
  return plainTablePieces(header, raw.length, (from, to) => raw.slice(from, to)).join('');
}

/**
 * The same over `count` rows that `rowsAt(from, to)` makes a chunk at a time, twice (once for the column widths,
 * once to lay them out): 10,000 rows held at once, with their cells, live through the young generation's
 * collections and are copied by each. In pieces of about 64 KB that end at a line's end, each scrubbed on its own
 * (neither a token run nor a URL's userinfo spans a newline).
 */
export function plainTablePieces(header: readonly string[], count: number, rowsAt: (from: number, to: number) => readonly (readonly string[])[], chunk = 512): string[] {
  let pieces = layOut(header, count, rowsAt, chunk, false);
  let lines = 0;
  for (const piece of pieces) lines += CONTROL_BUT_NEWLINE.test(piece) ? Infinity : countLines(piece);
  if (lines !== count + 1) pieces = layOut(header, count, rowsAt, chunk, true);
  return pieces.map(redact);
}

function countLines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

const PIECE = 1 << 16;

/** The table's text in pieces of whole lines, each made by one join of its cells and gaps (no string per line). */
function layOut(header: readonly string[], count: number, rowsAt: (from: number, to: number) => readonly (readonly string[])[], chunk: number, escape: boolean): string[] {
  const chunks = function* () {
    for (let from = 0; from < count; from += chunk) {
      const rows = rowsAt(from, Math.min(count, from + chunk));
      yield escape ? rows.map((r) => (r.some((t) => CONTROL.test(t)) ? r.map((t) => escapeControl(t)) : r)) : rows;
    }
  };
  const n = header.length;
  const widths = header.map((h) => h.length);
  for (const rows of chunks()) {
    for (const r of rows) {
      for (let i = 0; i < n; i++) {
        const len = r[i]?.length ?? 0;
        if (len > widths[i]!) widths[i] = len;
      }
    }
  }
  const gap = ' '.repeat(Math.max(0, ...widths) + 2);
  const pieces: string[] = [];
  let parts: string[] = [];
  let size = 0;
  // the cells padded to their columns, without the blanks the line would end in (as trimEnd would have it)
  const line = (r: readonly string[]): void => {
    let last = n - 1;
    while (last >= 0 && (r[last] ?? '').trimEnd() === '') last--;
    for (let i = 0; i < last; i++) {
      const t = r[i] ?? '';
      parts.push(t, gap.slice(0, widths[i]! - t.length + 2));
      size += widths[i]! + 2;
    }
    if (last >= 0) {
      const t = r[last]!.trimEnd();
      parts.push(t);
      size += t.length;
    }
    parts.push('\n');
    if (++size >= PIECE) {
      pieces.push(parts.join(''));
      parts = [];
      size = 0;
    }
  };
  line(header);
  for (const rows of chunks()) for (const r of rows) line(r);
  if (parts.length) pieces.push(parts.join(''));
  return pieces;
}

export async function renderTable(header: string[], raw: Cell[][], o: { tty: boolean; color: boolean; fit?: { width: number | null; dropOrder: readonly string[] } }): Promise<string> {
  let rows = escaped(raw);
  let note = '';
  let colWidths: number[] | null = null;
  if (o.tty && o.fit?.width) {
    const keep = fitColumns(header, rows, o.fit.width, o.fit.dropOrder);
    if (keep.length < header.length) {
      const hidden = header.filter((_, i) => !keep.includes(i));
      note = `(hidden to fit ${o.fit.width} columns: ${hidden.join(', ')}; --wide shows every column)\n`;
      header = keep.map((i) => header[i]!);
      rows = rows.map((r) => keep.map((i) => r[i] ?? { text: '' }));
    }
    // still too wide: the widest columns wrap (as kubectl's do), narrowest first kept whole
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.text.length ?? 0)) + 2);
    let over = widths.reduce((n, w) => n + w + 1, 1) - o.fit.width;
    if (over > 0) {
      colWidths = [...widths];
      while (over > 0) {
        const i = colWidths.indexOf(Math.max(...colWidths));
        if (colWidths[i]! <= 8) break;
        colWidths[i]!--;
        over--;
      }
    }
  }
  let paint = (c: Cell) => c.text;
  if (o.color) {
    const { Chalk } = await import('chalk');
    const chalk = new Chalk({ level: 1 });
    const tones = { good: chalk.green, warn: chalk.yellow, bad: chalk.red, dim: chalk.gray };
    paint = (c) => (c.tone ? tones[c.tone](c.text) : c.text);
  }
  if (o.tty) {
    const { default: Table } = await import('cli-table3');
    const t = new Table({ head: header, style: { head: o.color ? ['bold'] : [], border: o.color ? ['gray'] : [] }, ...(colWidths ? { colWidths, wordWrap: true, wrapOnWordBoundary: false } : {}) });
    for (const r of rows) t.push(r.map(paint));
    return redact(t.toString()) + '\n' + note;
  }
  return plainTable(header, rows.map((r) => r.map((c) => c.text)));
}
