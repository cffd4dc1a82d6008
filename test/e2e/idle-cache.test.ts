import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, parseJson, runCli } from '../support/cli.js';
import { HOUR, MIN, World } from '../support/fixtures.js';
import { deadPid } from '../support/hostile.js';

/** The idle fast path must never hide work: any change to an account, the config or the time shows. */
describe('tick: idle cache', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const tick = async (...extra: string[]) => parseJson(await runCli(w.args('tick', '--json', ...extra)));
  /** The idle bundle alone (a dry run): exit 0 when it answered from the cache, 3 when it left the tick to the full CLI. */
  const fastTick = join(dirname(BIN), '..', 'dist', 'fast-tick.cjs');
  const idle = (...extra: string[]) =>
    spawnSync(process.execPath, ['-e', `process.exitCode = require(${JSON.stringify(fastTick)}).tryFastTick(process.argv.slice(1)) ? 0 : 3`, '--', ...w.args('tick', '--dry-run', ...extra)], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });

  it('an in-place edit of an account file is seen by the next tick', async () => {
    w.grok('g', { fields: { paused: true, quota: null } });
    w.anthropic('a');
    expect((await tick()).skipped).toEqual([{ account: 'g', reason: 'paused' }]);
    expect(existsSync(join(w.home.dir, 'cache', 'plan.json'))).toBe(true);
    expect((await tick()).skipped).toEqual([{ account: 'g', reason: 'paused' }]); // from the cache
    // unpause by rewriting the file in place (no rename), as `echo > file` would
    const doc = w.home.read('g');
    writeFileSync(w.home.file('g'), JSON.stringify({ ...doc, paused: false }));
    const r = await tick();
    expect(r.actions).toMatchObject([{ account: 'g', action: 'quota', ok: true }]);
  });

  it('a new account file is seen', async () => {
    w.anthropic('a');
    await tick();
    w.grok('g', { fields: { quota: null } });
    expect((await tick()).actions).toMatchObject([{ account: 'g', action: 'quota' }]);
  });

  it('a config change is seen', async () => {
    w.anthropic('a', { expiresIn: 30 * MIN });
    expect((await tick()).actions).toEqual([]);
    expect((await tick()).actions).toEqual([]);
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nrefresh_before_expiry: 1h\n'));
    expect((await tick()).actions).toMatchObject([{ account: 'a', action: 'token', ok: true }]);
  });

  it('time passing is seen', async () => {
    w.anthropic('a', { expiresIn: 2 * HOUR });
    expect((await tick('--dry-run')).actions).toEqual([]);
    const later = Date.now() + 2 * HOUR;
    expect((await tick('--dry-run', '--now', String(later))).actions).toMatchObject([{ account: 'a', action: 'token' }]);
  });

  it('an account file others can read is named by the idle answer itself, listed or not', async () => {
    w.anthropic('a');
    w.anthropic('b');
    chmodSync(w.home.file('b'), 0o644);
    expect((await tick()).actions).toEqual([]); // fills the cache
    // the idle bundle alone, so that a warning cannot come from the full CLI
    const want = `${w.home.file('b')} is mode 644; others can read it. Run: chmod 600 ${w.home.file('b')}`;
    for (const aged of [false, true]) {
      if (aged) {
        // a directory still for a while is remembered by a plain tick, and the next run does not list it
        const old = new Date(Date.now() - 10 * MIN);
        utimesSync(w.home.accountsDir, old, old);
        expect((await tick()).actions).toEqual([]);
        expect(existsSync(join(w.home.dir, 'cache', 'plan-dir.json'))).toBe(true);
      }
      const r = idle();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(want);
      expect(r.stderr).not.toContain(`${w.home.file('a')} is mode`);
    }
  });

  /**
   * An idle tick may skip listing accounts/ while the directory's stamp is the one it had when its listing was
   * exactly the plan's files. Each change below must still be seen, once the stamp is remembered.
   */
  describe('the remembered accounts directory', () => {
    const stampFile = () => join(w.home.dir, 'cache', 'plan-dir.json');
    const planBin = () => JSON.parse(readFileSync(join(w.home.dir, 'cache', 'plan.json'), 'utf8')).bin;
    /**
     * A tick that worked an account saves no plan: the next one does. Then the directory is aged (one changed
     * moments ago is never remembered), and an idle tick remembers it.
     */
    const remember = async () => {
      expect((await tick()).actions).toEqual([]);
      const old = new Date(Date.now() - 10 * MIN);
      utimesSync(w.home.accountsDir, old, old);
      expect((await tick()).actions).toEqual([]);
      expect(JSON.parse(readFileSync(stampFile(), 'utf8')).owner).toBe(planBin());
      expect((await tick()).actions).toEqual([]); // answered with the stamp
    };

    beforeEach(async () => {
      w.grok('g', { fields: { paused: true, quota: null } });
      w.anthropic('a');
      expect((await tick()).skipped).toEqual([{ account: 'g', reason: 'paused' }]);
    });

    it('under --pending-deprecation an idle tick and status still print nothing (the fs and zlib bindings are asked quietly)', async () => {
      const env = { NODE_OPTIONS: '--pending-deprecation --throw-deprecation' };
      await remember();
      const r = await runCli(w.args('tick'), { env });
      expect({ code: r.code, out: r.stdout, err: r.stderr }).toEqual({ code: 0, out: '', err: '' });
      // the first saves the status cache, the others read it (each checks its CRCs)
      for (const args of [['--json'], ['--json'], []]) {
        const s = await runCli(w.args('status', ...args), { env });
        expect(s.stderr).toBe('');
        expect(s.code).toBe(0);
      }
    });

    it('a directory changed moments ago is not remembered; a dry run remembers nothing', async () => {
      expect((await tick()).actions).toEqual([]);
      expect(existsSync(stampFile())).toBe(false);
      const old = new Date(Date.now() - 10 * MIN);
      utimesSync(w.home.accountsDir, old, old);
      await tick('--dry-run');
      expect(existsSync(stampFile())).toBe(false);
    });

    it('a new file, a removed file, an edit in place and a leftover are each seen', async () => {
      await remember();
      w.grok('g2', { fields: { quota: null } });
      expect((await tick()).actions).toMatchObject([{ account: 'g2', action: 'quota', ok: true }]);

      await remember();
      rmSync(w.home.file('g'));
      expect((await tick()).skipped).toEqual([]);

      await remember();
      writeFileSync(w.home.file('a'), JSON.stringify({ ...w.home.read('a'), paused: true }));
      expect((await tick()).skipped).toEqual([{ account: 'a', reason: 'paused' }]);

      await remember();
      const name = `a.json.${deadPid()}.deadbeef.tmp`;
      writeFileSync(join(w.home.accountsDir, name), '{}');
      expect((await tick()).repaired).toMatchObject([{ account: 'a', message: expect.stringContaining(`removed ${name}`) }]);
    });

    it('a plan whose names and numbers do not match one for one is not trusted, listed or not', async () => {
      await remember();
      const planJson = join(w.home.dir, 'cache', 'plan.json');
      const planBinFile = join(w.home.dir, 'cache', 'plan.bin');
      const json = readFileSync(planJson, 'utf8');
      const bin = readFileSync(planBinFile);
      const plan = JSON.parse(json);
      expect(plan.files.split('\n').sort()).toEqual(['a.json', 'g.json']);
      const damaged: [string, () => void][] = [
        ['a name too few', () => writeFileSync(planJson, JSON.stringify({ ...plan, files: plan.files.split('\n')[0] }))],
        ['a name too many', () => writeFileSync(planJson, JSON.stringify({ ...plan, files: `${plan.files}\nx.json` }))],
        ['no names', () => writeFileSync(planJson, JSON.stringify({ ...plan, files: '' }))],
        ['numbers cut short', () => writeFileSync(planBinFile, bin.subarray(0, bin.length - 8))],
        ['numbers for one more file', () => writeFileSync(planBinFile, Buffer.concat([bin, bin.subarray(8, 48)]))],
      ];
      for (const listed of [false, true]) {
        if (listed) rmSync(stampFile());
        for (const [what, damage] of damaged) {
          damage();
          expect({ what, listed, status: idle().status }).toEqual({ what, listed, status: 3 });
          writeFileSync(planJson, json);
          writeFileSync(planBinFile, bin);
          expect({ what, listed, status: idle().status }).toEqual({ what, listed, status: 0 });
        }
      }
    });

    it('a file added behind the directory\'s old mtime (set back with utimes) is seen by its ctime', async () => {
      await remember();
      const before = statSync(w.home.accountsDir);
      w.grok('g3', { fields: { quota: null } });
      utimesSync(w.home.accountsDir, before.atime, before.mtime);
      expect(statSync(w.home.accountsDir).mtimeMs).toBe(before.mtimeMs);
      expect((await tick()).actions).toMatchObject([{ account: 'g3', action: 'quota', ok: true }]);
    });
  });
});
