import { randomBytes, uniqueHex } from '../util/random.js';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Per-account locks, shared by tick, refresh, the account commands and serve. A lock is a directory made
 * with mkdir (atomic), holding `owner.json`: host, pid, the process's start time and a random token.
 *
 * When is a lock stale? On this host, exactly when its owner process is gone (a pid that now belongs to a
 * younger process counts as gone): a live holder is never robbed, however long it was stopped (SIGSTOP, a
 * suspended laptop, a stalled disk). A lock from another host (shared storage), or one without an owner
 * file, is stale when its holder has not touched it for STALE_MS.
 *
 * A holder can ask whether it still holds the lock (`held`) and take it again (`retake`): a refresh that
 * outlived its lock must re-take it and compare before it writes.
 */
export const STALE_MS = 10_000;
const HEARTBEAT_MS = STALE_MS / 4;
const RETRY_MS = 100;
const HOST = hostname();

export interface Owner {
  host: string;
  pid: number;
  /** the process's start time as the kernel counts it; null where /proc is not there */
  start: string | null;
  token: string;
  at: number;
}

export type Release = (() => Promise<void>) & {
  /** true while this process still owns the lock (no other process has taken it over) */
  held(): Promise<boolean>;
  /** takes the lock again after it was lost; false when another live process holds it for waitMs */
  retake(waitMs: number): Promise<boolean>;
};

export class LockBusyError extends Error {}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or null. */
export function processStart(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const MY_START = processStart(process.pid);

/** Is a process of this host running? (EPERM: it runs, as another user.) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Is the owner of a lock on this host still running? Undefined when the owner is on another host. */
export function ownerAlive(o: Owner): boolean | undefined {
  if (o.host !== HOST) return undefined;
  if (o.pid === process.pid) return o.start === MY_START;
  if (!pidAlive(o.pid)) return false;
  // Alive, unless the pid was reused by a process that started later.
  const start = processStart(o.pid);
  return !(o.start && start && start !== o.start);
}

/**
 * The small file operations of a lock (mkdir, a 100-byte owner.json, unlink, rmdir) are synchronous: each takes
 * microseconds, while going through libuv's thread pool costs more than that in wake-ups (a busy tick of 1,000
 * accounts made 77,000 futex calls). The functions stay async for the waits between tries.
 */
export async function readOwner(path: string): Promise<Owner | null> {
  return readOwnerSync(path);
}

function readOwnerSync(path: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(join(path, 'owner.json'), 'utf8'));
    return o && typeof o.host === 'string' && typeof o.pid === 'number' && typeof o.token === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Why the lock at `path` may be taken over, or null while its holder may still be working. */
export async function staleness(path: string): Promise<{ owner: Owner | null; why: string } | null> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return null; // released meanwhile: the next attempt simply takes it
  const mtime = st.mtimeMs;
  const owner = readOwnerSync(path);
  const alive = owner ? ownerAlive(owner) : undefined;
  if (alive === true) return null;
  if (alive === false) return { owner, why: `its owner (pid ${owner!.pid}) is gone` };
  const idle = Date.now() - mtime;
  return idle > STALE_MS ? { owner, why: `not touched for ${Math.round(idle / 1000)} s${owner ? ` by ${owner.host}` : ''}` } : null;
}

async function tryMkdirLock(path: string): Promise<Owner | null> {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw e;
  }
  const me: Owner = { host: HOST, pid: process.pid, start: MY_START, token: uniqueHex(), at: Date.now() };
  writeFileSync(join(path, 'owner.json'), JSON.stringify(me), { mode: 0o600 });
  return me;
}

/**
 * Removes a stale lock. Several processes may find the same lock stale at once; a small guard directory
 * makes them take turns, and each checks again under it that the lock is still the stale one it saw.
 */
