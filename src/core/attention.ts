import type { Config } from '../config/types.js';
import { isOAuth, type Account } from '../model/types.js';
import { iso } from '../util/time.js';
import { windowMethodOf } from '../providers/window-method.js';
import { cooldown } from './planner.js';

/**
 * The accounts that refresher cannot keep alive by itself, and what a person should run for each. Pure,
 * like the planner: `tick` names them in its daily reminder, `status` exits 1 while there are any.
 */
export interface Attention {
  account: string;
  /** which of the reasons: a change of kind is news, a change of wording (a count) is not */
  kind: 'recovery' | 'expired' | 'locked' | 'window' | 'setup-token' | 'failing';
  reason: string;
  /** the command or step that fixes it */
  fix: string;
}

function loginCommand(a: Account): string {
  if (a.provider === 'grok') return `refresher account add grok --name ${a.id} --force < cookies.txt`;
  if (a.provider === 'anthropic' && a.setupToken) return `claude setup-token | refresher account add anthropic --name ${a.id} --setup-token --force`;
  // A linked account follows its CLI's own file: a new login there is picked up by an import (not a second account).
  if (a.source) return `${a.provider === 'anthropic' ? 'claude /login' : 'codex login'}, then: refresher account import ${a.source.path}`;
  return `refresher account add ${a.provider} --login --name ${a.id} --force`;
}

/** A setup token cannot be refreshed: its owner is reminded this long before it expires. */
export const SETUP_TOKEN_NOTICE_MS = 14 * 86_400_000;

/** When an account that is fine now will need a person (a setup token nearing its end), or null. */
export function attentionStartsAt(a: Account): number | null {
  return a.provider === 'anthropic' && a.setupToken && a.credentials.expiresAt !== null ? a.credentials.expiresAt - SETUP_TOKEN_NOTICE_MS : null;
}

/** Who holds an account's lock (a live process), as data: the lock files are read by the caller. */
export interface Holder {
  pid: number;
  host: string;
  at: number;
}

export function needsPerson(a: Account, cfg: Config, now: number, holder?: Holder): Attention | null {
  const at = (kind: Attention['kind'], reason: string, fix: string): Attention => ({ account: a.id, kind, reason, fix });
  if (a.recovery) {
    return at(
      'recovery',
      `its newest tokens were saved to ${a.recovery} because the account file could not be written`,
      `make the accounts directory writable; the next tick restores them (or copy "credentials" from that file)`,
    );
  }
  if (a.status === 'expired') return at('expired', `expired${a.lastFailure ? ` (${a.lastFailure.reason})` : ''}`, loginCommand(a));
  // A live holder is never robbed of its lock: one that keeps it past tick_budget (stopped, hung) keeps the
  // account from every tick, and only a person can tell what it is doing.
  if (holder && now - holder.at > cfg.tickBudgetMs) {
    return at(
      'locked',
      `its lock has been held since ${iso(holder.at)} by pid ${holder.pid} on ${holder.host}, a process that is alive but not finishing, so no tick can maintain it`,
      `ps -o pid,stat,etime,args -p ${holder.pid}   (stat T = stopped: kill -CONT ${holder.pid}; hung: kill ${holder.pid})`,
    );
  }
  if (a.paused || !a.autoRefresh) return null;
  if (a.window && a.window.method === windowMethodOf(a, cfg)) {
    return at(
      'window',
      `the provider refused to start a usage window with the ${a.window.method} method (${a.window.reason})`,
      `read "Window starts" in the README, then: refresher account set ${a.id} --window-method claude-cli (or --window on to try the same way again)`,
    );
  }
  const starts = attentionStartsAt(a);
  if (starts !== null && starts <= now) {
    const exp = (a.credentials as { expiresAt: number }).expiresAt;
    return at(
      'setup-token',
      `its setup token ${exp <= now ? 'expired' : 'expires'} at ${iso(exp)} and cannot be refreshed`,
      `claude setup-token | refresher account add anthropic --name ${a.id} --setup-token --force`,
    );
  }
  const cool = cooldown(a, cfg);
  if (cool) {
    const last = a.lastFailure ? `; last: ${a.lastFailure.reason}` : '';
    const exp = isOAuth(a) ? a.credentials.expiresAt : null;
    const warn = exp !== null ? `, token expires ${iso(exp)}` : '';
    return at('failing', `failed ${cool.failures} times in a row${last}${warn}`, `refresher refresh ${a.id}  (to try now; it is also retried by itself)`);
  }
  return null;
}

export function attentionList(accounts: readonly Account[], cfg: Config, now: number, holders?: ReadonlyMap<string, Holder>): Attention[] {
  return accounts.map((a) => needsPerson(a, cfg, now, holders?.get(a.id))).filter((x): x is Attention => x !== null);
}
