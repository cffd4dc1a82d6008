import { mkdirSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

/**
 * The layout of a home, read without opening any account: where files are, what the accounts directory
 * holds, what waits in recovery/, and the mode and fingerprint of a file. An idle tick needs nothing more,
 * so its bundle stops here; AccountStore (store.ts) adds reading, locking and writing.
 */

/** `<id>.json.<pid>.<hex>.tmp|probe`: what atomic writes and write probes leave when killed */
export const LEFTOVER = /^(.+)\.json\.(\d+)\.([0-9a-f]+)\.(tmp|probe)$/;
/** `<id>.<ISO time>.json` in recovery/: tokens that could not be written to the account file */
const PENDING_RECOVERY = /^(.+)\.(\d{4}-\d\d-\d\dT[0-9-]+Z)\.json$/;

/** What the accounts directory holds (see AccountDir.scan). */
export interface Scan {
  ids: string[];
  /** the ids whose directory entry says "regular file" */
  regular: Set<string>;
  /** id -> names of the temp and probe files that killed writes left */
  leftovers: Map<string, string[]>;
}

export function modeWarning(path: string, mode: number, want: number): string | null {
  if ((mode & 0o077) === 0) return null;
  return `${path} is mode ${(mode & 0o777).toString(8)}; others can read it. Run: chmod ${want.toString(8)} ${path}`;
}

/**
 * Runs `fn` with the working directory in `dir`, so that `fn` can stat names relative to it: the kernel then
 * looks up one path component per file instead of every one of the absolute path (about 5 % of a tick over
 * 10,000 files). The working directory is given back before returning. Where it cannot be (it was removed,
 * or `dir` cannot be entered), `fn` gets the absolute prefix instead.
 */
export function inDir<T>(dir: string, fn: (prefix: string) => T): T {
  let back: string;
  try {
    back = process.cwd();
    process.chdir(dir);
  } catch {
    return fn(`${dir}/`);
  }
  try {
    return fn('');
  } finally {
    process.chdir(back);
  }
}

export class AccountDir {
  readonly dir: string;
  readonly lockDir: string;

  constructor(readonly home: string) {
    this.dir = join(home, 'accounts');
    this.lockDir = join(home, 'locks');
  }

  fileOf(id: string): string {
    // plain concatenation: path.join shows up when an idle tick stats thousands of files
    return `${this.dir}/${id}.json`;
  }

  /** Creates home, accounts/ and locks/ as 0700 (only when something is about to be written). */
  ensureDirs(): void {
    for (const d of [this.home, this.dir, this.lockDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  /**
   * Why this home cannot be used, or null. A home that does not exist is an error for the commands that
   * read it: under cron, a wrong HOME or --home must not look like a run with nothing to do.
   */
  homeProblem(): string | null {
    const home = statSync(this.home, { throwIfNoEntry: false });
    if (!home) return `no refresher home at ${this.home}; add an account first (\`refresher account add\`), or point --home or REFRESHER_HOME at the right one`;
    if (!home.isDirectory()) return `the refresher home ${this.home} is not a directory`;
    const dir = statSync(this.dir, { throwIfNoEntry: false });
    if (dir && !dir.isDirectory()) return `${this.dir} is not a directory; move it away so that refresher can keep account files there`;
    return null;
  }

  /** The account ids alone, sorted: a listing without file types (half the time of scan's at 10,000 files). */
  listIds(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const ids: string[] = [];
    for (const n of names) if (n.endsWith('.json')) ids.push(n.slice(0, -5));
    return ids.sort();
  }

  /**
   * The account ids, and the leftovers of writes that never finished: `<id>.json.<pid>.<hex>.tmp` (a write
   * killed before its rename) and `.probe` files (see probeWritable).
   */
  scan(): Scan {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ids: [], regular: new Set(), leftovers: new Map() };
      throw e;
    }
    const ids: string[] = [];
    const regular = new Set<string>();
    const leftovers = new Map<string, string[]>();
    for (const d of entries) {
      const n = d.name;
      if (n.endsWith('.json')) {
        const id = n.slice(0, -5);
        ids.push(id);
        if (d.isFile()) regular.add(id);
      } else {
        const m = LEFTOVER.exec(n);
        if (m) leftovers.set(m[1]!, [...(leftovers.get(m[1]!) ?? []), n]);
      }
    }
    return { ids: ids.sort(), regular, leftovers };
  }

  get recoveryDir(): string {
    return join(this.home, 'recovery');
  }

  /**
   * Accounts whose newest tokens wait in recovery/ because their file could not be written: id -> the
   * newest such file. Conflict copies (`.conflict.json`) are kept for a person but block nothing.
   */
  pendingRecovery(): Map<string, string> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = readdirSync(this.recoveryDir).sort();
    } catch {
      return out;
    }
    for (const n of names) {
      const m = PENDING_RECOVERY.exec(n);
      if (m) out.set(m[1]!, join(this.recoveryDir, n));
    }
    return out;
  }

  /** Warnings for a home or accounts directory that others can read. */
  dirWarnings(): string[] {
    const out: string[] = [];
    for (const d of [this.home, this.dir]) {
      try {
        const w = modeWarning(d, statSync(d).mode, 0o700);
        if (w) out.push(w);
      } catch {
        /* a missing home just means no accounts yet */
      }
    }
    return out;
  }
}
