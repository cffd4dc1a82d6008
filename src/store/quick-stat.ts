import { lstatSync, statSync } from 'node:fs';
import { quietBinding } from '../util/binding.js';

/** What the caches compare of a file (its fingerprint), and its mode for the permission warnings. */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  mode: number;
}

type RawStat = (path: string) => ArrayLike<number> | undefined;
type Kind = 'stat' | 'lstat';

/**
 * `statSync(path, { throwIfNoEntry: false })` for the loops that stat every account file (an idle tick, status).
 * On Node 20 a Stats object comes with four Dates: at 10,000 files that is half the loop's time in a fresh
 * process (about 25 of 50 ms) and most of its garbage. statSync gets its numbers from Node's fs binding;
 * so does this, without the Stats. The binding is internal, so it is used only on the Node majors CI tests
 * (where its signature is known: a call with the wrong one could abort the process, not throw), and only after
 * it has answered exactly like statSync in this process. Anything else means statSync. Errors are statSync's.
 */
export function quickStat(path: string): FileStamp | undefined {
  const raw = rawFor('stat');
  if (!raw) return publicStat('stat', path);
  const v = raw(path);
  return v === undefined ? undefined : { ino: v[7]!, size: v[8]!, mtimeMs: msOf(v[12]!, v[13]!), ctimeMs: msOf(v[14]!, v[15]!), mode: v[1]! };
}

/** S_IFREG: a regular file (not a symlink, directory or device). */
export const isRegularMode = (mode: number): boolean => (mode & 0o170000) === 0o100000;

/**
 * The file's mode when it has the fingerprint at `fp[at]` to `fp[at + 3]` (inode, size, mtime, ctime), else -1
 * (changed, or not there). The loops over every account ask this 10,000 times: through the binding it allocates
 * nothing.
 */
export function modeIfUnchanged(path: string, fp: ArrayLike<number>, at: number, kind: Kind = 'stat'): number {
  // written out, not through rawFor and msOf: a fresh process runs this loop before the JIT inlines any call
  const raw = raws[kind] === undefined ? (raws[kind] = loadRaw(kind)) : raws[kind];
  if (!raw) {
    const st = publicStat(kind, path);
    return st && st.ino === fp[at] && st.size === fp[at + 1] && st.mtimeMs === fp[at + 2] && st.ctimeMs === fp[at + 3] ? st.mode : -1;
  }
  const v = raw(path);
  if (v === undefined || v[7] !== fp[at] || v[8] !== fp[at + 1]) return -1;
  return v[12]! * 1e3 + v[13]! / 1e6 === fp[at + 2] && v[14]! * 1e3 + v[15]! / 1e6 === fp[at + 3] ? v[1]! : -1;
}

// The binding's order: dev mode nlink uid gid rdev blksize ino size blocks, then seconds and nanoseconds of
// atime mtime ctime birthtime. Milliseconds as Node computes mtimeMs, to the last bit.
const msOf = (sec: number, nsec: number): number => sec * 1e3 + nsec / 1e6;

function publicStat(kind: Kind, path: string): FileStamp | undefined {
  const st = (kind === 'stat' ? statSync : lstatSync)(path, { throwIfNoEntry: false });
  return st && { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, mode: st.mode };
}

/** Per kind, undefined: not checked yet in this process; null: the public call it is. */
const raws: Record<Kind, RawStat | null | undefined> = { stat: undefined, lstat: undefined };

/** For tests: forget the choice; `allowBinding: false` keeps to statSync and lstatSync for the rest of the process. */
export function resetQuickStat(allowBinding = true): void {
  raws.stat = raws.lstat = allowBinding ? undefined : null;
}

/** The binding's call for `kind`, checked on first use; null: the public call it is. */
const rawFor = (kind: Kind): RawStat | null => (raws[kind] === undefined ? (raws[kind] = loadRaw(kind)) : raws[kind]);

export const quickStatUsesBinding = (): boolean => rawFor('stat') !== null;

function knownSignature(version: string): boolean {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return (major === 20 && minor >= 18) || major === 22 || major === 24;
}

function loadRaw(kind: Kind): RawStat | null {
  if (!knownSignature(process.versions.node)) return null;
  try {
    const fs = quietBinding('fs');
    const call = fs[kind];
    if (typeof call !== 'function') return null;
    const raw: RawStat = (path) => call.call(fs, path, false, undefined, false);
    // the check: the root directory, and a name that is not there, answered as statSync answers them
    const a = (kind === 'stat' ? statSync : lstatSync)('/');
    const b = raw('/');
    if (!b || b.length < 16 || b[7] !== a.ino || b[8] !== a.size || b[1] !== a.mode) return null;
    if (msOf(b[12]!, b[13]!) !== a.mtimeMs || msOf(b[14]!, b[15]!) !== a.ctimeMs) return null;
    if (raw('/\u0001refresher-no-such-file') !== undefined) return null;
    return raw;
  } catch {
    return null;
  }
}
