import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, AccountPatch } from '../model/types.js';
import { describeJsonError, registerSecret } from '../util/secrets.js';
import { parseAccount, secretsOf } from '../model/account-schema.js';
import { AccountDir, modeWarning, type Scan } from './account-dir.js';
import { fingerprint, type Fingerprint } from './cache.js';
import { ID_PATTERN } from './home.js';
import type { Release } from './lock.js';

/**
 * The only code that reads or writes account files. Files are read without a lock for planning; every
 * write is read-modify-write of the raw JSON under the account's lock, so unknown fields and fields that
 * another process changed survive.
 */
export const MAX_FILE_BYTES = 1024 * 1024;

export type RawAccount = Record<string, unknown>;

export interface LoadedAccount {
  account: Account;
  raw: RawAccount;
  file: string;
  /** the file's identity when it was read (see cache.ts); null for a document just written */
  fingerprint: Fingerprint | null;
}

export interface FileProblem {
  id: string;
  file: string;
  field: string | null;
  message: string;
  /** a setting (proxy, endpoint) rather than data is wrong: a config error, exit 2 */
  config?: boolean;
}

const SETTING_FIELDS = new Set(['proxy', 'endpoint']);

/** Exit code for unreadable files: 2 when one holds a bad setting, else 1. */
export function problemsExitCode(problems: readonly FileProblem[]): number {
  return problems.some((p) => p.config) ? 2 : problems.length ? 1 : 0;
}

