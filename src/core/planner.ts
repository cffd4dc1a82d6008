import type { Config } from '../config/types.js';
import { formatSpan, iso } from '../util/time.js';
import { windowMethodOf } from '../providers/window-method.js';
import { ACTIONS, isOAuth, type Account, type AccountPlan, type ActionKind, type NextDue, type Plan, type PlannedAction } from '../model/types.js';

/**
 * What is due, and why: a pure function of (accounts, config, now). No I/O, no clock. `tick` runs it,
 * `tick --dry-run` prints it, `status` shows its `next` column, and the runner calls planAccount again
 * under the lock to see whether another process already did the work.
 */

interface Candidate {
  action: ActionKind;
  /** when it becomes due; -Infinity = due since forever */
  dueAt: number;
  /** why it is due now */
  dueReason: string;
  /** why it will be due at dueAt; built only when asked (formatting dates for 10,000 accounts adds up) */
  laterReason: () => string;
}

function tokenCandidate(a: Account, cfg: Config, now: number): Candidate | null {
  if (!isOAuth(a) || !a.credentials.refreshToken) return null;
  const exp = a.credentials.expiresAt;
  const before = cfg.refreshBeforeExpiryMs;
  if (exp === null) return { action: 'token', dueAt: -Infinity, dueReason: 'token expiry unknown', laterReason: () => '' };
  const dueAt = exp - before;
  const dueReason =
    dueAt > now ? '' : exp <= now ? `token expired ${formatSpan(now - exp)} ago` : `token expires in ${formatSpan(exp - now)} (within ${formatSpan(before)})`;
  return { action: 'token', dueAt, dueReason, laterReason: () => `token expires at ${iso(exp)}` };
}

function windowCandidate(a: Account, cfg: Config, now: number): Candidate | null {
  if (a.provider !== 'anthropic' || !cfg.providers.anthropic.autoRefresh) return null;
  // Refused by the provider's policy: asking again every minute would change nothing (and might be billed).
  if (a.window && a.window.method === windowMethodOf(a, cfg)) return null;
  const reset = a.rateLimitReset;
  if (reset === null) return { action: 'window', dueAt: -Infinity, dueReason: 'no usage window started yet', laterReason: () => '' };
  return {
    action: 'window',
    dueAt: reset,
    dueReason: reset > now ? '' : `usage window reset ${formatSpan(now - reset)} ago`,
    laterReason: () => `usage window resets at ${iso(reset)}`,
  };
}

function quotaCandidate(a: Account, cfg: Config, now: number): Candidate | null {
  if (a.provider === 'grok' && !cfg.providers.grok.autoRefreshTokens) return null;
  const checkedAt = a.quota?.checkedAt ?? null;
  if (checkedAt === null) return { action: 'quota', dueAt: -Infinity, dueReason: 'no quota snapshot yet', laterReason: () => '' };
  // An hour after the LAST USE, unless a snapshot was taken at or after that moment. (A snapshot taken at the
  // use itself, as `serve` records from response headers, does not cancel it: usage goes on after a request.)
  if (a.lastUsedAt === null) return null;
  const after = cfg.quotaRefreshAfterUseMs;
  const dueAt = a.lastUsedAt + after;
  if (checkedAt >= dueAt) return null;
  return {
    action: 'quota',
    dueAt,
    dueReason: dueAt > now ? '' : `quota: last used ${formatSpan(now - a.lastUsedAt)} ago, refreshed ${formatSpan(after)} after use`,
    laterReason: () => `quota: ${formatSpan(after)} after last use`,
  };
}

/** Why the account is skipped as a whole, or null. A failing account is not skipped: it cools down (below). */
export function skipReason(a: Account): string | null {
  if (a.status === 'expired') return 'expired';
  if (a.recovery) return `its newest tokens wait in ${a.recovery}`;
  if (a.paused) return 'paused';
  if (!a.autoRefresh) return 'auto-refresh off';
  return null;
}

/** A refresh that keeps failing is still tried this often once the token has expired. */
export const EXPIRED_TOKEN_RETRY_MS = 15 * 60_000;

/**
 * After max_failures failures in a row, the account cools down: failure_backoff from the last failure,
 * doubling with each further failure, capped at failure_cooldown. A function of the file alone, so a dry
 * run, status and the plan cache all agree. Null when the account is not cooling down.
 */