async function takeOver(path: string, seen: Owner | null): Promise<void> {
  const guard = `${path}.takeover`;
  try {
    await mkdir(guard);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // A guard whose holder died mid-takeover (it only does a few file operations) is cleared after a while.
    const st = await stat(guard).catch(() => null);
    if (st && Date.now() - st.mtimeMs > STALE_MS) await rm(guard, { recursive: true, force: true });
    return;
  }
  try {
    const again = await staleness(path);
    if (!again || again.owner?.token !== seen?.token) return;
    const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
    await rename(path, aside).catch(() => undefined);
    await rm(aside, { recursive: true, force: true });
  } finally {
    await rm(guard, { recursive: true, force: true });
  }
}

/** One try: the lock, or null while another live holder has it. Stale locks are taken over on the way. */
async function acquireOnce(path: string): Promise<Owner | null> {
  const me = await tryMkdirLock(path);
  if (me) return me;
  const stale = await staleness(path);
  if (!stale) return null;
  await takeOver(path, stale.owner);
  return tryMkdirLock(path);
}

async function acquire(path: string, waitMs: number): Promise<Owner | null> {
  const until = Date.now() + waitMs;
  for (;;) {
    const me = await acquireOnce(path);
    if (me || Date.now() >= until) return me;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/**
 * A lock directory holds owner.json and nothing else: two calls instead of a recursive rm's lstat, failed
 * rmdir, readdir, unlink and rmdir. Anything more in it (or an error) goes the long way.
 */
async function removeLock(path: string): Promise<void> {
  try {
    unlinkSync(join(path, 'owner.json'));
    rmdirSync(path);
  } catch {
    await rm(path, { recursive: true, force: true });
  }
}

function lease(path: string, first: Owner): Release {
  let me = first;
  let released = false;
  const held = async () => !released && readOwnerSync(path)?.token === me.token;
  // The heartbeat is for other hosts; on this host, liveness is the owner's pid. It never freshens a lock
  // that another process has taken over.
  const beat = async () => {
    if (await held()) await utimes(path, new Date(), new Date());
  };
  const timer = setInterval(() => void beat().catch(() => undefined), HEARTBEAT_MS);
  timer.unref();
  const release = (async () => {
    if (released) return;
    clearInterval(timer);
    const mine = await held();
    released = true;
    if (mine) await removeLock(path);
  }) as Release;
  release.held = held;
  release.retake = async (waitMs: number) => {
    if (await held()) return true;
    const again = await acquire(path, waitMs);
    if (!again) return false;
    me = again;
    return true;
  };
  return release;
}

const pathOf = (lockDir: string, id: string) => join(lockDir, `${id}.lock`);

/** Takes the lock, or returns null at once when another live process holds it. */
export async function tryLock(lockDir: string, id: string): Promise<Release | null> {
  const path = pathOf(lockDir, id);
  const me = await acquireOnce(path);
  return me ? lease(path, me) : null;
}

/** Waits up to waitMs for the lock. */
export async function lock(lockDir: string, id: string, waitMs: number): Promise<Release> {
  const path = pathOf(lockDir, id);
  const me = await acquire(path, waitMs);
  if (!me) {
    const owner = await readOwner(path);
    const who = owner ? ` (pid ${owner.pid} on ${owner.host})` : '';
    throw new LockBusyError(`account ${id} is locked by another refresher process${who} (a tick, refresh or serve); try again in a few seconds`);
  }
  return lease(path, me);
}

/**
 * The locks held by a live process of this host, by account id, with their owner (synchronous: status and a
 * tick ask it once). A lock is never taken from a live holder, so one that holds it for long (a stopped
 * process) is something a person must hear about.
 */
export function liveHolders(lockDir: string): Map<string, Owner> {
  const out = new Map<string, Owner>();
  let names: string[];
  try {
    names = readdirSync(lockDir).filter((n) => n.endsWith('.lock'));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const o = JSON.parse(readFileSync(join(lockDir, n, 'owner.json'), 'utf8')) as Owner;
      if (o && typeof o.pid === 'number' && typeof o.at === 'number' && ownerAlive(o) === true) out.set(n.slice(0, -'.lock'.length), o);
    } catch {
      /* being created or released */
    }
  }
  return out;
}
