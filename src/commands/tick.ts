import { EXIT_FAILED, EXIT_OK, usageError } from '../errors.js';
import { planTick } from '../core/planner.js';
import type { ActionReport } from '../core/runner.js';
import { savePlanCache } from '../store/plan-cache.js';
import { answerIdleTick, idleLog } from './tick-idle.js';
import { describeProblem, problemsExitCode } from '../store/store.js';
import { clockFrom, openContext, printJson, type GlobalOptions } from './context.js';

export interface TickOptions {
  json?: boolean;
  now?: string;
  account?: string[];
  dryRun?: boolean;
}

/**
 * One cron run: load every account without a lock, plan, and only if something is due load the network
 * code and do it. Returns the exit code.
 */
export async function tick(g: GlobalOptions, o: TickOptions): Promise<number> {
  const ctx = await openContext(g, { json: o.json });
  const { store, cfg, log } = ctx;
  const clock = clockFrom(o.now);
  const now = clock();
  const only = o.account?.length ? new Set(o.account) : undefined;
  if (only) {
    const known = new Set(store.listIds());
    const missing = [...only].filter((id) => !known.has(id));
    if (missing.length) throw usageError(`no account ${missing.map((m) => `"${m}"`).join(', ')} in ${store.dir}; run \`refresher status\` to list accounts`);
  }
  // bin/refresher's fast path may already have asked the cache (and found something due): do not stat every file twice.
  const idleChecked = (globalThis as { refresherIdleChecked?: boolean }).refresherIdleChecked === true;
  if (!only && !idleChecked && answerIdleTick(store, cfg, now, log, o)) return EXIT_OK;
  const loaded = store.loadAll(only);
  for (const w of loaded.warnings) log.warn(w);
  for (const p of loaded.problems) log.error(`${describeProblem(p)} (this account is skipped; the others go on)`);
  const accounts = loaded.accounts.map((l) => l.account);
  const plan = planTick(accounts, cfg, now);
  const errors = loaded.problems.map((p) => ({ account: p.id, file: p.file, error: describeProblem(p) }));
  if (!only && !errors.length && accounts.length) {
    const fps = new Map(loaded.accounts.map((l) => [l.account.id, l.fingerprint]));
    const entries = Object.fromEntries(plan.accounts.map((p) => [p.id, { fp: fps.get(p.id)!, due: p.next?.at ?? null }]));
    savePlanCache(store, cfg.fingerprint, entries, plan.skipped);
  }

  if (o.dryRun) {
    if (o.json) printJson({ now, dryRun: true, actions: plan.actions, skipped: plan.skipped, errors });
    else {
      for (const a of plan.actions) log.info(`[tick] would ${a.action} ${a.account}: ${a.reason}`);
      for (const s of plan.skipped) log.info(`[tick] skip ${s.account}: ${s.reason}`);
      const idle = plan.accounts.filter((p) => !p.skip && !p.actions.length).length;
      log.info(`[tick] dry run: ${plan.actions.length} actions due, ${plan.skipped.length} skipped, ${idle} not due`);
    }
    return problemsExitCode(loaded.problems);
  }

  let actions: ActionReport[] = [];
  let skipped = plan.skipped;
  if (plan.actions.length) {
    // The network half is loaded only when there is work: an idle tick stays close to `node -e 0`.
    const { Runner } = await import('../core/runner.js');
    const items = plan.accounts.filter((p) => p.actions.length).map((p) => ({ id: p.id, actions: p.actions }));
    const report = await new Runner({ store, cfg, log, now: clock }).run(items, accounts);
    actions = report.actions;
    skipped = [...skipped, ...report.skipped];
  }
  const failedIds = new Set(actions.filter((a) => !a.ok).map((a) => a.account));
  const okIds = new Set(actions.filter((a) => a.ok && !failedIds.has(a.account)).map((a) => a.account));
  const idle = plan.accounts.filter((p) => !p.skip && !p.actions.length).length;
  (actions.length || errors.length ? log.info : idleLog(log))(
    `[tick] ${okIds.size} account${okIds.size === 1 ? '' : 's'} refreshed, ${failedIds.size + errors.length} failed, ${idle} not due` +
      (plan.skipped.length ? `, ${plan.skipped.length} skipped` : ''),
  );
  if (o.json) printJson({ now, dryRun: false, actions, skipped, errors });
  return Math.max(problemsExitCode(loaded.problems), failedIds.size ? EXIT_FAILED : EXIT_OK);
}
