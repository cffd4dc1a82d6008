import { describe, expect, it } from 'vitest';
import { plainTable, plainTablePieces, renderTable } from '../../src/render/table.js';

describe('the piped table', () => {
  it('pads each column to its widest cell, two spaces apart, the last unpadded and no trailing blanks', () => {
    const text = plainTable(['id', 'state', 'next'], [
      ['a-long-id', 'ok', 'in 3m'],
      ['b', 'cooling down', ''],
    ]);
    expect(text).toBe(['id         state         next', 'a-long-id  ok            in 3m', 'b          cooling down'].join('\n') + '\n');
  });

  it('a short row gets empty cells; control characters are escaped before widths are taken', async () => {
    const text = await renderTable(['id', 'why'], [[{ text: 'x' }], [{ text: 'y' }, { text: 'bad\x1b[31m' }]], { tty: false, color: false });
    expect(text).toBe(['id  why', 'x', 'y   bad\\x1b[31m'].join('\n') + '\n');
    expect(plainTable(['id', 'why'], [['x'], ['y', 'bad\x1b[31m']])).toBe(text);
  });

  it('a newline or carriage return in a cell is escaped too, and the columns are measured after it', () => {
    expect(plainTable(['id', 'why'], [['a\nb', 'x'], ['c', 'y\rz']])).toBe(['id      why', 'a\\x0ab  x', 'c       y\\x0dz'].join('\n') + '\n');
    expect(plainTable(['id', 'why'], [['a', 'trailing  '], ['b', '']])).toBe(['id  why', 'a   trailing', 'b'].join('\n') + '\n');
  });
});

describe('the piped table, a chunk of rows at a time', () => {
  // the table as it is defined: every line padded, trimmed at its end; control characters escaped in every cell
  // first when any cell has one
  const reference = (header: string[], rows: string[][]): string => {
    const esc = (t: string) => t.replace(/[\x00-\x1f\x7f\x9b]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    const all = [header, ...(rows.some((r) => r.some((t) => /[\x00-\x1f\x7f\x9b]/.test(t))) ? rows.map((r) => r.map(esc)) : rows)];
    const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
    return all.map((r) => header.map((_, i) => (i < header.length - 1 ? (r[i] ?? '').padEnd(widths[i]! + 2) : (r[i] ?? ''))).join('').trimEnd()).join('\n') + '\n';
  };
  const cell = (i: number, j: number) => ['', ' ', 'x', 'a longer cell', 'ü ☃', 'trailing   ', `row ${i}`][(i * 7 + j * 3) % 7]!;
  const header = ['id', 'state', 'next', 'last'];

  it('is the whole table, in pieces, for every chunk size, rows of every shape', () => {
    for (const n of [0, 1, 5, 17, 300]) {
      const rows = Array.from({ length: n }, (_, i) => header.slice(0, 1 + (i % 4)).map((_, j) => cell(i, j)));
      for (const chunk of [1, 2, 7, 512]) {
        const asked: [number, number][] = [];
        const pieces = plainTablePieces(header, n, (from, to) => (asked.push([from, to]), rows.slice(from, to)), chunk);
        expect(pieces.join(''), `${n} rows, chunks of ${chunk}`).toBe(reference(header, rows));
        // no chunk asked for is larger than asked, and each row is made twice: for the widths, then the lines
        expect(asked.every(([from, to]) => to - from <= chunk && to <= n)).toBe(true);
        expect(asked.reduce((sum, [from, to]) => sum + to - from, 0)).toBe(2 * n);
      }
    }
  });

  it('a control character in any chunk escapes the whole table, the widths measured after escaping', () => {
    const rows = Array.from({ length: 40 }, (_, i) => [`r${i}`, i === 33 ? 'bad\x1b[31m' : 'ok', i === 2 ? 'a\nb' : 'in 3m']);
    for (const chunk of [1, 4, 64]) expect(plainTablePieces(header.slice(0, 3), rows.length, (from, to) => rows.slice(from, to), chunk).join('')).toBe(reference(header.slice(0, 3), rows));
  });

  it('pieces end at a line end and are about 64 KB', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => [`acct-${i}`, 'active', 'in 5h31m: quota: 1h after last use']);
    const pieces = plainTablePieces(['id', 'state', 'next'], rows.length, (from, to) => rows.slice(from, to));
    expect(pieces.length).toBeGreaterThan(2);
    for (const p of pieces) expect(p.endsWith('\n')).toBe(true);
    for (const p of pieces.slice(0, -1)) expect(p.length).toBeGreaterThanOrEqual(1 << 16);
  });
});
