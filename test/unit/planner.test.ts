import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { planAccount, planTick } from '../../src/core/planner.js';
import { ACCOUNT_DEFAULTS, type Account } from '../../src/model/types.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

function acct(over: Partial<Account> & { provider?: Account['provider'] } = {}): Account {
  const provider = over.provider ?? 'anthropic';
  const credentials =
    provider === 'grok'
      ? { sso: 's', ssoRw: null }
      : provider === 'codex'
        ? { accessToken: 'a', refreshToken: 'r', expiresAt: NOW + 5 * HOUR, idToken: null, accountId: 'x' }
        : { accessToken: 'a', refreshToken: 'r', expiresAt: NOW + 5 * HOUR };
  return {
    version: 1,
    id: 'a1',
    ...ACCOUNT_DEFAULTS,
    rateLimitReset: NOW + HOUR,
    quota: { checkedAt: NOW - MIN },
    provider,
    credentials,
    ...over,
  } as Account;
}

const cfg = defaultConfig();
const oauth = (expiresAt: number | null, refreshToken = 'r') => ({ accessToken: 'a', refreshToken, expiresAt });

describe('planAccount: what is due', () => {
  const cases: { name: string; account: Account; actions: string[]; reason?: RegExp }[] = [
    { name: 'nothing due', account: acct(), actions: [] },
    { name: 'token expires within 15m', account: acct({ credentials: oauth(NOW + 10 * MIN) }), actions: ['token'], reason: /expires in 10m/ },
    { name: 'token exactly at the edge', account: acct({ credentials: oauth(NOW + 15 * MIN) }), actions: ['token'] },
    { name: 'token just outside the edge', account: acct({ credentials: oauth(NOW + 15 * MIN + 1000) }), actions: [] },
    { name: 'token already expired', account: acct({ credentials: oauth(NOW - HOUR) }), actions: ['token'], reason: /expired 1h ago/ },
    { name: 'token expiry unknown', account: acct({ credentials: oauth(null) }), actions: ['token'], reason: /unknown/ },
    { name: 'no refresh token: no token action', account: acct({ credentials: oauth(NOW - HOUR, '') }), actions: [] },
    { name: 'window never started', account: acct({ rateLimitReset: null }), actions: ['window'], reason: /no usage window/ },
    { name: 'window reset passed', account: acct({ rateLimitReset: NOW - MIN }), actions: ['window'] },
    { name: 'window reset exactly now', account: acct({ rateLimitReset: NOW }), actions: ['window'] },
    { name: 'window still running', account: acct({ rateLimitReset: NOW + MIN }), actions: [] },
    { name: 'codex has no window', account: acct({ provider: 'codex', rateLimitReset: null }), actions: [] },
    { name: 'quota: never checked', account: acct({ quota: null }), actions: ['quota'], reason: /no quota snapshot/ },
    { name: 'quota: used 61m ago, checked before use', account: acct({ lastUsedAt: NOW - 61 * MIN, quota: { checkedAt: NOW - 2 * HOUR } }), actions: ['quota'] },
    { name: 'quota: used 30m ago: not yet', account: acct({ lastUsedAt: NOW - 30 * MIN, quota: { checkedAt: NOW - 2 * HOUR } }), actions: [] },
    { name: 'quota: checked after last use: not again', account: acct({ lastUsedAt: NOW - 3 * HOUR, quota: { checkedAt: NOW - 2 * HOUR } }), actions: [] },
    { name: 'quota: a snapshot between the use and an hour after it does not cancel the refresh', account: acct({ lastUsedAt: NOW - 61 * MIN, quota: { checkedAt: NOW - 60 * MIN } }), actions: ['quota'] },
    { name: 'quota: a snapshot an hour after the use: not again', account: acct({ lastUsedAt: NOW - 3 * HOUR, quota: { checkedAt: NOW - 2 * HOUR + 1 } }), actions: [] },
    { name: 'quota: never used and checked: never due', account: acct({ lastUsedAt: null, quota: { checkedAt: NOW - 48 * HOUR } }), actions: [] },
    { name: 'token comes first', account: acct({ credentials: oauth(NOW - MIN), rateLimitReset: null, quota: null }), actions: ['token', 'window', 'quota'] },
    { name: 'grok quota', account: acct({ provider: 'grok', lastUsedAt: NOW - 2 * HOUR, quota: { checkedAt: NOW - 3 * HOUR } }), actions: ['quota'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = planAccount(c.account, cfg, NOW);
      expect(p.actions.map((a) => a.action)).toEqual(c.actions);
      expect(p.skip).toBeNull();
      if (c.reason) expect(p.actions[0]!.reason).toMatch(c.reason);
    });
  }
});

