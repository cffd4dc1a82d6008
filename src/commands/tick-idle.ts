import type { Config } from '../config/types.js';
import { stderrIsTTY, type Logger } from '../log.js';
import { idleOf, planState, saveLastTick, warningsDue, type PlanState } from '../store/plan-cache.js';
import type { AccountDir } from '../store/account-dir.js';
import { printJson } from './context.js';

/**
 * cron mails whatever a job prints, so a run that had nothing to do prints nothing unless someone is
 * watching (a terminal) or asked for it (LOG_LEVEL=debug).
 */
export function idleLog(log: Logger): (msg: string) => void {
  return stderrIsTTY() ? log.info : log.debug;
}

/**
 * The common cron case: nothing changed and nothing is due yet. Answers the tick from the plan cache without
 * reading any account, exactly as a full run would: true. Otherwise what the cache still vouches for, when it
 * vouches for all but a few files that a tick may read alone (never for a dry run, which reads them all), or null.
 */
export function answerIdleTick(store: AccountDir, cfg: Config, now: number, log: Logger, o: { json?: boolean; dryRun?: boolean }): true | PlanState | null {
  const state = planState(store, cfg.fingerprint, now, !o.dryRun, !o.dryRun);
  const idle = state && idleOf(state);
  if (!idle) return state;
  for (const w of o.dryRun ? idle.warnings : warningsDue(store, idle.warnings, now, cfg.remindEveryMs)) log.warn(`${w} (or: refresher doctor --fix; said once per remind_every)`);
  const notDue = idle.accounts - idle.skipped.length;
  if (o.dryRun) log.info(`[tick] dry run: 0 actions due, ${idle.skipped.length} skipped, ${notDue} not due`);
  else idleLog(log)(`[tick] 0 accounts refreshed, 0 failed, ${notDue} not due${idle.skipped.length ? `, ${idle.skipped.length} skipped` : ''}`);
  if (o.json) printJson({ now, dryRun: !!o.dryRun, actions: [], skipped: idle.skipped, errors: [], attention: idle.attention, ...(o.dryRun ? {} : { repaired: [], leftUndone: [] }) });
  if (!o.dryRun) saveLastTick(store, { at: Date.now(), durationMs: Math.round(process.uptime() * 1000), exitCode: 0 });
  return true;
}
