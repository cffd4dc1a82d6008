import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { AccountStore } from '../../src/store/store.js';
import { parseJson, runCli, startCli } from '../support/cli.js';
import { expectNoSecrets, HOUR, World } from '../support/fixtures.js';

describe('refresher refresh', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const run = async (...args: string[]) => {
    const r = await runCli(w.args(...args), { env: { LOG_LEVEL: 'info' } });
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
    return r;
  };

  it('runs every applicable action now, even when nothing is due', async () => {
    const c = w.anthropic('a', { expiresIn: 6 * HOUR });
    const r = await run('refresh', 'a', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r).actions.map((x: any) => [x.action, x.ok])).toEqual([
      ['token', true],
      ['window', true],
      ['quota', true],
    ]);
    expect(w.home.read('a').credentials.refreshToken).toBe(c.account.refreshToken);
  });

  it('--token only; an action that does not apply is a usage error', async () => {
    w.codex('c');
    const r = await run('refresh', 'c', '--token', '--json');
    expect(parseJson(r).actions.map((x: any) => x.action)).toEqual(['token']);
    const bad = await run('refresh', 'c', '--window');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--window does not apply');
    expect((await run('refresh', 'nope')).code).toBe(2);
    w.home.writeRaw('broken', '{');
    const broken = await run('refresh', 'broken');
    expect(broken.code).toBe(1); // a broken file is an account failure, not a usage error
    expect(broken.stderr).toContain(`${w.home.file('broken')}: not valid JSON`);
  });

  it('waits for an account locked by a tick instead of skipping it', async () => {
    w.grok('g', { fields: { quota: null } });
    const release = await new AccountStore(w.home.dir).tryLock('g');
    const h = startCli(w.args('refresh', 'g', '--json'));
    await new Promise((r) => setTimeout(r, 700));
    expect(w.sim.requests).toHaveLength(0);
    await release!();
    const r = await h.done;
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r).actions).toMatchObject([{ action: 'quota', ok: true }]);
  });

  it('a connection reset by the upstream is a network failure, not counted', async () => {
    w.grok('g', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { reset: true });
    const r = await run('tick', '--json');
    expect(r.code).toBe(1);
    expect(parseJson(r).actions[0]).toMatchObject({ ok: false, failure: 'network', error: expect.stringMatching(/the connection to 127\.0\.0\.1:\d+ was closed before an answer/) });
    expect(w.home.read('g').failedCount ?? 0).toBe(0);
  });
});
