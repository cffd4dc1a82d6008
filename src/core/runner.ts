import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { clientFromConfig, NotStartedError, type HttpClient } from '../net/client.js';
import { closeDispatchers } from '../net/dispatcher.js';
import { NetworkError } from '../net/http.js';
import { ProxyPool } from '../net/pool.js';
import { chooseProxy } from '../net/proxy.js';
import { adapters } from '../providers/index.js';
import type { Outcome } from '../providers/types.js';
import { poolCacheOf } from '../store/pool-cache.js';
import type { Release } from '../store/lock.js';
import type { Fingerprint } from '../store/cache.js';
import { AccountFileError, describeProblem, StaleWriteError, type AccountStore, type LoadedAccount } from '../store/store.js';
import { adoptFromSource, keepRotated, rescueFromSource, writeBack } from './linked.js';
import { planAccount } from './planner.js';
import { isOAuth, type Account, type AccountPatch, type ActionKind, type PlannedAction } from '../model/types.js';

export interface ActionReport {
  account: string;
  action: ActionKind;
  reason: string;
  ok: boolean;
  error?: string;
  /** how a failure counts: permanent (expired), transient (failedCount + 1), network (not counted), refused (by policy; not counted, not retried) */
  failure?: 'permanent' | 'transient' | 'network' | 'file' | 'refused';
  message?: string;
  durationMs: number;
}

export interface RunReport {
  actions: ActionReport[];
  skipped: { account: string; reason: string }[];
  /** accounts whose due work was not started: the tick budget ran out, or a signal came */
  leftUndone: string[];
  /** the signal that cut the run short, if any */
  signal: NodeJS.Signals | null;
  /** accounts whose lock could not be taken at all (not: held by another), with why */
  lockErrors?: { account: string; error: string }[];
  /** leftovers adopted or removed, recovered tokens restored */
  repaired: { account: string; message: string }[];
  /**
   * With `readAfter`: each account worked on as its file read once its lock was given back (null: it no longer
   * reads). Read there, while other accounts wait on the network, rather than all of them after the run.
   */
  after?: Map<string, Account | null>;
  /** the fingerprint of each file in `after` as it was read there (for the plan cache) */
  afterPrint?: Map<string, Fingerprint>;
}

export interface WorkItem {
  id: string;
  actions: PlannedAction[];
  /** `refresher refresh`: run these even if no longer due */
  forced?: boolean;
  /** left by killed writes (see store.scan); dealt with under the lock before anything is sent */
  leftovers?: readonly string[];
  /** tokens waiting in recovery/ for this account */
  recovery?: string | null;
  /** locked for repair: after it, do whatever the planner says is due */
  repair?: boolean;
}

export interface RunOptions {
  store: AccountStore;
  cfg: Config;
  log: Logger;
  now: () => number;
  /** for `refresh`: wait for the lock instead of skipping the account */
  waitForLockMs?: number;
  /** label of log lines: [tick] or [refresh] */
  tag?: string;
  /** serve: the process goes on; keep its connections and its own signal handling */
  embedded?: boolean;
  /** fill `report.after` */
  readAfter?: boolean;
}

/** The new state of an account after an outcome. `counted`: a failure of this run was counted already (failures count per run, not per action). */
export function outcomePatch(a: Account, o: Outcome, at: number, counted = false): AccountPatch | null {
  switch (o.kind) {
    case 'ok':
      return { ...o.patch, status: 'active', failedCount: 0, lastFailure: null, lastRefreshAt: at };
    case 'permanent':
      return { ...o.patch, status: 'expired', lastFailure: { at, reason: o.reason } };
    case 'transient':
      return { ...o.patch, failedCount: counted ? a.failedCount : a.failedCount + 1, lastFailure: { at, reason: o.reason } };
    case 'refused':
      return o.patch;
    case 'network':
      return null;
  }
}

