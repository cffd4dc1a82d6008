import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli, startCli } from '../support/cli.js';
import { expectNoSecrets, MIN, World } from '../support/fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Several processes on one home: single-flight refreshes and recovery from a killed process. */
describe('tick: many processes', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  it('eight ticks at once on 20 expiring accounts use each refresh token exactly once', async () => {
    w.sim.latencyMs = 50; // widen every race window
    const ids = Array.from({ length: 20 }, (_, i) => `acct-${String(i).padStart(2, '0')}`);
    const issued = ids.map((id) => w.anthropic(id, { expiresIn: 5 * MIN }));
    const results = await Promise.all(Array.from({ length: 8 }, () => runCli(w.args('tick', '--json'))));
    for (const r of results) {
      expectNoSecrets(r.stdout + r.stderr, w.secrets);
      expect(r.code, r.stderr).toBe(0);
    }
    const docs = results.map(parseJson);
    const done = docs.flatMap((d) => d.actions).filter((a: any) => a.action === 'token' && a.ok);
    expect(done).toHaveLength(20);
    expect(new Set(done.map((a: any) => a.account)).size).toBe(20);
    expect(w.sim.state.refreshCalls).toBe(20);
    expect(w.sim.state.refreshReuses).toBe(0);
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken).every((r) => r.status === 200)).toBe(true);
    const sentTokens = w.sim.requestsTo(SIM_PATHS.anthropicToken).map((r) => JSON.parse(r.body).refresh_token);
    expect(new Set(sentTokens).size).toBe(20);
    ids.forEach((id, i) => {
      const doc = w.home.read(id);
      expect(doc.credentials.refreshToken).toBe(issued[i]!.account.refreshToken);
      expect(doc.status ?? 'active').toBe('active');
    });
    // the processes that lost a race said why
    const reasons = docs.flatMap((d) => d.skipped.map((s: any) => s.reason));
    expect(reasons.every((r: string) => r === 'in progress elsewhere' || r === 'token: already done by another process')).toBe(true);
  });

  it('a tick killed with kill -9 mid-refresh leaves a lock whose owner is gone: the next tick takes it over at once', async () => {
    const c = w.anthropic('a1', { expiresIn: 5 * MIN });
    // the upstream sits on the request; the killed process never gets an answer
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 60_000 });
    const victim = startCli(w.args('tick', '--json'));
    for (let i = 0; i < 200 && w.sim.requestsTo(SIM_PATHS.anthropicToken).length === 0; i++) await sleep(50);
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(1);
    victim.child.kill('SIGKILL');
    await victim.done;
    expect(existsSync(join(w.home.dir, 'locks', 'a1.lock'))).toBe(true);

    const next = parseJson(await runCli(w.args('tick', '--json')));
    expect(next.actions).toMatchObject([{ account: 'a1', action: 'token', ok: true }]);
    expect(w.home.read('a1').credentials.refreshToken).toBe(c.account.refreshToken);
    expect(w.sim.state.refreshReuses).toBe(0);
  });
});
