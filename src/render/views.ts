import type { Config } from '../config/types.js';
import { attentionList, attentionStartsAt, type Attention, type Holder } from '../core/attention.js';
import { planTick } from '../core/planner.js';
import type { Account, AccountPlan, Plan } from '../model/types.js';
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

/** One row of `status --json`: settings, state, plan; no credentials. */
export function statusRow(a: Account, p: AccountPlan, cfg: Config, poolAnswer: string | null, attention: Attention | null) {
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
    attention,
  });
}

export type StatusRow = ReturnType<typeof statusRow>;

/**
 * Until when an account's status row stays what it is now, whatever the clock says: its next due time (before
 * it, the plan's `next` is a function of the file alone), and the moment it starts to need a person (a setup
 * token nearing its end). Skipped accounts only change with their file. -Infinity: the row depends on more than
 * the file and the config (a lock holder, tokens waiting in recovery/), so it is never kept. Null: never changes.
 */
export function rowStableUntil(a: Account, p: AccountPlan, holder: Holder | undefined): number | null {
  if (holder || a.recovery) return -Infinity;
  let until = p.skip ? null : p.dueAt;
  const starts = attentionStartsAt(a);
  if (starts !== null) until = Math.min(until ?? Infinity, starts);
  return until;
}

/**
 * The `status --json` document's rows (serve's /status too), in plan order. `known`: the plan and attention
 * list the caller already made from the same (accounts, cfg, now).
 */
export function statusRows(
  accounts: readonly Account[],
  cfg: Config,
  now: number,
  poolAnswer: string | null,
  holders?: ReadonlyMap<string, Holder>,
  known?: { plan: Plan; attention: ReadonlyMap<string, Attention> },
): StatusRow[] {
  const plan = known?.plan ?? planTick(accounts, cfg, now);
  const attention = known?.attention ?? new Map(attentionList(accounts, cfg, now, holders).map((x) => [x.account, x]));
  const byId = new Map(accounts.map((a) => [a.id, a]));
  return plan.accounts.map((p) => statusRow(byId.get(p.id)!, p, cfg, poolAnswer, attention.get(p.id) ?? null));
}
