import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { STALE_MS, tryLock } from '../../src/store/lock.js';
import { parseJson, startCli } from '../support/cli.js';
import { MIN, World } from '../support/fixtures.js';
import { deadPid, sleep, until } from '../support/hostile.js';

// Item 4: a live lock holder is never robbed.
describe('hardening: locks', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
    // what the OAuth security BCP recommends: reusing a refresh token revokes the whole family
    w.sim.state.revokeFamilyOnReuse = true;
  });
  afterEach(() => w.stop());
  const lockDir = () => join(w.home.dir, 'locks', 'a1.lock');
  const tokenRequests = () => w.sim.requestsTo(SIM_PATHS.anthropicToken).length;

  it('a tick stopped (SIGSTOP) mid-refresh for longer than a lock lives keeps its lock; it then saves its token', async () => {
    const c = w.anthropic('a1', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 500 });
    const a = startCli(w.args('tick', '--json'));
    await until(() => tokenRequests() === 1, 10_000, 'the refresh request');
    a.child.kill('SIGSTOP');
    try {
      await sleep(STALE_MS + 1500);
      // By the old rule (an untouched lock is stale after 10 s) this tick took the lock and spent the token again.
      const b = await w.tick();
      expect(b.doc.skipped).toContainEqual({ account: 'a1', reason: 'in progress elsewhere' });
      expect(tokenRequests()).toBe(1);
    } finally {
      a.child.kill('SIGCONT');
    }
    const r = await a.done;
    expect(r.code).toBe(0);
    expect(parseJson(r).actions).toMatchObject([{ account: 'a1', action: 'token', ok: true }]);
    expect(w.sim.state.refreshReuses).toBe(0);
    expect(w.home.read('a1')).toMatchObject({ status: 'active', credentials: { refreshToken: c.account.refreshToken } });
    // and the account works: the next refresh with the saved token succeeds
    expect((await w.run(['refresh', 'a1', '--token'])).code).toBe(0);
  });

  it('a live holder stopped for longer than tick_budget: every tick, status and doctor name its pid and since when', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\ntick_budget: 2s\n'));
    w.anthropic('a1', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 500 });
    const a = startCli(w.args('tick', '--json'));
    await until(() => tokenRequests() === 1, 10_000, 'the refresh request');
    a.child.kill('SIGSTOP');
    try {
      await sleep(2500);
      const b = await w.tick();
      expect(b.code).toBe(0);
      expect(b.doc.attention).toMatchObject([{ account: 'a1', kind: 'locked', reason: expect.stringMatching(new RegExp(`held since .* by pid ${a.child.pid} on `)) }]);
      expect(b.stderr).toMatch(new RegExp(`needs a person: a1 \\(its lock has been held since .* by pid ${a.child.pid}`));
      const st = await w.run(['status']);
      expect(st.code).toBe(1);
      expect(st.stdout).toContain(`kill -CONT ${a.child.pid}`);
      const d = await w.run(['doctor', '--offline', '--json']);
      expect(JSON.parse(d.stdout).checks).toContainEqual(expect.objectContaining({ name: 'a1 needs a person', ok: false, detail: expect.stringContaining(`pid ${a.child.pid}`) }));
    } finally {
      a.child.kill('SIGCONT');
    }
    expect((await a.done).code).toBe(0);
    expect(w.sim.state.refreshReuses).toBe(0);
  });

  /** Tick A stopped mid-refresh while another host's process took its lock over and went quiet. */
  async function stoppedWhileAnotherHostTookOver(meanwhile: () => void) {
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 500 });
    const a = startCli(w.args('tick', '--json'));
    await until(() => tokenRequests() === 1, 10_000, 'the refresh request');
    a.child.kill('SIGSTOP');
    writeFileSync(join(lockDir(), 'owner.json'), JSON.stringify({ host: 'another-host', pid: 1, start: null, token: 'theirs', at: Date.now() }));
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lockDir(), old, old);
    meanwhile();
    a.child.kill('SIGCONT');
    return a.done;
  }

  it('a holder whose lock was taken over re-takes it before it writes', async () => {
    const c = w.anthropic('a1', { expiresIn: MIN });
    const r = await stoppedWhileAnotherHostTookOver(() => undefined);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("a1: the account's lock was taken over while this refresh was in flight; taking it back before writing");
    expect(w.home.read('a1').credentials.refreshToken).toBe(c.account.refreshToken);
    expect(w.sim.state.refreshReuses).toBe(0);
  });

  it('a holder writes only over the token it consumed: a new login made meanwhile is kept, and so are our tokens', async () => {
    const c = w.anthropic('a1', { expiresIn: MIN });
    const relogin = w.sim.state.addOAuth('anthropic', 'a1-again@example.com', Date.now());
    const r = await stoppedWhileAnotherHostTookOver(() => {
      const doc = w.home.read('a1');
      w.home.writeAccount({ ...doc, credentials: { accessToken: relogin.accessToken, refreshToken: relogin.refreshToken, expiresAt: relogin.expiresAt } });
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no longer holds the refresh token this refresh used.*The new tokens were saved to .*recovery\/a1\..*\.conflict\.json/);
    expect(w.home.read('a1').credentials.refreshToken).toBe(relogin.refreshToken);
    const saved = readdirSync(join(w.home.dir, 'recovery'));
    expect(saved).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(w.home.dir, 'recovery', saved[0]!), 'utf8')).credentials.refreshToken).toBe(c.account.refreshToken);
    // a conflict copy blocks nothing
    expect((await w.tick()).doc.skipped).toEqual([]);
  });

  it('staleness: on this host only a dead owner; from another host only an untouched lock', async () => {
    const dir = join(w.home.dir, 'locks');
    mkdirSync(dir);
    w.home.writeAccount({ id: 'x', provider: 'grok', credentials: { sso: 'x'.repeat(20) } });
    const mine = await tryLock(dir, 'x');
    expect(mine).not.toBeNull();
    expect(await tryLock(dir, 'x')).toBeNull(); // held by a live process: this one
    const old = (Date.now() - 3_600_000) / 1000;
    utimesSync(join(dir, 'x.lock'), old, old);
    expect(await tryLock(dir, 'x')).toBeNull(); // untouched for an hour, but its owner is alive
    await mine!();
    const lockOf = (owner: object, ageMs: number) => {
      const l = join(dir, 'y.lock');
      mkdirSync(l, { recursive: true });
      writeFileSync(join(l, 'owner.json'), JSON.stringify({ token: 't', start: null, at: 0, ...owner }));
      const t = (Date.now() - ageMs) / 1000;
      utimesSync(l, t, t);
    };
    lockOf({ host: hostname(), pid: deadPid() }, 0);
    const taken = await tryLock(dir, 'y');
    expect(taken).not.toBeNull(); // its owner is gone: taken at once
    await taken!();
    lockOf({ host: 'another-host', pid: 1 }, 1000);
    expect(await tryLock(dir, 'y')).toBeNull(); // another host's lock, touched a second ago
    lockOf({ host: 'another-host', pid: 1 }, STALE_MS + 1000);
    const late = await tryLock(dir, 'y');
    expect(late).not.toBeNull();
    expect(await late!.held()).toBe(true);
    await late!();
  });
});
