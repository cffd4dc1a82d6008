import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * Small derived files under <home>/cache that let an idle cron tick skip work: the parsed config, and each
 * account's next due time. They are only ever trusted while the files they were derived from are
 * unchanged (same inode, size, mtime and ctime) and the program version is the same; anything else falls
 * back to reading everything. Losing them costs time, never correctness, so they are written without fsync.
 */
/** [inode, size, mtime ms, ctime ms]: numbers, compared without building strings (a tick checks 1,000s). */
export type Fingerprint = [number, number, number, number];

export function fingerprint(st: Stats): Fingerprint {
  return [st.ino, st.size, st.mtimeMs, st.ctimeMs];
}

export function cacheFile(home: string, name: string): string {
  return join(home, 'cache', name);
}

export function readCache<T>(home: string, name: string): T | null {
  try {
    return JSON.parse(readFileSync(cacheFile(home, name), 'utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * A cache file written by `write` to an open temp file, then renamed into place (for one too large to make in
 * memory first). False when it could not be written; the temp file is then removed.
 */
export function writeCacheWith(home: string, name: string, write: (fd: number) => void): boolean {
  const file = cacheFile(home, name);
  const tmp = `${file}.${process.pid}.tmp`;
  let fd = -1;
  try {
    mkdirSync(join(home, 'cache'), { recursive: true, mode: 0o700 });
    fd = openSync(tmp, 'w', 0o600);
    write(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, file);
    return true;
  } catch {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    return false;
  }
}

export function writeCache(home: string, name: string, value: unknown): void {
  try {
    mkdirSync(join(home, 'cache'), { recursive: true, mode: 0o700 });
    const file = cacheFile(home, name);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.isBuffer(value) ? value : JSON.stringify(value), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    /* a cache that cannot be written only costs time */
  }
}

/** The fingerprint of a file as text (for cache keys), or null when it does not exist. */
export function statFingerprint(file: string): string | null {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? fingerprint(st).join(':') : null;
}
