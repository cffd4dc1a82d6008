import type { Logger } from '../log.js';
import type { AccountPatch, Quota } from '../model/types.js';
import type { AccountStore } from '../store/store.js';

/**
 * What serve learns from each response (last use, rate-limit headers, cooldowns) goes to the account file
 * through the store: read-modify-write under the account's lock, at most once per account per second, so a
 * tick running beside serve loses nothing. Credentials are never in these patches: serve can never write an
 * old token over a new one.
 */
export interface Learned {
  lastUsedAt?: number;
  rateLimitReset?: number | null;
  quota?: Partial<Quota> | null;
  cooldownUntil?: number | null;
}

const COALESCE_MS = 1000;

export class Recorder {
  private pending = new Map<string, Learned>();
  private timers = new Map<string, NodeJS.Timeout>();
  private writing = new Set<Promise<void>>();

  constructor(
    private readonly store: AccountStore,
    private readonly log: Logger,
  ) {}

  note(id: string, l: Learned): void {
    const prev = this.pending.get(id) ?? {};
    this.pending.set(id, { ...prev, ...l, quota: l.quota ? { ...prev.quota, ...l.quota } : prev.quota });
    if (!this.timers.has(id)) this.timers.set(id, setTimeout(() => void this.flush(id), COALESCE_MS));
  }

  private flush(id: string): Promise<void> {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    const l = this.pending.get(id);
    this.pending.delete(id);
    if (!l) return Promise.resolve();
    const p = (async () => {
      let release;
      try {
        release = await this.store.lock(id, 10_000);
        const cur = this.store.read(id);
        if (!('account' in cur)) return;
        const patch: AccountPatch = {};
        if (l.lastUsedAt !== undefined) patch.lastUsedAt = Math.max(l.lastUsedAt, cur.account.lastUsedAt ?? 0);
        if (l.rateLimitReset !== undefined && l.rateLimitReset !== null) patch.rateLimitReset = l.rateLimitReset;
        if (l.cooldownUntil !== undefined) patch.cooldownUntil = l.cooldownUntil;
        if (l.quota) patch.quota = { ...cur.account.quota, ...l.quota, checkedAt: l.lastUsedAt ?? Date.now() } as Quota;
        await this.store.update(id, patch);
      } catch (e) {
        this.log.warn(`[serve] ${id}: could not record this use (${(e as Error).message})`);
      } finally {
        await release?.().catch(() => undefined);
      }
    })();
    this.writing.add(p);
    void p.finally(() => this.writing.delete(p));
    return p;
  }

  /** Writes everything pending now (at shutdown). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((id) => this.flush(id)));
    await Promise.all([...this.writing]);
  }
}
