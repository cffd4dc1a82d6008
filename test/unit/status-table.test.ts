import { describe, expect, it } from 'vitest';
import { seedTexts, type TableSeed } from '../../src/render/status-table.js';
import { relative } from '../../src/util/time.js';

const seed = (exp: number | null, reset: number | null, lastUsed: number | null, nextAt: number | null): TableSeed =>
  ['a', 'anthropic', 'active', null, exp, false, null, reset, '-', lastUsed, 0, null, nextAt, 'token', '-', 0, '-', null, null];

describe('the table seed texts', () => {
  it('every time is the text relative() gives, however many rows share a span (formatted once per second or minute)', () => {
    const now = 1_800_000_000_000;
    const spans = [0, 1, 999, 1000, 59_999, 60_000, 61_000, 3_599_999, 3_600_000, 5 * 3_600_000 + 17 * 60_000 + 5, 49 * 3_600_000, 30 * 86_400_000];
    for (const t of [now, now + 1]) {
      for (const d of spans) {
        for (const at of [t + d, t - d, t + d + 1, t - d - 1]) {
          const [, , , exp, reset, , lastUsed] = seedTexts(seed(at, at, at, null), t, false);
          expect(exp).toBe(relative(at, t));
          expect(reset).toBe(relative(at, t));
          expect(lastUsed).toBe(relative(at, t));
        }
      }
    }
    expect(seedTexts(seed(null, null, null, now + 90_000), now, false).slice(3, 9)).toEqual(['-', '-', '-', '-', '0', 'in 1m: token']);
    expect(seedTexts(seed(null, null, null, now), now, false)[8]).toBe('now: token');
  });
});
