import type { Provider } from '../model/types.js';
import type { Attention } from './attention.js';

/**
 * What a person should hear, as data: which accounts started or stopped needing them, which are still waiting
 * (every `remind_every`), and runs that could not do their work. Pure, like the planner: a function of what was
 * told before (the state), what is true now, and the time. Delivery is the notify room's business.
 */
export type NotifyEventKind = 'needs-person' | 'reminder' | 'recovered' | 'run-problem' | 'run-recovered' | 'test';

export interface NotifyEvent {
  /** unique: the queue's file name and the receivers' dedupe key */
  id: string;
  kind: NotifyEventKind;
  host: string;
  at: number;
  account: string | null;
  provider: Provider | null;
  /** what is (or was) wrong */
  reason: string;
  /** the command or step that fixes it; null when nothing is to be done */
  fix: string | null;
  /** since when it has been true (reminders, recoveries) */
  since: number | null;
}

export interface Told {
  kind: string;
  reason: string;
  fix: string | null;
  provider: Provider | null;
  since: number;
  notifiedAt: number;
}

/** What has been told, kept in the store: per account, and per run problem (`tick:budget`, `serve:cooling:codex`). */
export interface NotifyState {
  accounts: Record<string, Told>;
  problems: Record<string, Told>;
}

export const emptyNotifyState = (): NotifyState => ({ accounts: {}, problems: {} });

/** A run that could not do its work; `key` is `<scope>:<what>`, and only its own scope can clear it. */
export interface RunProblem {
  key: string;
  reason: string;
  fix: string;
}

export interface NotifyInput {
  /** every account's attention now, with the ids that exist (an account removed is not "recovered") */
  attention?: { list: readonly (Attention & { provider: Provider })[]; ids: ReadonlySet<string> };
  /** the run problems now of the scopes this run can see (`tick`, `config`, `serve`); others are left as they are */
  problems?: { scopes: readonly string[]; list: readonly RunProblem[] };
}

let seq = 0;
const eventId = (now: number) => `${now.toString(36)}-${process.pid.toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** The events since `state`, the state after them, and when the next reminder falls due (null: nothing open). */
export function notifyTransitions(state: NotifyState, input: NotifyInput, now: number, remindEveryMs: number, host: string): { events: NotifyEvent[]; state: NotifyState; nextAt: number | null } {
  const next: NotifyState = { accounts: { ...state.accounts }, problems: { ...state.problems } };
  const events: NotifyEvent[] = [];
  const ev = (kind: NotifyEventKind, account: string | null, t: Pick<Told, 'reason' | 'fix' | 'provider'>, since: number | null) =>
    events.push({ id: eventId(now), kind, host, at: now, account, provider: t.provider, reason: t.reason, fix: t.fix, since });

  const step = (table: Record<string, Told>, key: string, kind: string, now_: Pick<Told, 'reason' | 'fix' | 'provider'>, account: string | null, started: NotifyEventKind) => {
    const prev = table[key];
    if (!prev || prev.kind !== kind) {
      table[key] = { kind, ...now_, since: now, notifiedAt: now };
      ev(started, account, now_, null);
    } else if (now >= prev.notifiedAt + remindEveryMs || now < prev.notifiedAt) {
      table[key] = { ...prev, ...now_, notifiedAt: now };
      ev('reminder', account, now_, prev.since);
    } else table[key] = { ...prev, ...now_ };
  };

  if (input.attention) {
    const current = new Map(input.attention.list.map((a) => [a.account, a]));
    for (const a of input.attention.list) step(next.accounts, a.account, a.kind, { reason: a.reason, fix: a.fix, provider: a.provider }, a.account, 'needs-person');
    for (const [id, told] of Object.entries(state.accounts)) {
      if (current.has(id)) continue;
      delete next.accounts[id];
      if (input.attention.ids.has(id)) ev('recovered', id, { reason: told.reason, fix: null, provider: told.provider }, told.since);
    }
  }
  if (input.problems) {
    const { scopes, list } = input.problems;
    const current = new Set(list.map((p) => p.key));
    for (const p of list) step(next.problems, p.key, p.key, { reason: p.reason, fix: p.fix, provider: null }, null, 'run-problem');
    for (const [key, told] of Object.entries(state.problems)) {
      if (!scopes.includes(key.split(':')[0]!) || current.has(key)) continue;
      delete next.problems[key];
      ev('run-recovered', null, { reason: told.reason, fix: null, provider: told.provider }, told.since);
    }
  }
  const open = [...Object.values(next.accounts), ...Object.values(next.problems)];
  const nextAt = open.length ? Math.min(...open.map((t) => t.notifiedAt + remindEveryMs)) : null;
  return { events, state: next, nextAt };
}
