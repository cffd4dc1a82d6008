import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { HOUR, MIN, World } from '../support/fixtures.js';

/** The idle fast path must never hide work: any change to an account, the config or the time shows. */
describe('tick: idle cache', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const tick = async (...extra: string[]) => parseJson(await runCli(w.args('tick', '--json', ...extra)));

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
});
