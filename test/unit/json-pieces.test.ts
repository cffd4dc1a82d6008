import { describe, expect, it } from 'vitest';
import { jsonArrayPieces } from '../../src/render/json.js';

describe('jsonArrayPieces', () => {
  const docs: unknown[][] = [
    [],
    [1],
    [{}],
    [[]],
    [{ a: [] }, { b: {} }],
    [null, 'x\ny', undefined, () => 0, { u: undefined, n: null, s: 'line\nbreak "quoted"', nested: { deep: [1, [2, { three: 3 }]] } }],
    Array.from({ length: 300 }, (_, i) => ({ id: `acct-${i}`, quota: { checkedAt: 1_700_000_000_000 + i }, next: i % 2 ? null : { at: i, reason: 'r' } })),
  ];
  it('joined, is JSON.stringify(doc, null, 2) plus a newline, for any piece size', () => {
    for (const doc of docs) {
      const want = JSON.stringify(doc, null, 2) + '\n';
      for (const size of [1, 10, 100, 1 << 16]) expect([...jsonArrayPieces(doc, size)].join(''), `${want.slice(0, 40)} @${size}`).toBe(want);
    }
  });
  it('cuts only after a newline, and near the size asked for', () => {
    const doc = docs[docs.length - 1]!;
    const pieces = [...jsonArrayPieces(doc, 1000)];
    expect(pieces.length).toBeGreaterThan(10);
    for (const p of pieces) {
      expect(p.endsWith('\n')).toBe(true);
      expect(p.length).toBeLessThan(1000 + 400);
    }
  });
});
