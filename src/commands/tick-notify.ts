import type { Config } from '../config/types.js';
import { attentionList, type Attention, type Holder } from '../core/attention.js';
import type { RunProblem } from '../core/events.js';
import type { Logger } from '../log.js';
import type { Account } from '../model/types.js';
import type { AccountStore, FileProblem } from '../store/store.js';
import type { GlobalOptions } from './context.js';

// tick's part in the notifications: the run's own problems, the accounts read again after the run, and the
// hand-over to the notify room (loaded only when `notify:` names a channel).

/**
 * The accounts as they are after a run: those it worked on read again, or as the run read them once it was done
 * with each (`readAfter`, see RunReport.after). A file that broke keeps the old view, or, with `keepOld: false`,
 * is left out.
 */
export function rereadWorked(
  store: AccountStore,
  accounts: Account[],
  worked: { has(id: string): boolean },
  o: { keepOld: boolean; readAfter?: ReadonlyMap<string, Account | null> } = { keepOld: true },
): Account[] {
  const recovery = store.pendingRecovery();
  return accounts.flatMap((a) => {
    if (!worked.has(a.id)) return [a];
    let now = o.readAfter?.get(a.id);
    if (now === undefined) {
      const r = store.read(a.id);
      now = 'account' in r ? r.account : null;
    }
    return now ? [{ ...now, recovery: recovery.get(a.id) ?? null }] : o.keepOld ? [a] : [];
  });
}

/** What kept this run from its work, for the notifications (the log says each of them already). */
export function runProblems(cfg: Config, undone: readonly string[], problems: readonly FileProblem[], lockErrors: readonly { account: string; error: string }[] = [], lockDir = ''): RunProblem[] {
  const out: RunProblem[] = [];
  if (lockErrors.length) {
    out.push({
      key: 'tick:locks',
      reason: `the locks directory ${lockDir} cannot be used (${lockErrors[0]!.error}), so ${lockErrors.length} account${lockErrors.length === 1 ? ' was' : 's were'} not worked on`,
      fix: 'refresher doctor (then make the locks directory a directory this user can write)',
    });
  }
  if (undone.length) {
    out.push({
      key: 'tick:budget',
      reason: `a tick ran past tick_budget (${Math.round(cfg.tickBudgetMs / 1000)} s) and left ${undone.length} account${undone.length === 1 ? '' : 's'} undone (${undone.slice(0, 10).join(', ')}${undone.length > 10 ? ', …' : ''})`,
      fix: 'refresher doctor (a slow proxy or upstream?); or raise tick_budget or concurrency in the config',
    });
  }
  if (problems.length) {
    out.push({
      key: 'tick:files',
      reason: `${problems.length} account file${problems.length === 1 ? '' : 's'} cannot be read and ${problems.length === 1 ? 'is' : 'are'} not maintained (${problems.slice(0, 5).map((p) => p.file).join(', ')}${problems.length > 5 ? ', …' : ''})`,
      fix: 'refresher doctor',
    });
  }
  return out;
}

export async function tellConfigProblem(g: GlobalOptions, cfg: Config, message: string): Promise<void> {
  const { resolveHome } = await import('../store/home.js');
  const { AccountStore } = await import('../store/store.js');
  const { createLogger } = await import('../log.js');
  const store = new AccountStore(resolveHome(g.home));
  const log = createLogger({ quiet: g.quiet });
  const first = message.split('\n')[0]!.replace(/:$/, '');
  const problem: RunProblem = { key: 'config:invalid', reason: `${first}, so no account is maintained until it is fixed`, fix: 'refresher doctor (it lists every problem), then fix the config' };
  try {
    const { notifyRun } = await import('../notify/run.js');
    const n = await notifyRun(store, cfg, log, { problems: { scopes: ['config'], list: [problem] } }, Date.now());
    for (const f of n.failures) log.warn(`[notify] ${f}`);
  } catch (err) {
    log.warn(`[notify] could not queue the notification: ${(err as Error).message}`);
  }
}

/** The notifications of a full tick: every account's attention after the run, and the run's own problems. */
export async function tellPeople(
  store: AccountStore,
  cfg: Config,
  log: Logger,
  accounts: Account[],
  after: Attention[],
  problems: RunProblem[],
  now: number,
  holders: ReadonlyMap<string, Holder>,
  /** the providers of accounts in `after` that this run did not read (a partial tick's quiet ones) */
  otherProviders?: ReadonlyMap<string, Account['provider']>,
) {
  const { notifyRun } = await import('../notify/run.js');
  const providers = new Map([...(otherProviders ?? []), ...accounts.map((a) => [a.id, a.provider] as const)]);
  const list = after.map((a) => ({ ...a, provider: providers.get(a.account)! }));
  // An account read again: its attention now; one whose file no longer reads is left out (neither told again nor
  // "fine again": the broken file is a run problem of its own).
  const recheck = (changed: readonly string[]) => {
    const set = new Set(changed);
    const fresh = rereadWorked(store, accounts.filter((a) => set.has(a.id)), set, { keepOld: false });
    // a partial tick's quiet accounts were not read in this run: read them now, as a full tick reads them again
    const read = new Set(accounts.map((a) => a.id));
    const recovery = otherProviders ? store.pendingRecovery() : null;
    for (const id of changed) {
      if (read.has(id) || !otherProviders?.has(id)) continue;
      const r = store.read(id);
      if ('account' in r) fresh.push({ ...r.account, recovery: recovery!.get(id) ?? null });
    }
    const out = new Map<string, (Attention & { provider: Account['provider'] }) | null>(fresh.map((a) => [a.id, null]));
    for (const x of attentionList(fresh, cfg, now, holders)) out.set(x.account, { ...x, provider: providers.get(x.account)! });
    return out;
  };
  // only the accounts read in this run can be "fine again"
  const ids = new Set(accounts.map((a) => a.id));
  const n = await notifyRun(store, cfg, log, { attention: { list, ids }, problems: { scopes: ['tick', 'config'], list: problems } }, now, recheck);
  for (const f of n.failures) log.warn(`[notify] ${f}`);
  return n;
}

