import type { Config } from '../config/types.js';
import type { RunProblem } from '../core/events.js';
import type { Logger } from '../log.js';
import type { Account, Provider } from '../model/types.js';
import type { AccountStore } from '../store/store.js';
import { iso } from '../util/time.js';

/**
 * What only serve sees: every usable account of a provider cooling down, for longer than `serve.notify_after`
 * (or until a reset further away than that). Pure over the accounts, their cooldowns and since when all of a
 * provider's have been cooling; serve's timer passes the result to the notify room with scope `serve`.
 */
export function coolingProblems(accounts: readonly Account[], cooldownUntil: (a: Account) => number, allSince: Map<Provider, number>, notifyAfterMs: number, now: number): RunProblem[] {
  const out: RunProblem[] = [];
  for (const provider of ['anthropic', 'codex', 'grok'] as const) {
    const usable = accounts.filter((a) => a.provider === provider && a.status === 'active' && !a.paused && !a.recovery);
    const cooling = usable.length > 0 && usable.every((a) => cooldownUntil(a) > now);
    if (!cooling) {
      allSince.delete(provider);
      continue;
    }
    const since = allSince.get(provider) ?? now;
    allSince.set(provider, since);
    const until = Math.min(...usable.map(cooldownUntil));
    if (now - since < notifyAfterMs && until - now < notifyAfterMs) continue;
    out.push({
      key: `serve:cooling:${provider}`,
      reason: `every ${provider} account (${usable.length}) is cooling down, the first until ${iso(until)}: clients of refresher serve get 429 until then`,
      fix: `refresher status (which limits were hit); add or resume a ${provider} account to serve before the reset`,
    });
  }
  return out;
}

/** serve's notification timer: the cooling check, and the retry of anything queued. */
export function watchCooling(o: { store: AccountStore; cfg: Config; log: Logger; accounts: () => readonly Account[]; cooldownUntil: (a: Account) => number }): () => void {
  if (!o.cfg.notify.length) return () => undefined;
  const since = new Map<Provider, number>();
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      const now = Date.now();
      const list = coolingProblems(o.accounts(), o.cooldownUntil, since, o.cfg.serve.notifyAfterMs, now);
      const { notifyRun } = await import('../notify/run.js');
      const n = await notifyRun(o.store, o.cfg, o.log, { problems: { scopes: ['serve'], list } }, now);
      for (const f of n.failures) o.log.warn(`[notify] ${f}`);
    } catch (e) {
      o.log.warn(`[notify] ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), Math.max(500, Math.min(30_000, o.cfg.serve.notifyAfterMs / 2)));
  timer.unref();
  return () => clearInterval(timer);
}
