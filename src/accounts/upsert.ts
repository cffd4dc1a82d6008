import { usageError } from '../errors.js';
import { ACCOUNT_DEFAULTS, type Account, type AccountPatch } from '../model/types.js';
import { ID_PATTERN } from '../store/home.js';
import type { AccountStore, RawAccount } from '../store/store.js';
import type { Candidate } from './formats.js';

/**
 * Adds an account, or updates the one with the same identity (so importing twice adds nothing). Credentials
 * are only ever replaced by a pair that is newer than ours, or when ours is dead: an old copy of a token
 * file must never overwrite a token we have already rotated.
 */
export interface UpsertOptions {
  /** keep the link to the source file (linked import) */
  link: boolean;
  /** an explicit id (--name) */
  name?: string;
  /** replace an existing account with that id */
  force?: boolean;
  dryRun?: boolean;
}

export interface UpsertResult {
  id: string;
  provider: Account['provider'];
  action: 'added' | 'updated' | 'unchanged';
  linked: boolean;
  source?: string;
}

/** What will not work for a codex account added without its account id (nor an id token to read it from). */
export function missingCodexId(c: Candidate, id: string): string | null {
  if (c.provider !== 'codex' || c.credentials.accountId) return null;
  return `codex account ${id} has no accountId${c.credentials.idToken ? '' : ' and no idToken to read it from'}: its usage checks and serve's requests go without ChatGPT-Account-Id, which the backend refuses for workspace accounts, until a refresh brings an id token. Add account_id (and id_token) from the Codex CLI's auth.json to have it now`;
}

export function uniqueId(base: string, taken: ReadonlySet<string>): string {
  const b = base.slice(0, 60);
  if (!taken.has(b)) return b;
  for (let n = 2; ; n++) if (!taken.has(`${b}-${n}`)) return `${b}-${n}`;
}

function credentialsUpdate(existing: Account, c: Candidate): AccountPatch | null {
  const incoming = c.credentials;
  if (existing.provider === 'grok') {
    const cur = existing.credentials;
    return incoming.ssoRw && incoming.ssoRw !== cur.ssoRw ? { credentials: { ssoRw: incoming.ssoRw } } : null;
  }
  const cur = existing.credentials;
  if (!incoming.refreshToken || incoming.refreshToken === cur.refreshToken) return null;
  const newer = (incoming.expiresAt ?? 0) > (cur.expiresAt ?? 0);
  if (!newer && existing.status !== 'expired') return null;
  return { credentials: incoming, status: 'active', failedCount: 0, lastFailure: null };
}

export async function upsert(store: AccountStore, existing: Account[], c: Candidate, o: UpsertOptions): Promise<UpsertResult> {
  const link = o.link ? c.link : null;
  const result = (id: string, action: UpsertResult['action']): UpsertResult => ({
    id,
    provider: c.provider,
    action,
    linked: !!link,
    ...(link ? { source: link.path } : {}),
  });
  if (o.name !== undefined && !ID_PATTERN.test(o.name)) throw usageError(`--name "${o.name}": an id is [a-z0-9][a-z0-9._-]{0,63}`);
  const byName = o.name ? existing.find((a) => a.id === o.name) : undefined;
  const match = existing.find((a) => a.provider === c.provider && a.identity === c.identity && (!o.name || a.id === o.name));
  // The same account under another name would be refreshed twice, and one of the two would spend a used token.
  const twin = o.name ? existing.find((a) => a.provider === c.provider && a.identity === c.identity && a.id !== o.name) : undefined;
  if (twin && !o.force) {
    throw usageError(
      `this ${c.provider} account is already here as "${twin.id}" (the same ${c.provider === 'grok' ? 'sso cookie' : 'email or account'}); ` +
        `use --name ${twin.id} to update it, or pass --force to replace "${twin.id}" with "${o.name}"`,
    );
  }

  if (match && !o.force) {
    const patch: AccountPatch = { ...credentialsUpdate(match, c) };
    if (link && !match.source) patch.source = link;
    if (c.email && !match.email) patch.email = c.email;
    if (!Object.keys(patch).length) return result(match.id, 'unchanged');
    if (!o.dryRun) await locked(store, match.id, () => store.update(match.id, patch));
    return result(match.id, 'updated');
  }
  if (byName && !o.force) throw usageError(`account "${o.name}" already exists (${byName.provider}); pass --force to replace it, or choose another --name`);

  // One token pair under two ids: both would be refreshed, and the second refresh would log the account out.
  const holder = existing.find((a) => a.provider === c.provider && a.id !== o.name && sameSecret(a, c));
  if (holder && !(o.force && holder === twin)) {
    const what = c.provider === 'grok' ? 'sso cookie' : 'refresh token';
    throw usageError(`this ${what} is already stored in account "${holder.id}": two accounts with it would both refresh it, and one of them would be logged out. Use --name ${holder.id} --force to replace that account's credentials`);
  }
  const id = o.name ?? uniqueId(c.suggestedId, new Set(existing.map((a) => a.id)));
  const doc: RawAccount = {
    version: 1,
    id,
    provider: c.provider,
    ...ACCOUNT_DEFAULTS,
    label: c.label,
    email: c.email,
    identity: c.identity,
    credentials: c.credentials,
    source: link,
    ...c.state,
  };
  if (byName && o.force) {
    // Replacing the credentials keeps the account's own settings.
    Object.assign(doc, { proxy: byName.proxy, endpoint: byName.endpoint, priority: byName.priority, paused: byName.paused, autoRefresh: byName.autoRefresh });
    doc.label = c.label ?? byName.label;
  }
  if (!o.dryRun) await locked(store, id, () => store.writeRaw(id, doc));
  if (twin && o.force && !o.dryRun) {
    await locked(store, twin.id, async () => store.remove(twin.id));
    existing.splice(existing.indexOf(twin), 1);
  }
  existing.push({ ...(doc as unknown as Account) });
  return result(id, byName ? 'updated' : 'added');
}

function sameSecret(a: Account, c: Candidate): boolean {
  if (a.provider === 'grok') return !!c.credentials.sso && a.credentials.sso === c.credentials.sso;
  return !!c.credentials.refreshToken && a.credentials.refreshToken === c.credentials.refreshToken;
}

async function locked<T>(store: AccountStore, id: string, fn: () => Promise<T>): Promise<T> {
  const release = await store.lock(id);
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
