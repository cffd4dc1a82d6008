import { uniqueHex } from '../util/random.js';
import { closeSync, fchmodSync, fsync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** A name for a temp file beside `file` that no other process, and no earlier write of this one, uses. */
export function tmpName(file: string, kind: 'tmp' | 'probe'): string {
  return `${file}.${process.pid}.${uniqueHex()}.${kind}`;
}

const fsyncFd = (fd: number) => new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));

/**
 * Temp file in the same directory, fsync, rename, fsync the directory: after this returns, either the old
 * or the new content is on disk, never a torn file. The steps that take microseconds are synchronous; the
 * fsyncs, which take milliseconds, are not, so that the writes of a busy tick overlap (each asynchronous step
 * costs a round trip through libuv's thread pool: a busy tick made 77,000 futex calls for 1,000 accounts).
 */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const tmp = tmpName(file, 'tmp');
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeAll(fd, text);
      fchmodSync(fd, mode); // exactly `mode`, whatever the umask took away
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* renamed, or never made */
    }
    throw e;
  }
  await syncDir(dirname(file));
}

/**
 * One fsync of a directory serves every rename in it that finished before that fsync began: writes that arrive
 * while one is running wait for the next, which starts when it ends. A busy tick syncs accounts/ a few times
 * per batch of concurrent writes instead of once per file, and every caller still returns only after a sync
 * that covers its rename.
 */
const rounds = new Map<string, { started: boolean; done: Promise<void> }>();
export function syncDir(dir: string): Promise<void> {
  const pending = rounds.get(dir);
  if (pending && !pending.started) return pending.done;
  const round = { started: false, done: Promise.resolve() };
  round.done = (pending?.done.catch(() => undefined) ?? Promise.resolve()).then(async () => {
    round.started = true;
    try {
      const fd = openSync(dir, 'r');
      try {
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
    } finally {
      if (rounds.get(dir) === round) rounds.delete(dir);
    }
  });
  rounds.set(dir, round);
  return round.done;
}

/**
 * Creates, fills, syncs and removes a probe file of `bytes` beside `file`: the same steps a write of that
 * size takes, so a directory that is read-only, owned by someone else or full fails here, before anything
 * is spent. The error names the directory and the errno.
 */
export async function probeDir(file: string, bytes: number): Promise<void> {
  const probe = tmpName(file, 'probe');
  let fd: number | null = null;
  try {
    fd = openSync(probe, 'wx', 0o600);
    writeAll(fd, Buffer.alloc(bytes));
    await fsyncFd(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'an error';
    throw new Error(`cannot write in ${dirname(file)} (${code})`);
  } finally {
    if (fd !== null) closeQuietly(fd);
    try {
      unlinkSync(probe);
    } catch {
      /* never made */
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** writeSync until every byte is written (a regular file takes them at once, but a write may be cut short). */
function writeAll(fd: number, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at, buf.length - at);
}

/**
 * The first half of an atomic write, synchronous and without fsync: the complete new content lands in a
 * temp file beside `file` in a few system calls, with no await in between. A process killed after this
 * leaves a complete temp file that the next run adopts (see repair.ts); commitTmp finishes the write.
 */
export function writeTmpSync(file: string, text: string, mode = 0o600): string {
  const tmp = tmpName(file, 'tmp');
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeAll(fd, text);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** The second half: fsync the temp file, rename it over `file`, fsync the directory. */
export async function commitTmp(tmp: string, file: string): Promise<void> {
  const fd = openSync(tmp, 'r+');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  await syncDir(dirname(file));
}
