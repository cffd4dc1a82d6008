import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Outcome } from '../providers/types.js';
import { isNewer, readSourceTokens, writeBackSource } from '../store/sources.js';
import type { AccountStore, LoadedAccount } from '../store/store.js';
import { planAccount } from './planner.js';
import { isOAuth, type Account, type AccountPatch } from '../model/types.js';

/**
 * The runner's side of linked accounts (tokens shared with Claude Code or the Codex CLI) and of rotated
 * tokens that could not be saved where they belong.
 */
export interface LinkedContext {
  store: AccountStore;
  cfg: Config;
  log: Logger;
  now: () => number;
  /** the label of log lines: [tick] or [refresh] */
  tag?: string;
}

/**
 * Before a refresh: take a newer pair from the official CLI's file. Returns the account as it now is, and
 * whether the refresh is still needed.
 */
export async function adoptFromSource(ctx: LinkedContext, current: LoadedAccount, forced: boolean): Promise<{ current: LoadedAccount; stillDue: boolean }> {
  const a = current.account;
  if (!a.source || !isOAuth(a)) return { current, stillDue: true };
  let theirs;
  try {
    theirs = readSourceTokens(a.source);
  } catch (e) {
    ctx.log.warn(`${ctx.tag ?? '[tick]'} ${a.id}: cannot read linked ${a.source.path} (${(e as Error).message}); refreshing our own copy`);
    return { current, stillDue: true };
  }
  if (!isNewer(theirs, a.credentials)) return { current, stillDue: true };
  const next = await ctx.store.update(a.id, { credentials: theirs, status: 'active' });
  ctx.log.info(`${ctx.tag ?? '[tick]'} ${a.id}: adopted a newer token from ${a.source.path}`);
  if (forced) return { current: next, stillDue: true };
  return { current: next, stillDue: planAccount(next.account, ctx.cfg, ctx.now()).actions.some((x) => x.action === 'token') };
}

/**
 * Our refresh token was refused, but the account is linked: if the official CLI refreshed in the meantime,
 * its file holds the live pair. Adopting it saves the account from a needless re-login.
 */
export function rescueFromSource(a: Account): Outcome | null {
  if (!a.source || !isOAuth(a)) return null;
  try {
    const theirs = readSourceTokens(a.source);
    if (theirs.refreshToken === a.credentials.refreshToken) return null;
    return { kind: 'ok', patch: { credentials: theirs }, message: `${a.id}: our token was refused, but ${a.source.path} holds a newer one; adopted it` };
  } catch {
    return null;
  }
}

/** After a refresh of a linked account, hand the rotated pair back to the official CLI's file. */
export async function writeBack(ctx: LinkedContext, a: Account): Promise<void> {
  if (!a.source || !isOAuth(a)) return;
  try {
    await writeBackSource(a.source, a.credentials, ctx.now());
  } catch (e) {
    ctx.log.error(
      `${ctx.tag ?? '[tick]'} ${a.id}: could not write the new token back to ${a.source.path} (${(e as Error).message}); ` +
        `the official CLI there now holds a used token and will need a new login`,
    );
  }
}

/**
 * The account file could not take a rotated token: put it in a recovery file rather than lose it.
 * `unwritable`: the account waits for these tokens and the next run that can write restores them.
 * `conflict`: the file changed meanwhile (a new login?); these are kept for a person and block nothing.
 */
export async function keepRotated(ctx: LinkedContext, a: Account, patch: AccountPatch, kind: 'unwritable' | 'conflict'): Promise<string> {
  try {
    const file = await ctx.store.saveRecovery(a.id, { provider: a.provider, credentials: patch.credentials, lastRefreshAt: ctx.now() }, kind);
    return kind === 'unwritable'
      ? ` The new tokens were saved to ${file}; the account waits for them, and the next run that can write ${ctx.store.dir} restores them.`
      : ` The new tokens were saved to ${file} and the account file was left as it is; if the account stops working, copy "credentials" from there.`;
  } catch (e) {
    return ` THE NEW TOKENS COULD NOT BE SAVED (${(e as Error).message}); the account will need a new login.`;
  }
}
