import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { MIN, World } from '../support/fixtures.js';
import { sleep } from '../support/hostile.js';

// Item 11: accounts that need a person are never silent.
describe('hardening: reminders', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start('request_delay_ms: 0\nremind_every: 2s\n');
  });
  afterEach(() => w.stop());

  it('after a tick marks an account expired, later ticks name it once per remind_every; status exits 1 with the fix', async () => {
    const c = w.anthropic('a1', { expiresIn: MIN });
    w.grok('fine');
    w.sim.state.refresh('anthropic', c.refreshToken, Date.now()); // someone else spent it: our copy is dead
    const first = await w.tick();
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('needs a new login');
    expect(first.stderr).toMatch(/warning: \[tick\] 1 account needs a person: a1 \(expired \(needs a new login.*\); run: refresher account add anthropic --login --name a1 --force\)/);
    // the cron path: nothing to do, and the person was told a moment ago
    const quiet = await w.run(['tick']);
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
    await sleep(2100);
    const again = await w.run(['tick']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+Z warning: \[tick\] 1 account needs a person: a1 /);
    expect((await w.run(['tick'])).stderr).toBe('');
    const s = await w.run(['status']);
    expect(s.code).toBe(1);
    expect(s.stdout).toContain('1 account needs a person:\n  a1: expired');
    expect(s.stdout).toContain('    run: refresher account add anthropic --login --name a1 --force');
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(1);
  });

  it('a dry run neither prints the reminder as sent nor delays the real one', async () => {
    w.anthropic('a1', { fields: { status: 'expired' } });
    const dry = await w.run(['tick', '--dry-run']);
    expect(dry.stderr).toContain('[tick] needs a person: a1: expired; run: refresher account add anthropic --login --name a1 --force');
    const real = await w.run(['tick']);
    expect(real.stderr).toMatch(/warning: \[tick\] 1 account needs a person: a1/);
  });
});