/** The host a piece of work talks to first; work is split into lanes per host so one slow host stalls no other. */
function laneOf(item: WorkItem, accounts: Map<string, Account>, cfg: Config): string {
  const a = accounts.get(item.id);
  if (!a) return '';
  const first = item.actions[0]?.action;
  const p = cfg.providers;
  const url =
    first === 'token'
      ? a.provider === 'codex'
        ? p.codex.tokenUrl
        : p.anthropic.tokenUrl
      : (a.endpoint ?? p[a.provider].apiBase);
  return new URL(url).host;
}

/** A 403 block of a pool proxy: fetch a fresh proxy and try again, at most this many times. */
const POOL_RETRIES = 2;

export class Runner {
  private readonly http: HttpClient;
  private readonly pool: ProxyPool | null;
  readonly report: RunReport = { actions: [], skipped: [], leftUndone: [], signal: null, repaired: [] };
  /** accounts whose refresh token was sent and whose answer has not come */
  private readonly refreshing = new Set<string>();
  private readonly tag: string;

  constructor(private readonly o: RunOptions) {
    this.tag = o.tag ?? '[tick]';
    this.http = clientFromConfig(o.cfg, (r) => o.log.info(`${this.tag} HTTP ${r.status} from ${new URL(r.url).host}; retry ${r.attempt} in ${r.waitMs} ms`));
    this.pool = o.cfg.proxyPoolUrl ? new ProxyPool({ ...o, cache: poolCacheOf(o.store) }) : null;
  }

  /** The account's proxy; the pool is asked only for accounts that would use it. */
  private async proxyFor(a: Account): Promise<{ url: string | null; fromPool: boolean }> {
    const poolUrl = !a.proxy && this.pool ? await this.pool.get() : null;
    const c = chooseProxy(a, this.o.cfg, poolUrl);
    return { url: c.url, fromPool: c.source === 'pool' };
  }

  /** Accounts that have sent a request in this run: past that, their work goes on to its end. */
  private readonly sent = new Set<string>();
  private budgetEnds = Infinity;

  /** Why nothing new may start now (a signal came, or the tick budget ran out), or null. */
  private stopReason(): string | null {
    if (this.report.signal) return `stopped by ${this.report.signal} before it started`;
    return Date.now() >= this.budgetEnds ? 'the tick budget ran out before it started' : null;
  }

  /**
   * The HTTP client for one account's requests: until the account has sent its first one, each is asked, with a
   * request slot in hand, whether the run is stopping. A worker that waited for a slot starts nothing new then.
   */
  private gatedFor(id: string): Pick<HttpClient, 'request'> {
    return {
      request: (req, ro) =>
        this.http.request(req, {
          ...ro,
          gate: () => {
            if (this.sent.has(id)) return null;
            const why = this.stopReason();
            if (why === null) this.sent.add(id);
            return why;
          },
        }),
    };
  }

  /** One action, with the pool's answer to a blocked proxy. Network errors become outcomes. */
  private async attempt(account: Account, action: ActionKind): Promise<Outcome> {
    const fn = adapters[account.provider][action];
    if (!fn) return { kind: 'transient', reason: `${action} does not apply to ${account.provider}` };
    let proxy = await this.proxyFor(account);
    for (let n = 0; ; n++) {
      let outcome: Outcome;
      try {
        outcome = await fn({ account, cfg: this.o.cfg, http: this.gatedFor(account.id), proxy: proxy.url, now: this.o.now, log: this.o.log });
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        outcome = e.kind === 'upstream' ? { kind: 'transient', reason: e.message } : { kind: 'network', reason: e.message };
      }
      if (outcome.kind === 'network' && outcome.blocked && proxy.fromPool && n < POOL_RETRIES) {
        const next = await this.pool!.replace(proxy.url!);
        if (next && next !== proxy.url) {
          this.o.log.info(`${this.tag} ${account.id}: blocked through the pool's proxy; retrying through a fresh one`);
          proxy = { url: next, fromPool: true };
          continue;
        }
      }
      return outcome;
    }
  }

