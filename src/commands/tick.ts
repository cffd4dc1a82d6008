import { EXIT_FAILED, EXIT_OK, usageError } from '../errors.js';
import { attentionList, attentionStartsAt, type Attention } from '../core/attention.js';
import { planAccount, planTick } from '../core/planner.js';
import type { ActionReport, RunReport, WorkItem } from '../core/runner.js';
import type { Logger } from '../log.js';
import { cachedDue, lastReminder, savePlanCache, saveLastTick, saveReminder, warningsDue, type PlanState } from '../store/plan-cache.js';
import { answerIdleTick, idleLog } from './tick-idle.js';
import { inPlanOrder, loadLoud, mergeAttention, mergeSkipped, partialTick, quietProviders, type PartialTick, type RankedSkip } from './tick-partial.js';
import type { Fingerprint } from '../store/cache.js';
import type { Config } from '../config/types.js';
import type { Account, Plan } from '../model/types.js';
import { describeProblem, problemsExitCode, type AccountStore, type LoadResult } from '../store/store.js';
import { ConfigError } from '../config/load.js';
import { rereadWorked, runProblems, tellConfigProblem, tellPeople } from './tick-notify.js';
import { clockFrom, lookOnly, openContext, printJson, type GlobalOptions } from './context.js';

/**
 * The plan cache as this run leaves the files: the accounts it did not work on as it read them (or as the cache
 * vouched for them), and the ones it worked on as read again once it was done with each, planned again. One it
 * worked on without that read is left out: the next tick reads it (a file the plan does not know is read).
 */
function savePlan(
  store: AccountStore,
  cfg: Config,
  now: number,
  r: { partial: PartialTick | null; plan: Plan; loaded: LoadResult; afterAccounts: Account[]; worked: ReadonlyMap<string, WorkItem>; report: RunReport | null; remindAt: number | null; attention: Attention[] },
): void {
  const entries: Record<string, { fp: Fingerprint; due: number | null }> = {};
  const readAt = new Map(r.loaded.accounts.map((l) => [l.account.id, l.fingerprint]));
  const planOf = new Map(r.plan.accounts.map((p) => [p.id, p]));
  const skipped: RankedSkip[] = [...(r.partial?.quietSkipped ?? [])];
  const provider = new Map<string, string>(r.partial ? quietProviders(r.partial) : []);
  for (const a of r.afterAccounts) {
    provider.set(a.id, a.provider);
    const worked = r.worked.has(a.id);
    const fp = worked ? r.report?.afterPrint?.get(a.id) : readAt.get(a.id);
    if (!fp) continue;
    const p = worked ? planAccount(a, cfg, now) : planOf.get(a.id)!;
    entries[a.id] = { fp, due: cachedDue(p.dueAt) };
    if (p.skip) skipped.push({ account: a.id, reason: p.skip, priority: a.priority });
  }
  inPlanOrder(skipped);
  savePlanCache(store, cfg.fingerprint, {
    entries,
    skipped: skipped.map(({ account, reason }) => ({ account, reason })),
    skippedPriority: skipped.map((s) => s.priority),
    remindAt: r.remindAt,
    attention: r.attention,
    attentionProvider: r.attention.map((a) => provider.get(a.account)!),
  }, r.partial?.state.quietRows());
}

export interface TickOptions {
  json?: boolean;
  now?: string;
  account?: string[];
  dryRun?: boolean;
}

/**
 * The line that names the accounts that need a person. Printed at most once per `remind_every`, so that
 * cron mails it once a day for as long as it is true. Returns when the next one is due (null: nobody).
 */
function remind(store: AccountStore, log: Logger, attention: Attention[], now: number, every: number): number | null {
  if (!attention.length) return null;
  const last = lastReminder(store);
  if (last !== null && last <= now && now < last + every) return last + every;
  const list = attention.map((a) => `${a.account} (${a.reason}; run: ${a.fix})`).join('; ');
  log.warn(`[tick] ${attention.length} account${attention.length === 1 ? ' needs' : 's need'} a person: ${list}`);
  saveReminder(store, now);
  return now + every;
}

/**
 * One cron run: load every account without a lock, plan, and only if something is due (or left behind by
 * a crash) load the network code and do it. Returns the exit code.
 */
