import { ExitError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, usageError } from '../errors.js';
import { applicableActions } from '../core/planner.js';
import type { ActionKind } from '../model/types.js';
import { describeProblem, problemsExitCode } from '../store/store.js';
import { clockFrom, openContext, printJson, type GlobalOptions } from './context.js';

export interface RefreshOptions {
  token?: boolean;
  window?: boolean;
  quota?: boolean;
  json?: boolean;
}

/** `refresher refresh <id>`: the chosen actions now, due or not, with the same locks and outcomes as tick. */
export async function refresh(g: GlobalOptions, id: string, o: RefreshOptions): Promise<number> {
  const { store, cfg, log } = await openContext(g, { json: o.json, existing: true });
  const loaded = store.read(id);
  if (!('account' in loaded)) throw new ExitError(store.listIds().includes(id) ? problemsExitCode([loaded]) : EXIT_USAGE, describeProblem(loaded));
  const a = loaded.account;
  const asked = (['token', 'window', 'quota'] as ActionKind[]).filter((k) => o[k]);
  const applicable = applicableActions(a);
  const wrong = asked.filter((k) => !applicable.includes(k));
  if (wrong.length) throw usageError(`${id} is a ${a.provider} account: --${wrong.join(', --')} does not apply (it has: ${applicable.join(', ')})`);
  const kinds = asked.length ? asked : applicable;
  if (a.status === 'expired' && kinds.includes('token')) {
    log.warn(`${id} is marked expired; trying anyway. If it fails again, log in again with \`refresher account add ${a.provider} --login\``);
  }
  const actions = kinds.map((action) => ({ account: id, action, reason: 'forced by `refresher refresh`' }));
  const clock = clockFrom(undefined);
  const { Runner } = await import('../core/runner.js');
  const item = { id, actions, forced: true, leftovers: store.scan().leftovers.get(id), recovery: store.pendingRecovery().get(id) ?? null };
  const report = await new Runner({ store, cfg, log, now: clock, waitForLockMs: 30_000, tag: '[refresh]' }).run([item], [a]);
  if (o.json) printJson({ now: clock(), account: id, actions: report.actions, skipped: report.skipped });
  if (report.signal) {
    const { signalExitCode } = await import('../core/runner.js');
    return signalExitCode(report.signal);
  }
  return report.actions.every((r) => r.ok) && !report.leftUndone.length ? EXIT_OK : EXIT_FAILED;
}