describe('planAccount: skips', () => {
  const due = { credentials: oauth(NOW - MIN), rateLimitReset: null, quota: null };
  const cases: { name: string; over: Partial<Account>; reason: string }[] = [
    { name: 'expired', over: { status: 'expired' }, reason: 'expired' },
    { name: 'paused', over: { paused: true }, reason: 'paused' },
    { name: 'auto-refresh off', over: { autoRefresh: false }, reason: 'auto-refresh off' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = planAccount(acct({ ...due, ...c.over } as Partial<Account>), cfg, NOW);
      expect(p.skip).toBe(c.reason);
      expect(p.actions).toEqual([]);
      expect(p.next).toBeNull();
    });
  }
  it('three failures with no recorded time are not held back', () => {
    expect(planAccount(acct({ ...due, failedCount: 3 } as Partial<Account>), cfg, NOW).actions.length).toBe(3);
  });
  it('two failures still run', () => {
    expect(planAccount(acct({ ...due, failedCount: 2 } as Partial<Account>), cfg, NOW).actions.length).toBe(3);
  });
  it('provider switches turn off window and grok quota', () => {
    const off = defaultConfig();
    off.providers.anthropic.autoRefresh = false;
    off.providers.grok.autoRefreshTokens = false;
    expect(planAccount(acct({ rateLimitReset: null }), off, NOW).actions).toEqual([]);
    expect(planAccount(acct({ provider: 'grok', quota: null }), off, NOW).actions).toEqual([]);
  });
});

describe('planAccount: next due', () => {
  it('is the soonest future action, with its reason', () => {
    const p = planAccount(acct({ credentials: oauth(NOW + 2 * HOUR), rateLimitReset: NOW + HOUR }), cfg, NOW);
    expect(p.next).toEqual({ action: 'window', at: NOW + HOUR, reason: 'usage window resets at 2026-11-22T13:00:00Z' });
  });
  it('token next due 15 minutes before expiry', () => {
    const p = planAccount(acct({ credentials: oauth(NOW + HOUR), rateLimitReset: NOW + 2 * HOUR }), cfg, NOW);
    expect(p.next).toMatchObject({ action: 'token', at: NOW + 45 * MIN });
  });
  it('quota next due an hour after last use', () => {
    const p = planAccount(acct({ provider: 'grok', lastUsedAt: NOW - 20 * MIN, quota: { checkedAt: NOW - HOUR } }), cfg, NOW);
    expect(p.next).toMatchObject({ action: 'quota', at: NOW + 40 * MIN });
  });
  it('is now when something is due', () => {
    expect(planAccount(acct({ rateLimitReset: NOW - HOUR }), cfg, NOW).next).toMatchObject({ action: 'window', at: NOW });
  });
  it('is null when nothing can become due', () => {
    expect(planAccount(acct({ provider: 'grok', lastUsedAt: null }), cfg, NOW).next).toBeNull();
  });
});

describe('planTick', () => {
  it('orders by priority (lower first, as serve chooses) then id, and lists skips', () => {
    const accounts = [
      acct({ id: 'b', rateLimitReset: null }),
      acct({ id: 'a', rateLimitReset: null }),
      acct({ id: 'z', priority: 5, rateLimitReset: null }),
      acct({ id: 'y', priority: -1, rateLimitReset: null }),
      acct({ id: 'p', paused: true }),
    ];
    const plan = planTick(accounts, cfg, NOW);
    expect(plan.actions.map((a) => a.account)).toEqual(['y', 'a', 'b', 'z']);
    expect(plan.skipped).toEqual([{ account: 'p', reason: 'paused' }]);
  });
  it('uses refresh_before_expiry from the config', () => {
    const c = defaultConfig();
    c.refreshBeforeExpiryMs = 2 * HOUR;
    expect(planTick([acct({ credentials: oauth(NOW + 90 * MIN) })], c, NOW).actions.map((a) => a.action)).toEqual(['token']);
    expect(planTick([acct({ credentials: oauth(NOW + 90 * MIN) })], cfg, NOW).actions).toEqual([]);
  });
});

