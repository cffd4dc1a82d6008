import { describe, expect, it } from 'vitest';
import type { Attention } from '../../src/core/attention.js';
import { emptyNotifyState, notifyTransitions, type NotifyState } from '../../src/core/events.js';

const H = 3_600_000;
const DAY = 24 * H;
const expired = (account: string, reason = 'expired (invalid_grant)'): Attention & { provider: 'anthropic' } => ({ account, kind: 'expired', reason, fix: 'refresher account add anthropic --login', provider: 'anthropic' });
const ids = (...x: string[]) => new Set(x);

describe('notify transitions (pure)', () => {
  it('once per change, then a reminder every remind_every, then recovered', () => {
    let s: NotifyState = emptyNotifyState();
    const step = (list: ReturnType<typeof expired>[], now: number) => {
      const r = notifyTransitions(s, { attention: { list, ids: ids('a1', 'a2') } }, now, DAY, 'box');
      s = r.state;
      return r;
    };
    expect(step([expired('a1')], 0).events.map((e) => [e.kind, e.account])).toEqual([['needs-person', 'a1']]);
    // the wording changes (a count), the kind does not: no news
    expect(step([expired('a1', 'expired (other words)')], H).events).toEqual([]);
    const r = step([expired('a1')], DAY);
    expect(r.events.map((e) => [e.kind, e.since])).toEqual([['reminder', 0]]);
    expect(r.nextAt).toBe(2 * DAY);
    expect(step([expired('a1')], DAY + H).events).toEqual([]);
    expect(step([], DAY + 2 * H).events.map((e) => [e.kind, e.account, e.since])).toEqual([['recovered', 'a1', 0]]);
    expect(step([], DAY + 3 * H).nextAt).toBeNull();
  });

  it('another kind is news; an account removed is not "recovered"', () => {
    const first = notifyTransitions(emptyNotifyState(), { attention: { list: [expired('a1'), expired('a2')], ids: ids('a1', 'a2') } }, 0, DAY, 'box');
    const failing = { ...expired('a1'), kind: 'failing' as const, reason: 'failed 3 times in a row' };
    const r = notifyTransitions(first.state, { attention: { list: [failing], ids: ids('a1') } }, H, DAY, 'box');
    expect(r.events.map((e) => [e.kind, e.account, e.reason])).toEqual([['needs-person', 'a1', 'failed 3 times in a row']]);
    expect(Object.keys(r.state.accounts)).toEqual(['a1']);
  });

  it('run problems are cleared only by their own scope', () => {
    const p = { key: 'serve:cooling:codex', reason: 'every codex account is cooling down', fix: 'refresher status' };
    const a = notifyTransitions(emptyNotifyState(), { problems: { scopes: ['serve'], list: [p] } }, 0, DAY, 'box');
    expect(a.events.map((e) => e.kind)).toEqual(['run-problem']);
    // a tick sees no problems of its own: the serve problem stays
    const b = notifyTransitions(a.state, { attention: { list: [], ids: ids() }, problems: { scopes: ['tick', 'config'], list: [] } }, H, DAY, 'box');
    expect(b.events).toEqual([]);
    expect(Object.keys(b.state.problems)).toEqual(['serve:cooling:codex']);
    const c = notifyTransitions(b.state, { problems: { scopes: ['serve'], list: [] } }, 2 * H, DAY, 'box');
    expect(c.events.map((e) => [e.kind, e.since])).toEqual([['run-recovered', 0]]);
  });
});
