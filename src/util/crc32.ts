import { quietBinding } from './binding.js';

/**
 * CRC-32 (zlib's: the one `zlib.crc32` computes), for the status cache to tell its own bytes from damaged ones.
 * `zlib.crc32` is native and checks 10 MB in a few ms, where a JS loop over each row's first bytes took ~20 ms in
 * a fresh process for 10,000 rows. But loading node:zlib costs 4-5 ms (its streams), so the binding it calls is
 * used when it gives the standard check value, as zlib.crc32 would; else zlib.crc32 itself (Node >= 20.15 has it).
 */
type Crc32 = (data: Uint8Array, value: number) => number;

let impl: Crc32 | undefined;

export function crc32(data: Uint8Array, value = 0): number {
  return (impl ??= load())(data, value);
}

/** for tests: whether the binding is used (false: zlib.crc32) */
export const crc32UsesBinding = (): boolean => (impl ??= load()) !== publicCrc32;

const publicCrc32: Crc32 = (data, value) => (process.getBuiltinModule('node:zlib') as typeof import('node:zlib')).crc32(data, value);

// crc32("123456789"): the check value every CRC-32 (zlib's polynomial) gives
const CHECK = 0xcbf43926;

function load(): Crc32 {
  try {
    const zlib = quietBinding('zlib');
    const native = zlib.crc32;
    if (typeof native !== 'function') return publicCrc32;
    const call: Crc32 = (data, value) => native.call(zlib, data, value) as number;
    const digits = Buffer.from('123456789');
    // the check value, and a value carried on from a first part, as zlib.crc32 gives them
    if (call(digits, 0) !== CHECK || call(digits.subarray(5), call(digits.subarray(0, 5), 0)) !== CHECK) return publicCrc32;
    return call;
  } catch {
    return publicCrc32;
  }
}