  async run(items: WorkItem[], accounts: Account[]): Promise<RunReport> {
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const lanes = new Map<string, WorkItem[]>();
    for (const item of items) {
      const key = laneOf(item, byId, this.o.cfg);
      const lane = lanes.get(key);
      if (lane) lane.push(item);
      else lanes.set(key, [item]);
    }
    // SIGINT/SIGTERM/SIGHUP: start nothing new, but let refreshes in flight finish and be written (a second
    // signal exits at once). Killing a refresh between the answer and the write is how rotated tokens get lost.
    const onSignal = (sig: NodeJS.Signals) => {
      if (this.report.signal) {
        // An answer that arrived is on disk already (staged before anything else ran); a refresh token that was
        // sent with no answer yet may have been rotated upstream: name each such account, then exit.
        for (const id of this.refreshing) {
          this.o.log.error(`${this.tag} ${id}: exited by a second ${sig} while its token refresh was in flight; if the provider rotated the token, the new one is lost and this account needs a new login (the next tick tries the one on disk; \`refresher status\` will say)`);
        }
        process.exit(signalExitCode(sig));
      }
      this.report.signal = sig;
      this.o.log.warn(`${this.tag} ${sig}: finishing the requests in flight, starting no new ones (send it again to exit now)`);
    };
    const SIGNALS = this.o.embedded ? [] : (['SIGINT', 'SIGTERM', 'SIGHUP'] as const);
    for (const s of SIGNALS) process.on(s, onSignal);
    // The budget: past it, nothing new starts; requests in flight have their own deadline.
    this.budgetEnds = Date.now() + this.o.cfg.tickBudgetMs;
    // Each lane gets more workers than `concurrency`: a worker spends part of each account on its lock and its
    // fsync'd write, and meanwhile another can have a request in flight. The HTTP client still caps requests in
    // flight at `concurrency`, and its gate keeps a worker that waited for a slot from starting after a signal.
    const workers: Promise<void>[] = [];
    for (const queue of lanes.values()) {
      // (concurrency 1 means one account at a time, in order: no extra worker then)
      const c = this.o.cfg.concurrency;
      const n = Math.min(c === 1 ? 1 : Math.ceil(c * 1.5), queue.length);
      for (let i = 0; i < n; i++) {
        workers.push(
          (async () => {
            for (let item = queue.shift(); item; item = queue.shift()) {
              const why = this.stopReason();
              if (why) {
                this.report.skipped.push({ account: item.id, reason: why });
                if (item.actions.length) this.report.leftUndone.push(item.id);
              } else await this.runAccountSafely(item);
            }
          })(),
        );
      }
    }
    try {
      await Promise.all(workers);
    } finally {
      for (const s of SIGNALS) process.off(s, onSignal);
      if (!this.o.embedded) await closeDispatchers();
    }
    return this.report;
  }

  /** Every failure is printed once, with its cause, as well as reported. */
  private fail(item: WorkItem, actions: PlannedAction[], error: string, failure: ActionReport['failure']) {
    this.o.log.error(`${this.tag} ${item.id}: ${error}`);
    for (const a of actions) this.report.actions.push({ ...a, ok: false, error, failure, durationMs: 0 });
  }

  /** One account's bug or broken file must not stop the others (nor kill the process mid-refresh). */
  private async runAccountSafely(item: WorkItem): Promise<void> {
    try {
      await this.runAccount(item);
    } catch (e) {
      const done = new Set(this.report.actions.filter((a) => a.account === item.id).map((a) => a.action));
      if (e instanceof NotStartedError) {
        // nothing was sent for this account: what it had to do is left for the next run, as if never started
        this.report.skipped.push({ account: item.id, reason: e.message });
        if (item.actions.some((a) => !done.has(a.action))) this.report.leftUndone.push(item.id);
        return;
      }
      const msg = e instanceof AccountFileError ? e.message : `internal error: ${(e as Error).message}`;
      this.fail(item, item.actions.filter((a) => !done.has(a.action)), msg, 'file');
    }
  }

