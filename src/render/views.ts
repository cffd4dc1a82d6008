import type { Config } from '../config/types.js';
import { attentionList, type Attention, type Holder } from '../core/attention.js';
import { planTick } from '../core/planner.js';
import type { Account, Plan } from '../model/types.js';
import { describeProxy } from '../net/proxy.js';

/** An account's settings as `account list --json` and `status --json` show them: no credentials, proxy redacted. */
export function settingsView(a: Account, cfg: Config, poolAnswer: string | null) {
  return {
    id: a.id,
    provider: a.provider,
    label: a.label,
    email: a.email,
    status: a.status,
    paused: a.paused,
    autoRefresh: a.autoRefresh,
    priority: a.priority,
    proxy: describeProxy(a, cfg, poolAnswer),
    endpoint: a.endpoint,
    source: a.source,
  };
}

/**
 * The `status --json` document's rows (serve's /status too): settings, state, plan; no credentials. `known`: the
 * plan and attention list the caller already made from the same (accounts, cfg, now).
 */
export function statusRows(
  accounts: readonly Account[],
  cfg: Config,
  now: number,
  poolAnswer: string | null,
  holders?: ReadonlyMap<string, Holder>,
  known?: { plan: Plan; attention: ReadonlyMap<string, Attention> },
): object[] {
  const plan = known?.plan ?? planTick(accounts, cfg, now);
  const attention = known?.attention ?? new Map(attentionList(accounts, cfg, now, holders).map((x) => [x.account, x]));
  const byId = new Map(accounts.map((a) => [a.id, a]));
  return plan.accounts.map((p) => {
    const a = byId.get(p.id)!;
    // Object.assign, not a spread into a literal: a spread of 11 fields into 27 made each row a slow object
    // (status --json over 10,000 accounts spent 120 ms there)
    return Object.assign(settingsView(a, cfg, poolAnswer), {
      failedCount: a.failedCount,
      lastFailure: a.lastFailure,
      expiresAt: 'expiresAt' in a.credentials ? a.credentials.expiresAt : null,
      rateLimitReset: a.rateLimitReset,
      lastUsedAt: a.lastUsedAt,
      lastRefreshAt: a.lastRefreshAt,
      cooldownUntil: a.cooldownUntil,
      quota: a.quota,
      skip: p.skip,
      next: p.next,
      setupToken: a.setupToken,
      window: a.window,
      recovery: a.recovery ?? null,
      attention: attention.get(a.id) ?? null,
    });
  });
}
