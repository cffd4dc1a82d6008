import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { BIN, parseJson, runCli } from '../support/cli.js';
import { HOUR, MIN, World } from '../support/fixtures.js';
import { deadPid } from '../support/hostile.js';

// Items 2 and 3: a dry run never changes what later ticks do; --now is for looking, not for doing.
describe('hardening: the plan cache and --now', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());
  const cacheFile = () => join(w.home.dir, 'cache', 'plan.json');

  it('a dry run in 2030 writes no cache, and the next plain tick still works a due account', async () => {
    const c = w.anthropic('a1', { expiresIn: 10 * MIN });
    const dry = await w.run(['tick', '--dry-run', '--json', '--now', '2030-01-01T00:00:00Z']);
    expect(dry.code).toBe(0);
    expect(existsSync(cacheFile())).toBe(false);
    const r = await w.tick();
    expect(r.doc.actions).toMatchObject([{ account: 'a1', action: 'token', ok: true }]);
    expect(w.home.read('a1').credentials.refreshToken).toBe(c.account.refreshToken);
  });

  it('the cached answer and the full planner agree, at every time, for every kind of account', async () => {
    const now = Date.now();
    w.anthropic('token-later', { expiresIn: 2 * HOUR });
    w.anthropic('window-later', { fields: { rateLimitReset: now + 3 * HOUR } });
    w.grok('quota-later', { fields: { lastUsedAt: now - 10 * MIN, quota: { checkedAt: now - 20 * MIN } } });
    w.codex('cooling', { expiresIn: 5 * HOUR, fields: { failedCount: 4, lastFailure: { at: now, reason: 'wham/usage: HTTP 500' } } });
    w.anthropic('expired', { fields: { status: 'expired' } });
    w.grok('paused', { fields: { paused: true, quota: null } });
    // a plain tick with nothing due fills the cache
    expect((await w.tick()).doc.actions).toEqual([]);
    expect(existsSync(cacheFile())).toBe(true);
    for (const ahead of [0, 5 * MIN, 11 * MIN, 51 * MIN, 61 * MIN, 106 * MIN, 3 * HOUR + MIN, 2 * 24 * HOUR]) {
      const at = new Date(now + ahead).toISOString();
      const cached = parseJson(await w.run(['tick', '--dry-run', '--json', '--now', at]));
      expect(existsSync(cacheFile())).toBe(true);
      rmSync(join(w.home.dir, 'cache'), { recursive: true });
      const full = parseJson(await w.run(['tick', '--dry-run', '--json', '--now', at]));
      expect(cached.actions.map((a: any) => `${a.account}:${a.action}`), `at +${ahead / MIN} min`).toEqual(full.actions.map((a: any) => `${a.account}:${a.action}`));
      expect(cached.attention).toEqual(full.attention);
      expect((await w.tick()).doc.actions).toEqual([]); // refill the cache for the next round
    }
  });

  it('a leftover temp file, or tokens waiting in recovery/, make the cache decline', async () => {
    w.anthropic('a1');
    await w.tick();
    const name = `a1.json.${deadPid()}.deadbeef.tmp`;
    writeFileSync(join(w.home.accountsDir, name), '{}');
    const r = await w.tick();
    expect(r.doc.repaired).toMatchObject([{ account: 'a1', message: expect.stringContaining(`removed ${name}`) }]);
    expect((await w.tick()).doc.repaired).toEqual([]);
    mkdirSync(join(w.home.dir, 'recovery'));
    writeFileSync(join(w.home.dir, 'recovery', 'a1.2026-11-30T10-00-00-000Z.json'), JSON.stringify({ id: 'a1', savedAt: 1, kind: 'unwritable', credentials: {} }));
    const again = await w.tick();
    expect(again.doc.skipped).toContainEqual({ account: 'a1', reason: expect.stringContaining('its newest tokens wait in') });
  });

  // The fast path stats the files by name from inside accounts/ (see inDir): the working directory must be
  // given back before anything else resolves a relative path, and a working directory that is gone is no obstacle.
  it('a relative --home, and a working directory that no longer exists', async () => {
    w.grok('g');
    w.anthropic('a1', { expiresIn: 2 * HOUR });
    expect((await w.tick()).doc.actions).toEqual([]);
    const relative = ['--home', basename(w.home.dir), 'tick', '--json'];
    const idle = await runCli(relative, { cwd: dirname(w.home.dir) });
    expect(idle.code, idle.stderr).toBe(0);
    expect(parseJson(idle).actions).toEqual([]);
    // now one is due: the fast path declines in the middle of its stats, and the full tick resolves --home again
    w.anthropic('a1', { expiresIn: MIN });
    const due = await runCli(relative, { cwd: dirname(w.home.dir) });
    expect(due.code, due.stderr).toBe(0);
    expect(parseJson(due).actions).toMatchObject([{ account: 'a1', action: 'token', ok: true }]);
    // idle again, started in a directory that is removed before node starts
    const gone = mkdtempSync(join(tmpdir(), 'refresher-cwd-'));
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const sh = spawnSync('sh', ['-c', `cd ${q(gone)} && rmdir ${q(gone)} && exec ${q(process.execPath)} ${q(BIN)} --home ${q(w.home.dir)} tick --json`], { encoding: 'utf8' });
    expect(sh.status, sh.stderr).toBe(0);
    expect(JSON.parse(sh.stdout).actions).toEqual([]);
  });

  it('--now without --dry-run is a usage error; nothing is sent or written', async () => {
    w.anthropic('a1', { expiresIn: MIN, fields: { quota: null } });
    const before = w.home.bytes('a1');
    for (const args of [['tick', '--now', '2030-01-01T00:00:00Z'], ['tick', '--json', '--now', '2030-01-01T00:00:00Z']]) {
      const r = await w.run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--now is only for looking: use it with --dry-run');
    }
    expect(w.home.bytes('a1').equals(before)).toBe(true);
    expect(w.sim.requests).toHaveLength(0);
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(0);
    expect((await w.run(['status', '--now', '2030-01-01T00:00:00Z'])).code).toBe(0);
  });
});
