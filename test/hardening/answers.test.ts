import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { MIN, World } from '../support/fixtures.js';

describe('hardening: answers and deadlines', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start('request_delay_ms: 0\nmax_retries: 0\n');
  });
  afterEach(() => w.stop());

  // Item 7: only a real answer counts as success.
  const junk: { name: string; body: string; type: RegExp }[] = [
    { name: 'an HTML page', body: '<html><body>Welcome to the hotel wifi. Accept the terms to continue.</body></html>', type: /text\/html, 82 bytes/ },
    { name: 'truncated JSON', body: '{"id":"msg_1","type":"mess', type: /application\/json, 26 bytes/ },
    { name: 'JSON of another shape', body: '{"ok":true}', type: /application\/json, 11 bytes/ },
  ];
  for (const j of junk) {
    it(`a window start answered 200 with ${j.name} started nothing: a transient failure naming type and length`, async () => {
      w.anthropic('a1', { fields: { rateLimitReset: null } });
      w.sim.fault(SIM_PATHS.messages, { status: 200, body: j.body });
      const r = await w.tick();
      expect(r.code).toBe(1);
      expect(r.doc.actions).toMatchObject([{ action: 'window', ok: false, failure: 'transient', error: expect.stringMatching(/^messages: HTTP 200 but not the answer expected/) }]);
      expect(r.doc.actions[0].error).toMatch(j.type);
      expect(r.stderr).not.toContain('hotel');
      expect(w.home.read('a1')).toMatchObject({ rateLimitReset: null, failedCount: 1 });
    });
  }

  it('usage, wham/usage, rate-limits and token endpoints check their answers too', async () => {
    w.anthropic('a-usage', { fields: { quota: null } });
    w.codex('c-usage', { fields: { quota: null } });
    w.grok('g', { fields: { quota: null } });
    const page = '<html>captive portal</html>';
    for (const p of [SIM_PATHS.anthropicUsage, SIM_PATHS.wham, SIM_PATHS.grokRateLimits]) w.sim.fault(p, { status: 200, body: page });
    const r = await w.tick();
    expect(r.doc.actions.map((a: any) => [a.account, a.ok, a.failure]).sort()).toEqual([
      ['a-usage', false, 'transient'],
      ['c-usage', false, 'transient'],
      ['g', false, 'transient'],
    ]);
    w.codex('c-token', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.codexToken, { status: 200, body: '{}' });
    const t = await w.tick('--account', 'c-token');
    expect(t.doc.actions).toMatchObject([{ action: 'token', ok: false, error: 'token endpoint: HTTP 200 but not the answer expected (application/json, 2 bytes)' }]);
  });

  // Item 8: every request has a deadline, and so does the tick.
  it('an answer that trickles a byte at a time fails at timeout_ms, and the lock is free again', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nmax_retries: 0\ntimeout_ms: 1000\n'));
    w.grok('g', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { trickleMs: 100 });
    const started = Date.now();
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions).toMatchObject([{ account: 'g', ok: false, failure: 'transient', error: expect.stringContaining('was not complete within 1000 ms') }]);
    expect(Date.now() - started).toBeLessThan(20_000); // it ended (by the deadline, not the test's timeout)
    expect((await w.tick()).doc.actions).toMatchObject([{ account: 'g', ok: true }]);
  });

  it('past tick_budget nothing new starts; the run says what it left undone and exits 1', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nconcurrency: 1\ntick_budget: 1s\n'));
    for (const id of ['g1', 'g2', 'g3']) w.grok(id, { fields: { quota: null } });
    // g1 starts at once and takes longer than the whole budget: whatever the machine's speed, g2 and g3 wait
    w.sim.fault(SIM_PATHS.grokRateLimits, { delayMs: 1500 });
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions).toMatchObject([{ account: 'g1', ok: true }]);
    expect(r.doc.leftUndone).toEqual(['g2', 'g3']);
    expect(r.doc.skipped).toContainEqual({ account: 'g3', reason: 'the tick budget ran out before it started' });
    expect(r.stderr).toContain('[tick] left undone, for the next run: g2, g3');
    expect(w.home.read('g3').quota).toBeNull();
  });
});
