import { randomBytes } from '../util/random.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Temp file in the same directory, fsync, rename, fsync the directory: after this returns, either the old
 * or the new content is on disk, never a torn file. Async so that many fsyncs of one tick overlap.
 */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Creates, fills, syncs and removes a probe file of `bytes` beside `file`: the same steps a write of that
 * size takes, so a directory that is read-only, owned by someone else or full fails here, before anything
 * is spent. The error names the directory and the errno.
 */
export async function probeDir(file: string, bytes: number): Promise<void> {
  const probe = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.probe`;
  let fh;
  try {
    fh = await open(probe, 'wx', 0o600);
    await fh.writeFile(Buffer.alloc(bytes));
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'an error';
    throw new Error(`cannot write in ${dirname(file)} (${code})`);
  } finally {
    await fh?.close().catch(() => undefined);
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * The first half of an atomic write, synchronous and without fsync: the complete new content lands in a
 * temp file beside `file` in a few system calls, with no await in between. A process killed after this
 * leaves a complete temp file that the next run adopts (see repair.ts); commitTmp finishes the write.
 */
export function writeTmpSync(file: string, text: string, mode = 0o600): string {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** The second half: fsync the temp file, rename it over `file`, fsync the directory. */
export async function commitTmp(tmp: string, file: string): Promise<void> {
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