export async function tick(g: GlobalOptions, o: TickOptions): Promise<number> {
  if (!o.dryRun) lookOnly(o.now, '--dry-run (or with `refresher status`)');
  const ctx = await openContext(g, { json: o.json, existing: true }).catch(async (e: unknown) => {
    // a config with problems stops every run: its owner hears of it, through the channels it still names
    if (e instanceof ConfigError && e.salvaged && !o.dryRun) await tellConfigProblem(g, e.salvaged, e.message);
    throw e;
  });
  const { store, cfg, log } = ctx;
  const clock = clockFrom(o.now);
  const now = clock();
  const only = o.account?.length ? new Set(o.account) : undefined;
  // bin/refresher's fast path may already have asked the cache (and found something due): do not stat every file
  // twice. It hands over what the cache still vouches for.
  const handed = globalThis as { refresherIdleChecked?: boolean; refresherPlanState?: PlanState };
  let state: PlanState | null = handed.refresherIdleChecked === true ? (handed.refresherPlanState ?? null) : null;
  if (!only && handed.refresherIdleChecked !== true) {
    const answer = answerIdleTick(store, cfg, now, log, o);
    if (answer === true) return EXIT_OK;
    state = answer;
  }
  // A few accounts due in a pool the cache vouches for: only those are read (see tick-partial.ts).
  const partial = !only && !o.dryRun ? partialTick(state) : null;
  const scan = partial ? null : store.scan();
  if (only) {
    const known = new Set(scan!.ids);
    const missing = [...only].filter((id) => !known.has(id));
    if (missing.length) throw usageError(`no account ${missing.map((m) => `"${m}"`).join(', ')} in ${store.dir}; run \`refresher status\` to list accounts`);
  }
  if (partial) log.debug(`[tick] the plan cache vouches for ${partial.state.quiet} accounts: reading ${partial.state.loud.length}`);
  const loaded = partial ? loadLoud(store, partial) : store.loadAll(only, scan!);
  for (const w of o.dryRun ? loaded.warnings : warningsDue(store, loaded.warnings, now, cfg.remindEveryMs)) log.warn(`${w} (or: refresher doctor --fix; said once per remind_every)`);
  for (const p of loaded.problems) log.error(`${describeProblem(p)} (this account is skipped; the others go on)`);
  const accounts = loaded.accounts.map((l) => l.account);
  const plan = planTick(accounts, cfg, now);
  // lock.ts reads /proc when it loads: only on the paths that look at locks, never an idle tick
  const holders = (await import('../store/lock.js')).liveHolders(store.lockDir);
  const fresh = attentionList(accounts, cfg, now, holders);
  const attention = partial ? mergeAttention(partial, fresh) : fresh;
  const errors = loaded.problems.map((p) => ({ account: p.id, file: p.file, error: describeProblem(p) }));

  if (o.dryRun) {
    // A dry run writes nothing: not the plan cache, not the reminder.
    if (o.json) printJson({ now, dryRun: true, actions: plan.actions, skipped: plan.skipped, errors, attention });
    else {
      for (const a of plan.actions) log.info(`[tick] would ${a.action} ${a.account}: ${a.reason}`);
      for (const s of plan.skipped) log.info(`[tick] skip ${s.account}: ${s.reason}`);
      for (const a of attention) log.info(`[tick] needs a person: ${a.account}: ${a.reason}; run: ${a.fix}`);
      const idle = plan.accounts.filter((p) => !p.skip && !p.actions.length).length;
      log.info(`[tick] dry run: ${plan.actions.length} actions due, ${plan.skipped.length} skipped, ${idle} not due`);
    }
    return problemsExitCode(loaded.problems);
  }

  // Work: what is due, plus accounts with leftovers of a killed write or tokens waiting in recovery/.
  const items = new Map<string, WorkItem>();
  for (const p of plan.accounts) if (p.actions.length) items.set(p.id, { id: p.id, actions: p.actions });
  for (const a of accounts) {
    const leftovers = scan?.leftovers.get(a.id);
    if (!leftovers && !a.recovery) continue;
    items.set(a.id, { id: a.id, actions: items.get(a.id)?.actions ?? [], leftovers, recovery: a.recovery, repair: true });
  }
  let report: RunReport | null = null;
  if (items.size) {
    // The network half is loaded only when there is work: an idle tick stays close to `node -e 0`.
    const { Runner } = await import('../core/runner.js');
    report = await new Runner({ store, cfg, log, now: clock, readAfter: !only }).run([...items.values()], accounts);
  }
  const actions: ActionReport[] = report?.actions ?? [];
  const planSkipped = partial ? mergeSkipped(partial, plan.skipped, accounts) : plan.skipped;
  const skipped = [...planSkipped, ...(report?.skipped ?? [])];
  const undone = report?.leftUndone ?? [];
  let remindAt: number | null = null;
  let notifyFailed = false;
  // After the run, so that a failure this run caused is counted: the accounts it worked on are read again.
  const afterAccounts = !only && items.size ? rereadWorked(store, accounts, items, { keepOld: true, readAfter: report?.after }) : accounts;
  const rechecked = afterAccounts !== accounts ? attentionList(afterAccounts, cfg, now, holders) : null;
  const after = rechecked ? (partial ? mergeAttention(partial, rechecked) : rechecked) : attention;
  if (!only) {
    remindAt = remind(store, log, after, now, cfg.remindEveryMs);
    if (cfg.notify.length) {
      try {
        const n = await tellPeople(store, cfg, log, accounts, after, runProblems(cfg, undone, loaded.problems, report?.lockErrors, store.lockDir), now, holders, partial ? quietProviders(partial) : undefined);
        notifyFailed = n.failures.length > 0;
        // messages still waiting must bring the next tick to the full path; an open reminder too, when it falls due
        if (n.pending || n.busy) remindAt = now;
        else if (n.nextAt !== null) remindAt = Math.min(remindAt ?? Infinity, n.nextAt);
      } catch (e) {
        // the tick's own work is done and written; what could not be told is said here, and the next tick tries again
        log.error(`[notify] could not queue or deliver the notifications: ${(e as Error).message}`);
        notifyFailed = true;
        remindAt = now;
      }
    }
    // An account that will need a person later (a setup token nearing its end) must reach the full path then.
    for (const a of [...accounts, ...(afterAccounts !== accounts ? afterAccounts : [])]) {
      const starts = attentionStartsAt(a);
      if (starts !== null && starts > now) remindAt = Math.min(remindAt ?? Infinity, starts);
    }
    // the quiet accounts' part of it is in the cache's time (no later than theirs alone: the full path comes sooner, never later)
    if (partial && partial.state.remindAt !== null) remindAt = Math.min(remindAt ?? Infinity, partial.state.remindAt);
    if (!errors.length && accounts.length + (partial?.state.quiet ?? 0) && !report?.signal) savePlan(store, cfg, now, { partial, plan, loaded, afterAccounts, worked: items, report, remindAt, attention: after });
  }
  const failedIds = new Set(actions.filter((a) => !a.ok).map((a) => a.account));
  const okIds = new Set(actions.filter((a) => a.ok && !failedIds.has(a.account)).map((a) => a.account));
  // the quiet accounts are not due, and those of them in the skip list are skipped
  const idle = plan.accounts.filter((p) => !p.skip && !p.actions.length).length + (partial ? partial.state.quiet - partial.quietSkipped.length : 0);
  if (undone.length) log.warn(`[tick] left undone, for the next run: ${undone.join(', ')}`);
  (actions.length || errors.length || report?.repaired.length ? log.info : idleLog(log))(
    `[tick] ${okIds.size} account${okIds.size === 1 ? '' : 's'} refreshed, ${failedIds.size + errors.length} failed, ${idle} not due` +
      (planSkipped.length ? `, ${planSkipped.length} skipped` : '') +
      (undone.length ? `, ${undone.length} left undone` : ''),
  );
  if (o.json) printJson({ now, dryRun: false, actions, skipped, errors, attention: after, repaired: report?.repaired ?? [], leftUndone: undone });
  let exitCode = Math.max(problemsExitCode(loaded.problems), failedIds.size || undone.length || notifyFailed ? EXIT_FAILED : EXIT_OK);
  if (report?.signal) {
    const { signalExitCode } = await import('../core/runner.js');
    exitCode = signalExitCode(report.signal);
  }
  // uptime counts from the process's start: the whole run, start-up included (not performance.now(): the
  // global loads perf_hooks, a visible part of an idle tick).
  if (!only) saveLastTick(store, { at: Date.now(), durationMs: Math.round(process.uptime() * 1000), exitCode });
  return exitCode;
}