  private async runAccount(item: WorkItem): Promise<void> {
    const { store, log } = this.o;
    let release: Release | null;
    try {
      release = this.o.waitForLockMs ? await store.lock(item.id, this.o.waitForLockMs) : await store.tryLock(item.id);
    } catch (e) {
      this.fail(item, item.actions, `cannot take the account's lock: ${(e as Error).message}`, 'file');
      (this.report.lockErrors ??= []).push({ account: item.id, error: (e as Error).message });
      return;
    }
    if (!release) {
      this.report.skipped.push({ account: item.id, reason: 'in progress elsewhere' });
      log.info(`${this.tag} ${item.id}: in progress elsewhere (locked by another process); skipped`);
      return;
    }
    try {
      const pending = await this.repair(item);
      // Re-read under the lock: the file may have changed since we planned.
      const fresh = store.read(item.id);
      if (!('account' in fresh)) {
        this.fail(item, item.actions, describeProblem(fresh), 'file');
        return;
      }
      fresh.account.recovery = pending;
      let actions = item.actions;
      if (!item.forced) {
        const now = planAccount(fresh.account, this.o.cfg, this.o.now());
        if (now.skip) {
          this.report.skipped.push({ account: item.id, reason: now.skip });
          return;
        }
        const still = new Set(now.actions.map((a) => a.action));
        for (const a of actions) {
          if (!still.has(a.action)) this.report.skipped.push({ account: item.id, reason: `${a.action}: already done by another process` });
        }
        actions = item.repair ? now.actions : now.actions.filter((a) => item.actions.some((p) => p.action === a.action));
      } else if (pending) {
        this.fail(item, actions, `its newest tokens wait in ${pending}; the account file holds used ones. Make ${store.dir} writable: the next run restores them`, 'file');
        return;
      }
      await this.runActions(fresh, actions, !!item.forced, release);
    } finally {
      await release().catch(() => undefined);
      if (this.o.readAfter) this.readAfter(item.id);
    }
  }

  private readAfter(id: string): void {
    let r: ReturnType<AccountStore['read']> | null = null;
    try {
      r = this.o.store.read(id);
    } catch {
      /* counted as not reading */
    }
    (this.report.after ??= new Map()).set(id, r && 'account' in r ? r.account : null);
    if (r && 'account' in r && r.fingerprint) (this.report.afterPrint ??= new Map()).set(id, r.fingerprint);
  }

  /** Leftovers of killed writes and tokens waiting in recovery/; returns the recovery file still pending. */
  private async repair(item: WorkItem): Promise<string | null> {
    if (!item.leftovers?.length && !item.recovery) return null;
    const { adoptLeftovers, restoreRecovery } = await import('../store/repair.js');
    const notes = item.leftovers?.length ? await adoptLeftovers(this.o.store, item.id, item.leftovers) : [];
    if (item.recovery) notes.push(...(await restoreRecovery(this.o.store, item.id, item.recovery)));
    for (const n of notes) this.o.log[n.level](`${this.tag} ${n.message}`);
    this.report.repaired.push(...notes.map((n) => ({ account: item.id, message: n.message })));
    return item.recovery ? (this.o.store.pendingRecovery().get(item.id) ?? null) : null;
  }

