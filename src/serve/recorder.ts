import type { Logger } from '../log.js';
import type { AccountPatch, Provider, Quota } from '../model/types.js';
import { limitKeys, usageFromHeaders } from '../providers/rate-limits.js';
import { describeProblem, type AccountStore } from '../store/store.js';

/** Whether two answers carry the same rate-limit headers (then the newer says all the older did). */
function sameLimitKeys(a: Record<string, string>, b: Record<string, string>): boolean {
  for (const k of limitKeys) if ((a[k] === undefined) !== (b[k] === undefined)) return false;
  return true;
}

export interface Learned {
  lastUsedAt: number;
  /** the answer's headers: their rate-limit values are read once per write, not once per request */
  headers: Record<string, string>;
  cooldownUntil?: number;
}

interface Pending {
  provider: Provider;
  lastUsedAt: number;
  cooldownUntil?: number;
  /** what the answers read so far said, a later one winning where they overlap */
  reset: number | null;
  quota: Partial<Quota> | null;
  /** the headers of the newest answer, not yet read */
  last: { headers: Record<string, string>; at: number } | null;
}

/** Reads the pending unread headers into what is known. */
function absorb(p: Pending): void {
  if (!p.last) return;
  const u = usageFromHeaders(p.provider, p.last.headers, p.last.at);
  if (u.reset) p.reset = u.reset;
  if (u.quota) p.quota = { ...(p.quota ?? {}), ...u.quota };
  p.last = null;
}

const COALESCE_MS = 1000;

/**
 * What serve learns from each response (last use, rate-limit headers, cooldowns) goes to the account file
 * through the store: read-modify-write under the account's lock, at most once per account per second, so a
 * tick running beside serve loses nothing. Credentials are never in these patches: serve can never write an
 * old token over a new one.
 */
export class Recorder {
  private pending = new Map<string, Pending>();
  private timers = new Map<string, NodeJS.Timeout>();
  private writing = new Set<Promise<void>>();

  constructor(
    private readonly store: AccountStore,
    private readonly log: Logger,
  ) {}

  note(id: string, provider: Provider, l: Learned): void {
    let p = this.pending.get(id);
    if (!p) {
      p = { provider, lastUsedAt: l.lastUsedAt, reset: null, quota: null, last: null };
      this.pending.set(id, p);
      this.timers.set(id, setTimeout(() => void this.flush(id), COALESCE_MS));
    }
    // Only the newest headers are kept unread; the ones they replace are read first if they said something
    // the newest might not (an answer without the headers must not erase what an earlier one said).
    if (p.last && !sameLimitKeys(p.last.headers, l.headers)) absorb(p);
    p.last = { headers: l.headers, at: l.lastUsedAt };
    p.lastUsedAt = Math.max(p.lastUsedAt, l.lastUsedAt);
    if (l.cooldownUntil !== undefined) p.cooldownUntil = l.cooldownUntil;
  }

  private flush(id: string): Promise<void> {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    const l = this.pending.get(id);
    this.pending.delete(id);
    if (!l) return Promise.resolve();
    absorb(l);
    const { reset, quota } = l;
    const p = (async () => {
      let release;
      try {
        release = await this.store.lock(id, 10_000);
        const cur = this.store.read(id);
        if (!('account' in cur)) {
          this.log.warn(`[serve] ${id}: could not record this use: ${describeProblem(cur)}`);
          return;
        }
        const patch: AccountPatch = { lastUsedAt: Math.max(l.lastUsedAt, cur.account.lastUsedAt ?? 0) };
        if (reset !== null) patch.rateLimitReset = reset;
        if (l.cooldownUntil !== undefined) patch.cooldownUntil = l.cooldownUntil;
        if (quota) patch.quota = { ...cur.account.quota, ...quota, checkedAt: l.lastUsedAt } as Quota;
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