export function describeProblem(p: FileProblem): string {
  return `${p.file}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

export interface LoadResult {
  accounts: LoadedAccount[];
  problems: FileProblem[];
  warnings: string[];
}


const NO_SUCH_FILE = 'no such account file; run `refresher status` to list accounts';
const SYMLINK = 'is a symbolic link; refresher keeps account files as regular files: replace the link with the file itself';

/** A compare-and-set write found the file changed by another process. */
export class StaleWriteError extends Error {}

export class AccountFileError extends Error {
  constructor(readonly problem: FileProblem) {
    super(describeProblem(problem));
  }
}

/** Merges a patch into the raw document: credentials field by field, everything else replaced. */
export function applyPatch(raw: RawAccount, patch: AccountPatch): RawAccount {
  const out: RawAccount = { ...raw };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (k === 'credentials') out.credentials = { ...(raw.credentials as object), ...(v as object) };
    else out[k] = v;
  }
  return out;
}

function fileKind(st: import('node:fs').Stats): string {
  return st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a file';
}


export class AccountStore extends AccountDir {
  /**
   * Reads one file without a lock. Never modifies it, whatever is wrong with it. `listedRegular`: the directory
   * listing just said it is a regular file (so the lstat is spared; the open and fstat still check).
   */
  read(id: string, warnings?: string[], listedRegular = false): LoadedAccount | FileProblem {
    const file = this.fileOf(id);
    const problem = (field: string | null, message: string): FileProblem => ({ id, file, field, message });
    if (!ID_PATTERN.test(id)) return problem(null, `the file name is not a valid account id ([a-z0-9][a-z0-9._-]{0,63}); rename it`);
    let text: string;
    let fp: Fingerprint;
    // Look before opening: a symlink would be replaced by a regular file on the next write while its target
    // kept the consumed token, and a device is not ours to open. (The listing's file types say the same for a
    // whole directory at no cost; a swap after it is caught by O_NOFOLLOW, O_NONBLOCK and the fstat.)
    if (!listedRegular) {
      const lst = lstatSync(file, { throwIfNoEntry: false });
      if (!lst) return problem(null, NO_SUCH_FILE);
      if (lst.isSymbolicLink()) return problem(null, SYMLINK);
      if (!lst.isFile()) return problem(null, `is not a regular file (${fileKind(lst)}); remove it or move it out of ${this.dir}`);
    }
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return problem(null, code === 'ENOENT' ? NO_SUCH_FILE : code === 'ELOOP' ? SYMLINK : `cannot open it (${code})`);
    }
    try {
      const st = fstatSync(fd);
      fp = fingerprint(st);
      if (!st.isFile()) return problem(null, `is not a regular file (${fileKind(st)}); remove it or move it out of ${this.dir}`);
      if (st.size === 0) return problem(null, 'the file is empty; restore it from a backup or remove it');
      if (st.size > MAX_FILE_BYTES) return problem(null, `the file is ${st.size} bytes, over the 1 MiB limit for an account file`);
      const w = warnings && modeWarning(file, st.mode, 0o600);
      if (w) warnings!.push(w);
      const buf = Buffer.allocUnsafe(st.size);
      let off = 0;
      while (off < st.size) {
        const n = readSync(fd, buf, off, st.size - off, off);
        if (n === 0) break;
        off += n;
      }
      // A byte that is not UTF-8 would come back as U+FFFD on the next write: the file could not be given back
      // as it was, so it is not taken at all.
      if (!isUtf8(buf.subarray(0, off))) return problem(null, 'holds bytes that are not UTF-8; refresher leaves it byte for byte (the others are still served). Re-save it as UTF-8, or remove it and add the account again');
      text = buf.toString('utf8', 0, off);
    } finally {
      closeSync(fd);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      return problem(null, `${describeJsonError(e)}; fix or remove the file`);
    }
    const parsed = parseAccount(raw, id);
    if ('problem' in parsed) return { ...problem(parsed.problem.field, parsed.problem.message), config: SETTING_FIELDS.has(parsed.problem.field) };
    for (const s of secretsOf(parsed.account)) registerSecret(s);
    return { account: parsed.account, raw: raw as RawAccount, file, fingerprint: fp };
  }

  /** Every account file; `listing` when the caller has just listed them (see scan). */
  loadAll(only?: ReadonlySet<string>, listing: Scan = this.scan()): LoadResult {
    const result: LoadResult = { accounts: [], problems: [], warnings: this.dirWarnings() };
    const recovery = this.pendingRecovery();
    for (const id of listing.ids) {
      if (only && !only.has(id)) continue;
      const r = this.read(id, result.warnings, listing.regular.has(id));
      if ('account' in r) {
        r.account.recovery = recovery.get(id) ?? null;
        result.accounts.push(r);
      } else result.problems.push(r);
    }
    return result;
  }

  /**
   * Home, accounts/ and locks/, made once per store before a lock or a write: a busy tick takes 1,000 locks and
   * writes 1,000 files, and three recursive mkdirs for each were a tenth of its system calls. A directory that
   * vanished since makes that one operation fail with ENOENT; the next one makes them again.
   */
  private dirsMade = false;
  private async withDirs<T>(take: () => Promise<T>): Promise<T> {
    if (!this.dirsMade) {
      this.ensureDirs();
      this.dirsMade = true;
    }
    try {
      return await take();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.dirsMade = false;
      throw e;
    }
  }

  /** Null when another live process holds the account. */
  async tryLock(id: string): Promise<Release | null> {
    // Loaded on first use, like atomic.js: an idle tick takes no lock.
    const { tryLock } = await import('./lock.js');
    return this.withDirs(() => tryLock(this.lockDir, id));
  }

  async lock(id: string, waitMs = 30_000): Promise<Release> {
    const { lock } = await import('./lock.js');
    return this.withDirs(() => lock(this.lockDir, id, waitMs));
  }

  /**
   * Read-modify-write. The caller holds the account's lock. The current file is re-read so a field another
   * writer changed is kept; a file that no longer validates is left untouched and reported.
   */
  async update(id: string, patch: AccountPatch): Promise<LoadedAccount> {
    const current = this.read(id);
    if (!('account' in current)) throw new AccountFileError(current);
    return this.writeRaw(id, applyPatch(current.raw, patch));
  }

  /** A document about to be written, checked like a file that is read; its secrets join the scrubber's list. */
  private validated(id: string, raw: RawAccount): { doc: RawAccount; account: Account } {
    const doc = { version: 1, ...raw, id };
    const parsed = parseAccount(doc, id);
    if ('problem' in parsed) {
      throw new AccountFileError({ id, file: this.fileOf(id), field: parsed.problem.field, message: `refusing to write: ${parsed.problem.message}` });
    }
    for (const s of secretsOf(parsed.account)) registerSecret(s);
    return { doc, account: parsed.account };
  }

  /**
   * A rotated token's write, staged at once: compare and set against the token it was made from, then the
   * complete new file in a temp file beside the old one, synchronously (no await between the upstream's
   * answer and a copy on disk that a crash cannot lose; see repair.ts). `commit` makes it the account file;
   * `recheck` compares again (after the lock had to be re-taken); `abandon` removes the temp file.
   */
  stageRotation(id: string, patch: AccountPatch, consumedRefreshToken: string, atomic: typeof import('./atomic.js')) {
    const file = this.fileOf(id);
    const check = () => {
      const current = this.read(id);
      if (!('account' in current)) throw new AccountFileError(current);
      if ((current.account.credentials as { refreshToken?: string }).refreshToken !== consumedRefreshToken) {
        throw new StaleWriteError(`${current.file} no longer holds the refresh token this refresh used: another process changed the account meanwhile`);
      }
      return current;
    };
    const { doc, account } = this.validated(id, applyPatch(check().raw, patch));
    const tmp = atomic.writeTmpSync(file, JSON.stringify(doc, null, 2) + '\n');
    return {
      recheck: () => void check(),
      commit: async (): Promise<LoadedAccount> => {
        await atomic.commitTmp(tmp, file);
        return { account, raw: doc, file, fingerprint: null };
      },
      abandon: () => {
        try {
          unlinkSync(tmp);
        } catch {
          /* already gone */
        }
      },
    };
  }

  /**
   * Proves, before a refresh token is spent, that the account file can be replaced: a file as large as the
   * account file is created beside it, synced and removed. Throws with the path and errno when it cannot
   * (read-only mount, wrong owner, full disk).
   */
  async probeWritable(id: string): Promise<void> {
    const { probeDir } = await import('./atomic.js');
    const size = statSync(this.fileOf(id), { throwIfNoEntry: false })?.size ?? 0;
    await probeDir(this.fileOf(id), size + 4096);
  }

  /** Validates and writes a whole document. The caller holds the lock (or is creating the account). */
  async writeRaw(id: string, raw: RawAccount): Promise<LoadedAccount> {
    const { doc, account } = this.validated(id, raw);
    // fs/promises and crypto are loaded on the first write: an idle tick never writes.
    const { writeFileAtomic } = await import('./atomic.js');
    await this.withDirs(() => writeFileAtomic(this.fileOf(id), JSON.stringify(doc, null, 2) + '\n'));
    return { account, raw: doc, file: this.fileOf(id), fingerprint: null };
  }

  /**
   * Last resort for rotated tokens that could not be written to the account file: <home>/recovery/, 0600.
   * `unwritable`: the file could not be written; the account waits for these tokens (restored by the next
   * tick that can write). `conflict`: the file changed under us; kept for a person, blocks nothing.
   */
  async saveRecovery(id: string, doc: object, kind: 'unwritable' | 'conflict' = 'unwritable'): Promise<string> {
    const dir = this.recoveryDir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(dir, `${id}.${stamp}${kind === 'conflict' ? '.conflict' : ''}.json`);
    const { writeFileAtomic } = await import('./atomic.js');
    await writeFileAtomic(file, JSON.stringify({ id, savedAt: Date.now(), kind, ...doc }, null, 2) + '\n');
    return file;
  }

  remove(id: string): void {
    unlinkSync(this.fileOf(id));
  }
}
