import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { World } from '../support/fixtures.js';
import { Receiver } from '../support/receiver.js';

/**
 * A tick that reads only the accounts the plan cache cannot vouch for (due, changed or new) must say and do what a
 * tick that reads every file says and does. The same pool is built in two worlds; one ticks with its plan cache, the
 * other with the cache removed, and their answers are compared.
 */
describe('tick: only the accounts the plan cache cannot vouch for are read', () => {
  let a: World;
  let b: World;
  beforeEach(async () => {
    [a, b] = await Promise.all([new World().start(), new World().start()]);
  });
  afterEach(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  /** a pool with something of everything the cache remembers: skipped (by priority), needing a person, a mode warning */
  const pool = (w: World) => {
    w.grok('g-quiet-1');
    w.grok('g-quiet-2');
    w.anthropic('a-quiet');
    w.grok('p-late', { fields: { paused: true, priority: 9 } });
    w.grok('p-early', { fields: { paused: true, priority: 0 } });
    w.anthropic('x-expired', { fields: { status: 'expired' } });
    w.grok('m-open');
    chmodSync(w.home.file('m-open'), 0o644);
    w.grok('d-edit');
    w.grok('e-pause');
    w.anthropic('f-expire');
  };
  /** edits in place (no rename) and a new file: four accounts to read, the others vouched for */
  const change = (w: World) => {
    const inPlace = (id: string, patch: Record<string, unknown>) => writeFileSync(w.home.file(id), JSON.stringify({ ...w.home.read(id), ...patch }, null, 2));
    inPlace('d-edit', { quota: null });
    inPlace('e-pause', { paused: true, priority: 3 });
    inPlace('f-expire', { status: 'expired' });
    w.grok('n-new', { fields: { quota: null, priority: 1 } });
  };

  const debug = { env: { LOG_LEVEL: 'debug' } };
  /** what must agree: the document (home paths and times left out), the exit code and the summary line */
  const answer = async (w: World, ...extra: string[]) => {
    const r = await w.run(['tick', '--json', ...extra], debug);
    const doc = JSON.parse(r.stdout);
    const home = (s: string) => s.split(w.home.dir).join('<home>');
    return {
      code: r.code,
      // in the order they finished (concurrent): sorted
      actions: doc.actions.map((x: any) => ({ account: x.account, action: x.action, ok: x.ok })).sort((x: any, y: any) => (x.account < y.account ? -1 : 1)),
      skipped: doc.skipped,
      attention: doc.attention,
      errors: JSON.parse(home(JSON.stringify(doc.errors))),
      summary: /\[tick\] \d+ accounts? refreshed.*/.exec(r.stderr)?.[0],
      warnings: home(r.stderr)
        .split('\n')
        .filter((l) => l.includes('is mode'))
        .map((l) => l.replace(/^\S+Z /, '')),
      partial: /the plan cache vouches for (\d+) accounts: reading (\d+)/.exec(r.stderr)?.slice(1).map(Number) ?? null,
    };
  };
  const plan = (w: World) => {
    const p = JSON.parse(readFileSync(join(w.home.dir, 'cache', 'plan.json'), 'utf8'));
    return { files: p.files.split('\n').sort(), skipped: p.skipped, skippedPriority: p.skippedPriority, attention: p.attention, attentionProvider: p.attentionProvider };
  };

  /** Whether the idle bundle alone answers a tick of `w` from the plan cache, reading no account (exit 0; 3: it left the tick to the full CLI). */
  const fastTick = join(dirname(BIN), '..', 'dist', 'fast-tick.cjs');
  const answeredFromCache = (w: World) =>
    spawnSync(process.execPath, ['-e', `process.exitCode = require(${JSON.stringify(fastTick)}).tryFastTick(process.argv.slice(1)) ? 0 : 3`, '--', ...w.args('tick')], { encoding: 'utf8' }).status === 0;

  /** A ticks with its plan cache, B with it removed: they must answer alike, A having read `reads` (vouched for, read). B's answer. */
  const alike = async (reads: [number, number]) => {
    rmSync(join(b.home.dir, 'cache', 'plan.json'));
    const [partial, full] = [await answer(a), await answer(b)];
    expect(partial.partial).toEqual(reads);
    expect(full.partial).toBeNull();
    expect({ ...partial, partial: null }).toEqual(full);
    return full;
  };

  it('reads the four, and says and does what a tick over every file says and does', async () => {
    for (const w of [a, b]) {
      pool(w);
      expect((await answer(w)).actions).toEqual([]); // a full tick: fills the plan cache
      change(w);
    }
    // a mode warning is said once per remind_every: forget that the first tick said it, so that both say it again
    for (const w of [a, b]) rmSync(join(w.home.dir, 'cache', 'warned.json'));
    const full = await alike([7, 4]);
    // what the four came to, and the others as the cache remembers them, in plan and id order
    expect(full.actions).toEqual([
      { account: 'd-edit', action: 'quota', ok: true },
      { account: 'n-new', action: 'quota', ok: true },
    ]);
    expect(full.skipped.map((s: any) => s.account)).toEqual(['f-expire', 'p-early', 'x-expired', 'e-pause', 'p-late']);
    expect(full.attention.map((x: any) => x.account)).toEqual(['f-expire', 'x-expired']);
    expect(full.warnings).toEqual([expect.stringContaining('<home>/accounts/m-open.json is mode 644')]);
    // both saved the plan as the files now are, the worked-on ones read again after their work
    expect(plan(a)).toEqual(plan(b));
    // so that the next tick of each is answered from the cache, alike
    const [next, nextFull] = [await answer(a), await answer(b)];
    expect(next.partial).toBeNull();
    expect(next).toEqual(nextFull);
    expect([answeredFromCache(a), answeredFromCache(b)]).toEqual([true, true]);
    expect(next.actions).toEqual([]);
    expect(next.summary).toBe('[tick] 0 accounts refreshed, 0 failed, 6 not due, 5 skipped');
  });

  it('an account read after a partial tick that needs no work is saved, and the one after that reads nothing', async () => {
    pool(a);
    await answer(a);
    // a quiet edit: the file changes, nothing becomes due
    writeFileSync(a.home.file('g-quiet-1'), JSON.stringify({ ...a.home.read('g-quiet-1'), label: 'edited' }, null, 2));
    const r = await answer(a);
    expect(r.partial).toEqual([9, 1]);
    expect(r.actions).toEqual([]);
    expect(answeredFromCache(a)).toBe(true);
    expect((await answer(a)).partial).toBeNull();
    expect((await a.run(['tick'], debug)).stderr).not.toContain('reading');
  });

  it('notifications: a read account that needs a person, and one fine again, told as a full tick tells them; a quiet one not again, unless what was told is forgotten', async () => {
    const rx = await new Receiver().start();
    try {
      for (const [w, path] of [[a, '/a'], [b, '/b']] as const) {
        w.home.writeConfig(w.sim.configYaml(`request_delay_ms: 0\nnotify:\n  - webhook: ${rx.url}${path}\n    format: json\n`));
        w.grok('g-quiet');
        w.anthropic('x-expired', { fields: { status: 'expired' } });
        w.anthropic('y-expired', { fields: { status: 'expired' } });
        w.anthropic('f-expire');
        await answer(w);
        w.anthropic('y-expired'); // logged in again
        writeFileSync(w.home.file('f-expire'), JSON.stringify({ ...w.home.read('f-expire'), status: 'expired' }, null, 2));
      }
      const told = (path: string) => rx.to(path).map((g) => JSON.parse(g.body)).map((m) => `${m.kind} ${m.account} ${m.provider}`);
      expect(told('/a')).toEqual(['needs-person x-expired anthropic', 'needs-person y-expired anthropic']);
      await alike([2, 2]);
      expect(told('/a')).toEqual(told('/b'));
      expect(told('/a').slice(2).sort()).toEqual(['needs-person f-expire anthropic', 'recovered y-expired anthropic']);
      // what has been told forgotten (state.json removed): a quiet account is told again, its provider from the cache
      for (const w of [a, b]) {
        rmSync(join(w.home.dir, 'notify', 'state.json'));
        writeFileSync(w.home.file('g-quiet'), JSON.stringify({ ...w.home.read('g-quiet'), label: 'edited' }, null, 2));
      }
      await alike([3, 1]);
      expect(told('/a')).toEqual(told('/b'));
      expect(told('/a').slice(4).sort()).toEqual(['needs-person f-expire anthropic', 'needs-person x-expired anthropic']);
    } finally {
      await rx.stop();
    }
  });

  it('a plan cache saved without the priorities and providers a partial tick merges is used only for an idle answer', async () => {
    for (const w of [a, b]) {
      pool(w);
      await answer(w);
      change(w);
    }
    const file = join(a.home.dir, 'cache', 'plan.json');
    const { skippedPriority: _, attentionProvider: __, ...older } = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify(older));
    rmSync(join(b.home.dir, 'cache', 'plan.json'));
    const [r, full] = [await answer(a), await answer(b)];
    expect(r.partial).toBeNull();
    expect(r).toEqual(full);
  });
});
