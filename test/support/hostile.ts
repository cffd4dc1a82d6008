import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';

/**
 * Makes a directory refuse new files, for the user running the tests: mode 0500 for a normal user; for
 * root, which ignores modes, the immutable attribute (ext4 and most local file systems). Returns the undo,
 * or null when this machine cannot do it (the caller says so and skips).
 */
export function makeUnwritable(dir: string): (() => void) | null {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o500);
    return () => chmodSync(dir, 0o700);
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    return () => execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `f` is true. */
export async function until(f: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The pid of a process that has exited: what a killed writer leaves in its temp file's name. */
export function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}
