import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, startCli } from '../support/cli.js';
import { expectNoSecrets, MIN, World } from '../support/fixtures.js';
import { sleep } from '../support/hostile.js';

// Item 9: SIGHUP is treated like SIGTERM, and a run cut short by a signal does not exit 0.
describe('hardening: signals', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start('request_delay_ms: 0\nconcurrency: 1\n');
  });
  afterEach(() => w.stop());

  for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
    it(`${sig} mid-refresh finishes and saves the refresh in flight, starts nothing new, and exits ${code}`, async () => {
      const first = w.anthropic('a1', { expiresIn: MIN });
      w.anthropic('a2', { expiresIn: MIN });
      w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 800 });
      const h = startCli(w.args('tick', '--json'));
      for (let i = 0; i < 200 && !w.sim.requestsTo(SIM_PATHS.anthropicToken).length; i++) await sleep(10);
      h.child.kill(sig);
      const r = await h.done;
      expectNoSecrets(r.stdout + r.stderr, w.secrets);
      expect(r.code).toBe(code);
      const doc = parseJson(r);
      expect(doc.actions).toMatchObject([{ account: 'a1', action: 'token', ok: true }]);
      expect(doc.skipped).toEqual([{ account: 'a2', reason: `stopped by ${sig} before it started` }]);
      expect(doc.leftUndone).toEqual(['a2']);
      expect(w.home.read('a1').credentials.refreshToken).toBe(first.account.refreshToken);
      expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(1);
    });
  }

  it('a second SIGTERM exits at once, non-zero, naming each account whose refresh was in flight', async () => {
    w.anthropic('a1', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 3000 });
    const h = startCli(w.args('tick', '--json'));
    for (let i = 0; i < 300 && !w.sim.requestsTo(SIM_PATHS.anthropicToken).length; i++) await sleep(10);
    h.child.kill('SIGTERM');
    await sleep(200);
    h.child.kill('SIGTERM');
    const r = await h.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/a1: exited by a second SIGTERM while its token refresh was in flight; if the provider rotated the token, the new one is lost and this account needs a new login/);
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
  });
});
