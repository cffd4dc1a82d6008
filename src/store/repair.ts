import { lstatSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseAccount } from '../model/account-schema.js';
import { pidAlive } from './lock.js';
import type { Account, OAuthCredentials } from '../model/types.js';
import { LEFTOVER } from './account-dir.js';
import { MAX_FILE_BYTES, type AccountStore } from './store.js';

/**
 * What a crash or a broken file system left behind for one account, put right under the account's lock
 * before anything is sent for it:
 * - a complete temp file from a write killed before its rename, holding newer tokens than the file, is
 *   adopted (the upstream already rotated; the file holds a dead token); any other leftover is removed;
 * - tokens waiting in recovery/ because the file could not be written are restored once it can be.
 * Returns what it did, in words for the log.
 */
export interface RepairNote {
  level: 'info' | 'warn';
  message: string;
}

const refreshTokenOf = (a: Account) => (a.provider === 'grok' ? null : (a.credentials as OAuthCredentials).refreshToken);

function readLeftover(path: string, id: string): { account: Account; raw: Record<string, unknown> } | null {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size === 0 || st.size > MAX_FILE_BYTES) return null;
    const raw = JSON.parse(readFileSync(path, 'utf8'));
    const parsed = parseAccount(raw, id);
    return 'account' in parsed ? { account: parsed.account, raw } : null;
  } catch {
    return null;
  }
}

/** Newer means: written by a later refresh, and holding a different refresh token. */
function isNewer(candidate: Account, current: Account | null): boolean {
  if (!current) return true;
  const rt = refreshTokenOf(candidate);
  return rt !== null && rt !== refreshTokenOf(current) && (candidate.lastRefreshAt ?? 0) > (current.lastRefreshAt ?? 0);
}

export async function adoptLeftovers(store: AccountStore, id: string, names: readonly string[]): Promise<RepairNote[]> {
  const notes: RepairNote[] = [];
  for (const name of names) {
    const m = LEFTOVER.exec(name);
    if (!m || m[1] !== id) continue;
    // A writer that is still running is not a leftover (it would be holding this lock, so this is rare).
    if (Number(m[2]) !== process.pid && pidAlive(Number(m[2]))) continue;
    const path = join(store.dir, name);
    if (m[4] === 'tmp') {
      const found = readLeftover(path, id);
      const current = store.read(id);
      if (found && isNewer(found.account, 'account' in current ? current.account : null)) {
        await store.writeRaw(id, found.raw);
        notes.push({ level: 'warn', message: `${id}: adopted ${name}, the complete write of a process killed before it could rename it (it holds the newer tokens)` });
      } else {
        notes.push({ level: 'info', message: `${id}: removed ${name}, left by a killed write (nothing newer in it)` });
      }
    }
    try {
      unlinkSync(path);
    } catch {
      /* removed by someone else */
    }
  }
  return notes;
}


/** Restores tokens that waited in recovery/ while the account file could not be written. */
export async function restoreRecovery(store: AccountStore, id: string, file: string): Promise<RepairNote[]> {
  let rec: { savedAt?: unknown; credentials?: Record<string, unknown> };
  try {
    rec = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [{ level: 'warn', message: `${id}: cannot read ${file}; restore its "credentials" into ${store.fileOf(id)} by hand, then remove it` }];
  }
  const current = store.read(id);
  if (!('account' in current) || !rec.credentials || typeof rec.savedAt !== 'number') return [];
  const a = current.account;
  if (typeof rec.credentials.refreshToken === 'string' && rec.credentials.refreshToken === refreshTokenOf(a)) {
    unlinkSync(file);
    return [{ level: 'info', message: `${id}: the tokens in ${file} are already in the account file; removed it` }];
  }
  if ((a.lastRefreshAt ?? 0) > rec.savedAt) {
    renameSync(file, `${file}.superseded`);
    return [{ level: 'warn', message: `${id}: the account file was refreshed after ${file} was saved; kept it as ${file}.superseded` }];
  }
  try {
    await store.probeWritable(id);
  } catch {
    return []; // still blocked: the account stays on the list of those that need a person
  }
  await store.update(id, { credentials: rec.credentials, lastRefreshAt: rec.savedAt, status: 'active', failedCount: 0, lastFailure: null });
  unlinkSync(file);
  return [{ level: 'warn', message: `${id}: restored the tokens saved in ${file} to the account file` }];
}
