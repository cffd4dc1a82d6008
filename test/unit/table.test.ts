import { describe, expect, it } from 'vitest';
import { plainTable, renderTable } from '../../src/render/table.js';

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
