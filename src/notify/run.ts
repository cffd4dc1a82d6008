import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config, NotifyChannel } from '../config/types.js';
import type { Attention } from '../core/attention.js';
import { notifyTransitions, type NotifyEvent, type NotifyInput, type NotifyState, type RunProblem } from '../core/events.js';
import type { Provider } from '../model/types.js';
import type { Logger } from '../log.js';
import { channelKey, fallbackOutboxDir, Outbox, type OutboxEntry } from '../store/outbox.js';
import type { AccountStore } from '../store/store.js';
import { redact } from '../util/secrets.js';
import { iso } from '../util/time.js';
import { deliver } from './deliver.js';
import { channelLabel } from './message.js';

/**
 * A run's part in telling people: under the outbox lock, turn what is true now into events (core/events.ts),
 * queue one message per event and channel, then deliver everything waiting, channels side by side, all within
 * one `timeout_ms`. What could not be delivered stays queued for the next run, until `notify_give_up`.
 * Another process holding the lock is delivering: this run leaves it to that one.
 */
export interface NotifyOutcome {
  delivered: number;
  /** one line per failed delivery or message given up, naming the channel (never its secret) */
  failures: string[];
  /** messages still waiting after this run */
  pending: number;
  /** when the next reminder falls due (null: nothing open) */
  nextAt: number | null;
  /** another process held the outbox */
  busy: boolean;
}

export const host = () => hostname();

type Seen = Attention & { provider: Provider };
/** The attention of these accounts as their files say now (null: nothing wrong); missing ids are gone. */
export type Recheck = (ids: readonly string[]) => Map<string, Seen | null>;

/**
 * A run's view of the accounts may be older than what another run has told meanwhile (it loaded them before that
 * run's refresh failed): a change from what was told is believed only when the file, read again under the outbox
 * lock, agrees. Otherwise overlapping ticks would tell "fine again", then "needs a person" again.
 */
function believed(state: NotifyState, list: readonly Seen[], recheck: Recheck): Seen[] {
  const current = new Map(list.map((a) => [a.account, a]));
  const changed = [...new Set([...current.keys(), ...Object.keys(state.accounts)])].filter((id) => current.get(id)?.kind !== state.accounts[id]?.kind);
  if (!changed.length) return [...list];
  const fresh = recheck(changed);
  for (const id of changed) {
    const f = fresh.get(id);
    if (f) current.set(id, f);
    else current.delete(id);
  }
  return [...current.values()];
}

export async function notifyRun(store: AccountStore, cfg: Config, log: Logger, input: NotifyInput, now: number, recheck?: Recheck): Promise<NotifyOutcome> {
  const out: NotifyOutcome = { delivered: 0, failures: [], pending: 0, nextAt: null, busy: false };
  if (!cfg.notify.length) return out;
  let box = new Outbox(store);
  let release;
  try {
    release = await box.lock();
  } catch (e) {
    // The home cannot take the outbox: tell a person that, from a place that can.
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    box = new Outbox(store, fallbackOutboxDir(store.home));
    release = await box.lock();
    log.warn(`[notify] ${join(store.home, 'notify')} cannot be written (${code}); notifications wait in ${box.dir} instead`);
    if (input.problems?.scopes.includes('tick')) {
      const home: RunProblem = { key: 'tick:home', reason: `the refresher home ${store.home} cannot be written (${code}), so rotated tokens and what was learned cannot be saved`, fix: `make ${store.home} writable by this user (refresher doctor)` };
      input = { ...input, problems: { ...input.problems, list: [...input.problems.list, home] } };
    }
  }
  if (!release) return { ...out, busy: true, pending: box.counts().pending };
  try {
    const state = box.readState();
    if (input.attention && recheck) input = { ...input, attention: { ...input.attention, list: believed(state, input.attention.list, recheck) } };
    const t = notifyTransitions(state, input, now, cfg.remindEveryMs, host());
    for (const e of t.events) {
      const clean: NotifyEvent = { ...e, reason: redact(e.reason), fix: e.fix && redact(e.fix) };
      for (const ch of cfg.notify) await box.add(clean, channelKey(ch), now);
    }
    // queued before the state says it was told: a crash between the two tells twice, never not at all
    await box.writeState(t.state);
    out.nextAt = t.nextAt;
    await deliverPending(box, cfg, log, now, out);
  } finally {
    await release();
  }
  return out;
}

async function deliverPending(box: Outbox, cfg: Config, log: Logger, now: number, out: NotifyOutcome): Promise<void> {
  const byKey = new Map<string, NotifyChannel>(cfg.notify.map((ch) => [channelKey(ch), ch]));
  const lanes = new Map<string, OutboxEntry[]>();
  for (const e of box.pending()) {
    if (!byKey.has(e.channel)) {
      // its channel was removed or changed in the config: nobody to deliver it to
      box.remove(e);
      log.warn(`[notify] a message for a channel no longer in the config was dropped: ${e.event.kind} ${e.event.account ?? ''}`.trimEnd());
      continue;
    }
    if (now - e.createdAt > cfg.notifyGiveUpMs) {
      box.remove(e);
      out.failures.push(`${channelLabel(byKey.get(e.channel)!)}: gave up on a message from ${iso(e.createdAt)} after ${e.attempts} tries (notify_give_up); last: ${e.lastError ?? 'never tried'}`);
      continue;
    }
    lanes.set(e.channel, [...(lanes.get(e.channel) ?? []), e]);
  }
  const deadline = Date.now() + cfg.timeoutMs;
  await Promise.all(
    [...lanes].map(async ([key, entries]) => {
      const ch = byKey.get(key)!;
      for (const [i, e] of entries.entries()) {
        const left = deadline - Date.now();
        if (left < 50) {
          out.pending += entries.length - i;
          return;
        }
        const d = await deliver(ch, e.event, { timeoutMs: left, cfg });
        if (d.ok) {
          box.remove(e);
          out.delivered++;
          continue;
        }
        await box.update({ ...e, attempts: e.attempts + 1, lastError: d.error });
        out.failures.push(`${channelLabel(ch)}: ${d.error}; the message is kept and tried again by the next run (until ${iso(e.createdAt + cfg.notifyGiveUpMs)})`);
        // the rest of this channel's queue waits for the next run: a receiver that is down stays down for a while
        out.pending += entries.length - i;
        return;
      }
    }),
  );
}
