import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { MIN, World } from '../support/fixtures.js';
import { sleep } from '../support/hostile.js';

// Item 1: a transient fault must never retire an account for good.
describe('hardening: failures cool down', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start('request_delay_ms: 0\nmax_retries: 0\nfailure_backoff: 3s\nfailure_cooldown: 6s\n');
  });
  afterEach(() => w.stop());

  for (const status of [500, 429, 529]) {
    it(`three ${status}s, then a healthy upstream: the expired token is refreshed after the cool-down`, async () => {
      const c = w.anthropic('a1', { expiresIn: -MIN });
      w.sim.fault(SIM_PATHS.anthropicToken, { status, times: 3, body: { error: 'temporarily_unavailable' } });
      for (let i = 1; i <= 3; i++) {
        const r = await w.tick();
        expect(r.code).toBe(1);
        expect(w.home.read('a1').failedCount).toBe(i);
      }
      // cooling down: nothing sent, and the account is named as needing a person, with the fix
      const cooling = await w.tick();
      expect(cooling.code).toBe(0);
      expect(cooling.doc.actions).toEqual([]);
      expect(cooling.doc.attention).toMatchObject([{ account: 'a1', fix: 'refresher refresh a1  (to try now; it is also retried by itself)' }]);
      expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(3);
      await sleep(3100);
      const back = await w.tick();
      expect(back.code).toBe(0);
      expect(back.doc.actions).toMatchObject([{ account: 'a1', action: 'token', ok: true, reason: expect.stringMatching(/^retrying after 3 failures; token expired/) }]);
      expect(w.home.read('a1')).toMatchObject({ failedCount: 0, lastFailure: null, credentials: { refreshToken: c.account.refreshToken } });
    });
  }

  it('status and a dry run say when the next try is due, and why', async () => {
    w.anthropic('a1', { expiresIn: 3 * 60 * MIN, fields: { rateLimitReset: null, failedCount: 5, lastFailure: { at: Date.now(), reason: 'messages: HTTP 529 (Overloaded)' } } });
    const s = await w.run(['status', '--json']);
    expect(s.code).toBe(1);
    const row = JSON.parse(s.stdout)[0];
    expect(row.next.reason).toMatch(/^retrying after 5 failures: next try at /);
    expect(row.attention.reason).toMatch(/failed 5 times in a row; last: messages: HTTP 529/);
    const table = await w.run(['status']);
    expect(table.stdout).toMatch(/cooling down \(5 failures in a row\)/);
    expect(table.stdout).toMatch(/1 account needs a person:\n  a1: failed 5 times in a row/);
  });
});
