import { join } from 'node:path';
import { cjs } from '../util/cjs.js';

/**
 * Per-account locks, shared by tick, refresh, account commands and serve. A lock is a directory made with
 * mkdir (atomic) whose mtime the holder touches every few seconds; one not touched for STALE_MS belongs to a
 * dead process and is taken over, so a `kill -9` blocks an account for at most ~10 s.
 */
export const STALE_MS = 10_000;

export type Release = () => Promise<void>;

export class LockBusyError extends Error {}

function options(lockDir: string, id: string, waitMs: number) {
  const retries = waitMs > 0 ? { retries: Math.ceil(waitMs / 250), minTimeout: 250, maxTimeout: 250, factor: 1 } : 0;
  return {
    lockfilePath: join(lockDir, `${id}.lock`),
    realpath: false,
    stale: STALE_MS,
    update: STALE_MS / 4,
    retries,
    onCompromised: (err: Error) => {
      process.stderr.write(`warning: lock for account ${id} was lost (${err.message}); another process may take it over\n`);
    },
  };
}

/** Takes the lock, or returns null at once when another live process holds it. */
// Loaded on first use: an idle tick takes no lock and should not pay for the library.
const lib = async () => cjs(await import('proper-lockfile'));

export async function tryLock(lockDir: string, file: string, id: string): Promise<Release | null> {
  const lockfile = await lib();
  try {
    return await lockfile.lock(file, options(lockDir, id, 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') return null;
    throw e;
  }
}

/** Waits up to waitMs for the lock. */
export async function lock(lockDir: string, file: string, id: string, waitMs: number): Promise<Release> {
  const lockfile = await lib();
  try {
    return await lockfile.lock(file, options(lockDir, id, waitMs));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new LockBusyError(`account ${id} is locked by another refresher process (a tick, refresh or serve); try again in a few seconds`);
    }
    throw e;
  }
}
