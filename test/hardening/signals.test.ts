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

  it('with more workers than request slots, a worker that waited for a slot sends nothing after SIGTERM', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nconcurrency: 2\n'));
    for (const id of ['a1', 'a2', 'a3', 'a4']) w.anthropic(id, { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 800, times: 2 });
    const h = startCli(w.args('tick', '--json'));
    for (let i = 0; i < 300 && w.sim.requestsTo(SIM_PATHS.anthropicToken).length < 2; i++) await sleep(10);
    await sleep(100); // the third worker has its account's lock and waits for a request slot
    h.child.kill('SIGTERM');
    const r = await h.done;
    expect(r.code).toBe(143);
    const doc = parseJson(r);
    expect(doc.actions.filter((a: any) => a.action === 'token' && a.ok)).toHaveLength(2);
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(2);
    expect(doc.skipped.map((s: any) => s.reason)).toEqual(['stopped by SIGTERM before it started', 'stopped by SIGTERM before it started']);
    expect(doc.leftUndone.sort()).toHaveLength(2);
    expect(w.sim.state.refreshReuses).toBe(0);
  });
});