describe('planAccount: failures cool down, they never retire an account', () => {
  const failed = (n: number, agoMs: number, over: Partial<Account> = {}) =>
    acct({ rateLimitReset: null, quota: null, failedCount: n, lastFailure: { at: NOW - agoMs, reason: 'HTTP 500' }, ...over } as Partial<Account>);
  const cases: { n: number; wait: number }[] = [
    { n: 3, wait: 5 * MIN },
    { n: 4, wait: 10 * MIN },
    { n: 5, wait: 20 * MIN },
    { n: 6, wait: 40 * MIN },
    { n: 7, wait: HOUR },
    { n: 50, wait: HOUR },
  ];
  for (const c of cases) {
    it(`${c.n} failures: held back ${c.wait / MIN} min from the last failure, then planned with the reason`, () => {
      const before = planAccount(failed(c.n, c.wait - 1000), cfg, NOW);
      expect(before.skip).toBeNull();
      expect(before.actions).toEqual([]);
      expect(before.next).toMatchObject({ at: NOW + 1000, reason: expect.stringContaining(`retrying after ${c.n} failures: next try at`) });
      expect(before.dueAt).toBe(NOW + 1000);
      const after = planAccount(failed(c.n, c.wait), cfg, NOW);
      expect(after.actions.map((a) => a.action)).toEqual(['window', 'quota']);
      expect(after.actions[0]!.reason).toBe(`retrying after ${c.n} failures; no usage window started yet`);
    });
  }
  it('failure_backoff and failure_cooldown come from the config', () => {
    const c = defaultConfig();
    c.failureBackoffMs = MIN;
    c.failureCooldownMs = 3 * MIN;
    expect(planAccount(failed(4, 2 * MIN), c, NOW).actions).not.toEqual([]);
    expect(planAccount(failed(9, 3 * MIN - 1), c, NOW).actions).toEqual([]);
    expect(planAccount(failed(9, 3 * MIN), c, NOW).actions).not.toEqual([]);
  });
  it('a token refresh is never held back past the expiry', () => {
    // 6 failures: 40 min of cool-down, but the token expires in 10 min
    const p = planAccount(failed(6, MIN, { credentials: oauth(NOW + 10 * MIN) }), cfg, NOW);
    const token = p.next!;
    expect(token).toMatchObject({ action: 'token', at: NOW + 10 * MIN });
  });
  it('an expired token is retried within 15 minutes of the last failure, whatever the cool-down', () => {
    const p = planAccount(failed(7, MIN, { credentials: oauth(NOW - HOUR) }), cfg, NOW);
    expect(p.next).toMatchObject({ action: 'token', at: NOW + 14 * MIN });
    expect(planAccount(failed(7, 15 * MIN, { credentials: oauth(NOW - HOUR) }), cfg, NOW).actions.map((a) => a.action)).toEqual(['token']);
  });
  it('a failure just before expiry is tried again at the expiry, then every 15 minutes', () => {
    expect(planAccount(failed(6, MIN, { credentials: oauth(NOW + MIN) }), cfg, NOW).next!.at).toBe(NOW + MIN);
    expect(planAccount(failed(7, MIN, { credentials: oauth(NOW - 2 * MIN) }), cfg, NOW).next!.at).toBe(NOW + 14 * MIN);
  });
});

describe('dueAt: what the plan cache remembers never depends on now', () => {
  // For random accounts, a cache filled at t0 says "idle at t" exactly when the planner at t has nothing due.
  const rnd = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  it('agrees with the planner for 2,000 random accounts and times', () => {
    const r = rnd(42);
    const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    const span = () => Math.round((r() - 0.5) * 10 * HOUR);
    for (let i = 0; i < 2000; i++) {
      const provider = pick(['anthropic', 'codex', 'grok'] as const);
      const a = acct({
        provider,
        ...(provider === 'grok' ? {} : { credentials: { ...oauth(pick([null, NOW + span()])), ...(provider === 'codex' ? { idToken: null, accountId: 'x' } : {}) } as never }),
        rateLimitReset: pick([null, NOW + span()]),
        lastUsedAt: pick([null, NOW + span()]),
        quota: pick([null, { checkedAt: NOW + span() }]),
        failedCount: pick([0, 1, 3, 4, 8]),
        lastFailure: pick([null, { at: NOW + span(), reason: 'x' }]),
        status: pick(['active', 'active', 'expired']),
        paused: r() < 0.1,
      } as Partial<Account>);
      const t0 = NOW + span();
      const t = t0 + Math.abs(span());
      const cached = planAccount(a, cfg, t0).dueAt;
      const idle = cached === null || Math.max(0, cached) > t;
      expect(idle, `account ${JSON.stringify(a)} at t0=${t0} t=${t}`).toBe(planAccount(a, cfg, t).actions.length === 0);
    }
  });
});