export function cooldown(a: Account, cfg: Config): { until: number; delay: number; failures: number } | null {
  if (a.failedCount < cfg.maxFailures || !a.lastFailure) return null;
  const doublings = Math.min(a.failedCount - cfg.maxFailures, 30);
  const delay = Math.min(cfg.failureBackoffMs * 2 ** doublings, cfg.failureCooldownMs);
  return { until: a.lastFailure.at + delay, delay, failures: a.failedCount };
}

/**
 * The token refresh keeps the account alive, so its cool-down never runs past the token's expiry; once the
 * token has expired, it is tried at least every 15 minutes.
 */
function tokenRetryAt(a: Account, c: { until: number; delay: number }): number {
  const exp = isOAuth(a) ? a.credentials.expiresAt : null;
  if (exp === null || c.until <= exp) return c.until;
  const failedAt = a.lastFailure!.at;
  return failedAt < exp ? exp : Math.min(c.until, failedAt + EXPIRED_TOKEN_RETRY_MS);
}

function heldBack(a: Account, cfg: Config, c: Candidate): Candidate {
  const cool = cooldown(a, cfg);
  if (!cool) return c;
  const retryAt = c.action === 'token' ? tokenRetryAt(a, cool) : cool.until;
  const dueAt = Math.max(c.dueAt, retryAt);
  const why = `retrying after ${cool.failures} failures`;
  return {
    action: c.action,
    dueAt,
    dueReason: c.dueReason ? `${why}; ${c.dueReason}` : '',
    laterReason: () => (retryAt >= c.dueAt ? `${why}: next try at ${iso(retryAt)}` : c.laterReason()),
  };
}

/** A NextDue whose reason is formatted on first read (JSON output and tables read it; a tick does not). */
function lazyNext(c: Candidate): NextDue {
  let reason: string | undefined;
  return {
    action: c.action,
    at: c.dueAt,
    get reason() {
      return (reason ??= c.laterReason());
    },
  };
}

export function planAccount(a: Account, cfg: Config, now: number): AccountPlan {
  const skip = skipReason(a);
  if (skip) return { id: a.id, actions: [], skip, next: null, dueAt: null };
  const candidates = [tokenCandidate(a, cfg, now), windowCandidate(a, cfg, now), quotaCandidate(a, cfg, now)]
    .filter((c): c is Candidate => c !== null)
    .map((c) => heldBack(a, cfg, c));
  // ACTIONS order puts `token` first, so later actions of the same run use the fresh access token.
  const due = candidates.filter((c) => c.dueAt <= now).sort((x, y) => ACTIONS.indexOf(x.action) - ACTIONS.indexOf(y.action));
  const actions: PlannedAction[] = due.map((c) => ({ account: a.id, action: c.action, reason: c.dueReason }));
  let next: NextDue | null = null;
  const soonest = [...candidates].sort((x, y) => x.dueAt - y.dueAt)[0];
  if (due[0]) next = { action: due[0].action, at: Math.max(now, due[0].dueAt), reason: due[0].dueReason };
  else if (soonest) next = lazyNext(soonest);
  return { id: a.id, actions, skip: null, next, dueAt: soonest ? soonest.dueAt : null };
}

/** Lower priority value first (1 before 2, as serve chooses), then by id, so output and order of work are stable. */
/** Plan order: lower priority first, then by id. */
export const planOrder = (priorityA: number, idA: string, priorityB: number, idB: string): number => priorityA - priorityB || (idA < idB ? -1 : idA > idB ? 1 : 0);

export function byPriority(a: Account, b: Account): number {
  return planOrder(a.priority, a.id, b.priority, b.id);
}

export function planTick(accounts: readonly Account[], cfg: Config, now: number): Plan {
  const plans = [...accounts].sort(byPriority).map((a) => planAccount(a, cfg, now));
  return {
    now,
    accounts: plans,
    actions: plans.flatMap((p) => p.actions),
    skipped: plans.filter((p) => p.skip).map((p) => ({ account: p.id, reason: p.skip! })),
  };
}

/** `refresher refresh`: the actions that apply to this account, due or not, in run order. */
export function applicableActions(a: Account): ActionKind[] {
  const applicable: ActionKind[] = [];
  if (isOAuth(a) && a.credentials.refreshToken) applicable.push('token');
  if (a.provider === 'anthropic') applicable.push('window');
  applicable.push('quota');
  return applicable;
}