  private async runActions(loaded: LoadedAccount, actions: PlannedAction[], forced: boolean, lease: Release): Promise<void> {
    const { store, log } = this.o;
    let current = loaded;
    let counted = false;
    for (let i = 0; i < actions.length; i++) {
      const planned = actions[i]!;
      if (planned.action === 'token' && current.account.source) {
        const adopted = await adoptFromSource(this.o, current, forced);
        current = adopted.current;
        if (!adopted.stillDue) {
          this.report.skipped.push({ account: current.account.id, reason: `token: adopted a newer token from ${current.account.source!.path}` });
          continue;
        }
      }
      const account = current.account;
      const started = Date.now();
      const spends = planned.action === 'token' && isOAuth(account);
      // Loaded before the request: nothing may stand between the upstream's answer and its copy on disk.
      const atomic = spends ? await import('../store/atomic.js') : null;
      if (spends) {
        // Never spend a refresh token whose successor could not be saved.
        try {
          await store.probeWritable(account.id);
        } catch (e) {
          const msg = `token not refreshed: ${(e as Error).message}; nothing was sent. Fix the directory's owner, mode or free space`;
          this.fail({ id: account.id, actions: [] }, actions.slice(i), msg, 'file');
          return;
        }
      }
      if (spends) this.refreshing.add(account.id);
      let outcome: Outcome;
      try {
        outcome = await this.attempt(account, planned.action);
      } finally {
        // the answer (or its failure) is in hand: what follows until the write is synchronous staging
        this.refreshing.delete(account.id);
      }
      if (planned.action === 'token' && outcome.kind === 'permanent') outcome = rescueFromSource(account) ?? outcome;
      const patch = outcomePatch(account, outcome, this.o.now(), counted);
      if (outcome.kind === 'transient') counted = true;
      const report: ActionReport = { ...planned, ok: outcome.kind === 'ok', durationMs: 0 };
      if (patch) {
        const rotated = spends && outcome.kind === 'ok';
        let staged: ReturnType<AccountStore['stageRotation']> | null = null;
        try {
          if (rotated) {
            // On disk before anything else happens, and only over the token it was made from.
            staged = store.stageRotation(account.id, patch, account.credentials.refreshToken, atomic!);
            if (!(await lease.held())) {
              // Stopped for longer than the lock lives (another host took it over): take it again, compare again.
              log.warn(`${this.tag} ${account.id}: the account's lock was taken over while this refresh was in flight; taking it back before writing`);
              if (!(await lease.retake(30_000))) throw new StaleWriteError(`another process holds the lock of ${account.id}`);
              staged.recheck();
            }
            current = await staged.commit();
          } else {
            current = await store.update(account.id, patch);
          }
        } catch (e) {
          staged?.abandon();
          const msg = e instanceof AccountFileError || e instanceof StaleWriteError ? e.message : `cannot write ${current.file}: ${(e as Error).message}`;
          const kept = rotated ? await keepRotated(this.o, account, patch, e instanceof StaleWriteError ? 'conflict' : 'unwritable') : '';
          log.error(`${this.tag} ${msg}${kept}`);
          Object.assign(report, { ok: false, error: msg + kept, failure: 'file' });
        }
      }
      if (planned.action === 'token' && report.ok) await writeBack(this.o, current.account);
      report.durationMs = Date.now() - started;
      if (outcome.kind === 'ok') {
        report.message = outcome.message;
        if (report.ok) log.info(`${this.tag} ${outcome.message}`);
      } else {
        Object.assign(report, { ok: false, error: outcome.reason, failure: outcome.kind });
        const counted =
          outcome.kind === 'network'
            ? ' (network path; not counted against the account)'
            : outcome.kind === 'refused'
              ? ' (refused by the provider\'s policy; not tried again this way until you act: see `refresher status`)'
              : '';
        log.warn(`${this.tag} ${planned.action} failed for ${account.id}: ${outcome.reason}${counted}`);
      }
      this.report.actions.push(report);
      // Without a working token, or once the account is dead, the rest would fail the same way.
      if (!report.ok && (planned.action === 'token' || outcome.kind === 'permanent')) {
        const rest = actions.slice(i + 1);
        for (const r of rest) this.report.skipped.push({ account: account.id, reason: `${r.action}: skipped because ${planned.action} failed` });
        return;
      }
    }
  }
}

/** The shell's convention: 128 + the signal's number (SIGHUP 129, SIGINT 130, SIGTERM 143). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[sig]!;
}
