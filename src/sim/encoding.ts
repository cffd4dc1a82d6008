import { execFileSync } from 'node:child_process';
import * as zlib from 'node:zlib';

/**
 * A request body as the backend reads it: the Codex CLI sends its turns zstd-encoded
 * (`content-encoding: zstd`). Node has zstd from 22.15 on; on Node 20 the simulator asks Debian's zstd.
 * Null: the bytes do not decode (the backend answers 400).
 */
export function decodeBody(raw: Buffer, encoding: string | undefined): Buffer | null {
  const e = (encoding ?? '').trim().toLowerCase();
  try {
    if (!e || e === 'identity') return raw;
    if (e === 'gzip') return zlib.gunzipSync(raw);
    if (e === 'zstd') {
      const native = (zlib as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
      return native ? native(raw) : execFileSync('zstd', ['-dcq'], { input: raw, maxBuffer: 64 << 20 });
    }
  } catch {
    return null;
  }
  return null;
}
