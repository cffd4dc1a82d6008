import { statSync } from 'node:fs';

/** What the caches compare of a file (its fingerprint), and its mode for the permission warnings. */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  mode: number;
}

type RawStat = (path: string) => ArrayLike<number> | undefined;

/**
 * `statSync(path, { throwIfNoEntry: false })` for the loops that stat every account file (an idle tick, status).
 * On Node 20 a Stats object comes with four Dates: at 10,000 files that is half the loop's time in a fresh
 * process (about 25 of 50 ms) and most of its garbage. statSync gets its numbers from Node's fs binding;
 * so does this, without the Stats. The binding is internal, so it is used only on the Node majors CI tests
 * (where its signature is known: a call with the wrong one could abort the process, not throw), and only after
 * it has answered exactly like statSync in this process. Anything else means statSync. Errors are statSync's.
 */
export function quickStat(path: string): FileStamp | undefined {
  const raw = rawStat === undefined ? (rawStat = loadRawStat()) : rawStat;
  if (!raw) return publicStat(path);
  const v = raw(path);
  // the binding's order: dev mode nlink uid gid rdev blksize ino size blocks, then seconds and nanoseconds
  // of atime mtime ctime birthtime; milliseconds computed as Node computes mtimeMs (sec * 1e3 + nsec / 1e6)
  return v === undefined ? undefined : { ino: v[7]!, size: v[8]!, mtimeMs: v[12]! * 1e3 + v[13]! / 1e6, ctimeMs: v[14]! * 1e3 + v[15]! / 1e6, mode: v[1]! };
}

function publicStat(path: string): FileStamp | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st && { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, mode: st.mode };
}

/** undefined: not checked yet in this process; null: statSync it is. */
let rawStat: RawStat | null | undefined;

/** For tests: forget the choice; `allowBinding: false` keeps to statSync for the rest of the process. */
export function resetQuickStat(allowBinding = true): void {
  rawStat = allowBinding ? undefined : null;
}

export const quickStatUsesBinding = (): boolean => (rawStat === undefined ? (rawStat = loadRawStat()) : rawStat) !== null;

function knownSignature(version: string): boolean {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return (major === 20 && minor >= 18) || major === 22 || major === 24;
}

function loadRawStat(): RawStat | null {
  if (!knownSignature(process.versions.node)) return null;
  try {
    // process.binding is deprecated (DEP0111, printed only under --pending-deprecation): a cron tick that
    // printed it would mail its owner every minute, so that one warning is held back for this one call
    const quiet = process.noDeprecation;
    let fs: { stat?: unknown };
    try {
      process.noDeprecation = true;
      fs = (process as unknown as { binding(name: string): { stat?: unknown } }).binding('fs');
    } finally {
      process.noDeprecation = quiet;
    }
    const stat = fs.stat;
    if (typeof stat !== 'function') return null;
    const raw: RawStat = (path) => stat.call(fs, path, false, undefined, false);
    // the check: the root directory, and a name that is not there, answered as statSync answers them
    const probe = '/';
    const a = statSync(probe);
    const b = raw(probe);
    if (!b || b.length < 16 || b[7] !== a.ino || b[8] !== a.size || b[1] !== a.mode) return null;
    if (b[12]! * 1e3 + b[13]! / 1e6 !== a.mtimeMs || b[14]! * 1e3 + b[15]! / 1e6 !== a.ctimeMs) return null;
    if (raw('/\u0001refresher-no-such-file') !== undefined) return null;
    return raw;
  } catch {
    return null;
  }
}
