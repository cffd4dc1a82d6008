import { statSync } from 'node:fs';
import type { Account, Provider } from '../model/types.js';
import type { AccountStore } from '../store/store.js';

/**
 * The accounts as `serve` sees them: read at start, and again when the accounts directory changes (every write
 * is a rename, so the directory's times move), checked with one stat per request, never by polling every file.
 * Chooses the accounts for a request, in order.
 */
const AFFINITY_TTL_MS = 3_600_000;
const SYNC_MS = 250;
const AFFINITY_MAX = 10_000;

export interface Unavailable {
  status: 404 | 409 | 429 | 503;
  message: string;
  /** when to come back (a 429) */
  retryAt: number | null;
}

export class AccountPool {
  private accounts: Account[] = [];
  private stamp = '';
  private loadedAt = 0;
  private checkedAt = 0;
  /** session id -> account id, least recently used first */
  private affinity = new Map<string, { id: string; at: number }>();
  /** cooldowns this process set, before the recorder has written them */
  private cooling = new Map<string, number>();
  /** uses this process made, before the recorder has written them */
  private used = new Map<string, number>();

  constructor(private readonly store: AccountStore) {}

  /**
   * Re-reads the accounts when the directory changed. File times are coarse (a few ms): a write in the same
   * tick as our last read leaves them unchanged, so a read that close to the change is followed by one more.
   */
  sync(now = Date.now()): void {
    // A stat per request is measurable at thousands a second; a rotated token is seen within SYNC_MS anyway
    // (and a 401 re-reads the file at once).
    if (now - this.checkedAt < SYNC_MS) return;
    this.checkedAt = now;
    const st = statSync(this.store.dir, { throwIfNoEntry: false });
    const stamp = st ? `${st.mtimeMs}:${st.ctimeMs}` : 'none';
    if (stamp === this.stamp && !(st && this.loadedAt - st.mtimeMs < 50 && now - this.loadedAt >= 50)) return;
    this.stamp = stamp;
    this.loadedAt = now;
    this.accounts = this.store.loadAll().accounts.map((l) => l.account);
  }

  all(): readonly Account[] {
    return this.accounts;
  }

  get(id: string): Account | undefined {
    return this.accounts.find((a) => a.id === id);
  }

  /** An account just read from its file (after a refresh). */
  replace(a: Account): void {
    this.accounts = this.accounts.map((x) => (x.id === a.id ? a : x));
  }

  cooldownUntil(a: Account): number {
    return Math.max(a.cooldownUntil ?? 0, this.cooling.get(a.id) ?? 0);
  }

  setCooldown(id: string, until: number): void {
    this.cooling.set(id, until);
  }

  noteUse(id: string, at: number, sessionId: string | null): void {
    this.used.set(id, at);
    if (sessionId) {
      this.affinity.delete(sessionId);
      this.affinity.set(sessionId, { id, at });
      if (this.affinity.size > AFFINITY_MAX) this.affinity.delete(this.affinity.keys().next().value!);
    }
  }

  /** Usable now: active, not paused, no tokens waiting in recovery/, not cooling down, with a credential. */
  eligible(a: Account, provider: Provider, now: number): boolean {
    return this.whyNot(a, provider, now) === null;
  }

  /**
   * Why no account can take a request now, for the client: a pinned account's own reason, else the pool's.
   * 429 (with when) while cooling down; 404 an unknown pin; 409 a pin that cannot serve; 503 nothing usable.
   */
  unavailable(provider: Provider, pin: string | null, now: number): Unavailable {
    if (pin) {
      const a = this.get(pin);
      if (!a) return { status: 404, message: `no account "${pin}" (x-refresher-account)`, retryAt: null };
      if (this.cooldownUntil(a) > now) return { status: 429, message: `account "${pin}" (x-refresher-account) is cooling down`, retryAt: this.cooldownUntil(a) };
      return { status: 409, message: `account "${pin}" (x-refresher-account) cannot serve this request: ${this.whyNot(a, provider, now)}`, retryAt: null };
    }
    const reset = this.earliestReset(provider, now);
    if (reset !== null) return { status: 429, message: `every ${provider} account is cooling down`, retryAt: reset };
    return { status: 503, message: `no ${provider} account is usable now; see refresher status`, retryAt: null };
  }

  /** Why an account cannot serve a request for `provider` now, in words for the client; null when it can. */
  private whyNot(a: Account, provider: Provider, now: number): string | null {
    if (a.provider !== provider) return `it is a ${a.provider} account`;
    if (a.status !== 'active') return `it is ${a.status}; see refresher status`;
    if (a.paused) return `it is paused (refresher account set ${a.id} --paused off)`;
    if (a.recovery) return 'its newest tokens wait in recovery/; see refresher doctor';
    if (this.cooldownUntil(a) > now) return 'it is cooling down';
    const usable = a.provider === 'grok' ? !!a.credentials.sso : !!(a.credentials.accessToken || a.credentials.refreshToken);
    return usable ? null : 'it has no credential';
  }

  /**
   * The accounts to try, in order: a pinned one alone; else the session's account first (prompt caches are per
   * account), then the lowest priority value, the lowest utilization, the least recently used.
   */
  choose(provider: Provider, now: number, o: { sessionId: string | null; pin: string | null }): Account[] {
    if (o.pin) {
      const a = this.get(o.pin);
      return a && this.eligible(a, provider, now) ? [a] : [];
    }
    const pool = this.accounts.filter((a) => this.eligible(a, provider, now));
    const util = (a: Account) => {
      const q = a.quota;
      return (a.provider === 'anthropic' ? q?.fiveHour?.utilization : a.provider === 'codex' ? q?.fiveHour?.usedPercent : null) ?? 0;
    };
    const lastUse = (a: Account) => Math.max(a.lastUsedAt ?? 0, this.used.get(a.id) ?? 0);
    pool.sort((x, y) => x.priority - y.priority || util(x) - util(y) || lastUse(x) - lastUse(y) || (x.id < y.id ? -1 : 1));
    const sticky = o.sessionId ? this.affinity.get(o.sessionId) : undefined;
    if (sticky && now - sticky.at < AFFINITY_TTL_MS) {
      const i = pool.findIndex((a) => a.id === sticky.id);
      if (i > 0) pool.unshift(...pool.splice(i, 1));
    }
    return pool;
  }

  /** When the first cooling account of a provider becomes usable again; null when none is cooling. */
  earliestReset(provider: Provider, now: number): number | null {
    const resets = this.accounts.filter((a) => a.provider === provider && this.cooldownUntil(a) > now).map((a) => this.cooldownUntil(a));
    return resets.length ? Math.min(...resets) : null;
  }
}
