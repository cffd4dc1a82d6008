import { crc32 as zlibCrc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32, crc32UsesBinding } from '../../src/util/crc32.js';

describe('crc32', () => {
  it('uses the binding on the Node versions CI runs', () => {
    expect(crc32UsesBinding()).toBe(true);
  });

  it('answers as zlib.crc32 does, whole and carried on from part to part', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    for (const size of [1, 7, 4096, 65_536, 200_001]) {
      const data = randomBytes(size);
      expect(crc32(data)).toBe(zlibCrc32(data));
      const cut = Math.floor(size / 3);
      expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(zlibCrc32(data));
      // a view at an offset of its ArrayBuffer, as the status cache's reused buffer gives them
      expect(crc32(data.subarray(1))).toBe(zlibCrc32(data.subarray(1)));
    }
  });
});
