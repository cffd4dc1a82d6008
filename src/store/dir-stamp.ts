import { readCache, writeCache } from './cache.js';
import type { FileStamp } from './quick-stat.js';

/**
 * A directory as it was when a listing of it was found to be exactly what a cache holds: inode, mtime, ctime.
 * Creating, removing or renaming a file in it changes its mtime and ctime; while both are the same, its names
 * are the same, and a run need not list it again (10 ms at 10,000 files). An edit in place of a file changes no
 * directory: the files themselves are still stat'ed. `owner` ties the stamp to one save of the cache it vouches
 * for (a token that changes with every save).
 */
type DirStamp = [ino: number, mtimeMs: number, ctimeMs: number];

/**
 * A directory whose mtime is within this long before it was stat'ed is not remembered: a later change in the
 * same tick of the file system's clock (coarse kernel time; whole seconds, or two, on some file systems) could
 * leave the same mtime behind. Older, any change gives it a new one (and a new ctime).
 */
const RACY_MS = 5_000;

const stampOf = (st: FileStamp): DirStamp => [st.ino, st.mtimeMs, st.ctimeMs];

/** Whether a directory stat'ed at `statedAt` (the real clock, never --now) has been still long enough to remember. */
export const settled = (st: FileStamp, statedAt: number): boolean => st.mtimeMs < statedAt - RACY_MS;

/** Whether `st` is the directory the stamp file `name` remembers for `owner`. */
export function stampHolds(home: string, name: string, owner: string, st: FileStamp): boolean {
  const known = readCache<{ owner?: unknown; stamp?: unknown }>(home, name);
  const s = known?.stamp;
  return known?.owner === owner && Array.isArray(s) && s.length === 3 && s[0] === st.ino && s[1] === st.mtimeMs && s[2] === st.ctimeMs;
}

export function rememberStamp(home: string, name: string, owner: string, st: FileStamp): void {
  writeCache(home, name, { owner, stamp: stampOf(st) });
}
