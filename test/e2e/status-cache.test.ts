import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { expectNoCanary } from '../support/canary.js';
import { expectNoSecrets, HOUR, World } from '../support/fixtures.js';

/**
 * status remembers each account's row while its file is unchanged. Whatever happened in between, an answer made
 * with the cache must be the answer made without it (the cache removed), byte for byte, with the same exit code.
 */
describe('status: the row cache never disagrees with a full read', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const cacheFile = () => join(w.home.dir, 'cache', 'status-rows');
  const status = async (...extra: string[]) => {
    const r = await runCli(w.args('status', ...extra), { env: { COLUMNS: '400' } });
    return { code: r.code, out: r.stdout, err: r.stderr };
  };
  /**
   * The same question asked with the cache and without it (removed), at one pinned time: a run without --now
   * first, which brings the cache up to date, as a monitor's next run would find it.
   */
  async function agrees(...extra: string[]) {
    if (!extra.includes('--now')) {
      await status(...extra);
      extra = [...extra, '--now', at(Date.now())];
    }
    const pinned = Date.parse(extra[extra.indexOf('--now') + 1]!);
    expect(existsSync(cacheFile())).toBe(true);
    const cached = await status(...extra);
    const saved = readFileSync(cacheFile());
    rmSync(cacheFile());
    const full = await status(...extra);
    writeFileSync(cacheFile(), saved);
    // --now starts the clock, which still moves: an action due now is due at that run's own millisecond
    const settled = (r: typeof full) => (extra.includes('--json') ? { ...r, out: r.out.replace(/"at": (\d+)/g, (m, n) => (Number(n) >= pinned && Number(n) < pinned + 10_000 ? '"at": "now"' : m)) } : r);
    expect(settled(cached)).toEqual(settled(full));
    return full;
  }
  const at = (ms: number) => new Date(ms).toISOString();

  it('after in-place edits, new and removed files, a broken file, a config change, a lock holder and recovery', async () => {
    w.anthropic('a');
    w.codex('c');
    w.grok('g');
    const now = Date.now();
    const first = await status('--json');
    expect(first.code).toBe(0);
    expect(JSON.parse((await agrees('--json')).out)).toEqual(JSON.parse(first.out));
    await agrees('--all');

    // an in-place edit (no rename), as `echo > file` would
    writeFileSync(w.home.file('g'), JSON.stringify({ ...w.home.read('g'), label: 'edited in place', paused: true }));
    const edited = await agrees('--json');
    expect(JSON.parse(edited.out).find((r: any) => r.id === 'g')).toMatchObject({ label: 'edited in place', skip: 'paused' });

    // time passing: the token falls due, then the window resets (asked with --now, which writes no cache)
    await agrees('--json', '--now', at(now + 6 * HOUR));
    await agrees('--now', at(now + 7 * HOUR));

    w.grok('g2');
    rmSync(w.home.file('c'));
    w.home.writeRaw('broken', '{"version":1,');
    const changed = await agrees('--json');
    expect(changed.code).toBe(1);
    expect(JSON.parse(changed.out).map((r: any) => r.id)).toEqual(['a', 'g', 'g2', 'broken']);

    rmSync(w.home.file('broken'));
    await status('--json');
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nrefresh_before_expiry: 7h\n'));
    const config = await agrees('--json');
    expect(JSON.parse(config.out).find((r: any) => r.id === 'a').next).toMatchObject({ action: 'token' });

    // a live process holds g2's lock (a row the cache holds), and has held it far longer than a tick may take
    mkdirSync(join(w.home.dir, 'locks', 'g2.lock'), { recursive: true });
    writeFileSync(join(w.home.dir, 'locks', 'g2.lock', 'owner.json'), JSON.stringify({ host: hostname(), pid: process.pid, start: null, token: 't', at: 0 }));
    const locked = await agrees('--json');
    expect(locked.code).toBe(1);
    expect(JSON.parse(locked.out).find((r: any) => r.id === 'g2').attention).toMatchObject({ kind: 'locked' });
    rmSync(join(w.home.dir, 'locks', 'g2.lock'), { recursive: true });
    expect((await agrees('--json')).code).toBe(0);

    // tokens waiting in recovery/
    mkdirSync(join(w.home.dir, 'recovery'), { recursive: true });
    writeFileSync(join(w.home.dir, 'recovery', 'g2.2026-12-02T10-00-00-000Z.json'), '{}');
    const recovery = await agrees('--json');
    expect(JSON.parse(recovery.out).find((r: any) => r.id === 'g2')).toMatchObject({ skip: expect.stringContaining('recovery'), attention: { kind: 'recovery' } });
    await agrees();
  });

  it('a pool printed in many pieces: rows read from the cache in runs, between rows made anew, labels not ASCII', async () => {
    // ~200 rows of ~700 bytes: several 64 KB runs; priorities, so print order is not id order
    const ids = Array.from({ length: 200 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    // (a last failure not in ASCII is in the table's seed too)
    ids.forEach((id, i) => w.grok(id, { fields: { priority: i % 3, label: i % 7 ? `pool ${i}` : `Büro ☃ ${i} — “ß”`, lastFailure: i % 5 ? null : { at: Date.now() - 60_000, reason: `Zeitüberschreitung ☃ ${i}` } } }));
    const first = JSON.parse((await agrees('--json')).out) as { id: string; label: string; priority: number }[];
    const pinnedAt = at(Date.now());
    expect(first.map((r) => r.id)).toEqual([...ids].sort((a, b) => (Number(a.slice(1)) % 3) - (Number(b.slice(1)) % 3) || (a < b ? -1 : 1)));
    expect(first.find((r) => r.id === 'p007')!.label).toBe('Büro ☃ 7 — “ß”');
    // every row taken from the cache: a run that had to read any account would save it again
    const unchanged = async (...extra: string[]) => {
      const before = readFileSync(cacheFile());
      await status(...(extra.length ? extra : ['--json']));
      expect(readFileSync(cacheFile()).equals(before), `a ${extra.join(' ') || '--json'} run with every row remembered writes nothing`).toBe(true);
    };
    await unchanged();
    // written to a file (`> status.json`), not a pipe: the same bytes, through the descriptor itself
    for (const extra of [['--json'], ['--all']]) {
      const out = join(w.home.dir, 'out.txt');
      const fd = openSync(out, 'w', 0o600);
      const r = spawnSync(process.execPath, [BIN, ...w.args('status', ...extra, '--now', pinnedAt)], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, NO_COLOR: '1', COLUMNS: '400' } });
      closeSync(fd);
      const piped = await status(...extra, '--now', pinnedAt);
      expect({ code: r.status, err: String(r.stderr) }).toEqual({ code: piped.code, err: piped.err });
      const written = readFileSync(out, 'utf8');
      expectNoCanary(written, 'status written to a file');
      expect(written).toBe(piped.out);
    }
    // rows made anew between remembered ones, and remembered rows whose neighbours in the cache moved away
    for (const id of ['p000', 'p050', 'p101', 'p199']) writeFileSync(w.home.file(id), JSON.stringify({ ...w.home.read(id), priority: 5, label: `moved ${id} ☃` }));
    // pinned, so that the cache as it was (the old order) is what the compared run reads
    const moved = JSON.parse((await agrees('--json', '--now', at(Date.now()))).out) as { id: string }[];
    expect(moved.slice(-4).map((r) => r.id)).toEqual(['p000', 'p050', 'p101', 'p199']);
    expect(moved).toHaveLength(200);
    // the cache saved anew, in the new order, read again whole
    expect(JSON.parse((await agrees('--json')).out).map((r: { id: string }) => r.id)).toEqual(moved.map((r) => r.id));
    await unchanged();
    await agrees('--all');
    // a table run that saves carries the texts of the rows it did not read, as bytes: the next --json run reads them all
    writeFileSync(w.home.file('p002'), JSON.stringify({ ...w.home.read('p002'), label: 'table run ☃' }));
    await status('--all');
    await unchanged('--all');
    await unchanged();
    expect(JSON.parse((await agrees('--json')).out).find((r: { id: string }) => r.id === 'p002').label).toBe('table run ☃');
  });

  it('a setup token that starts needing a person, and priorities that order the rows', async () => {
    const now = Date.now();
    w.anthropic('st', { expiresIn: 20 * 24 * HOUR, fields: { setupToken: true, priority: 2 } });
    w.grok('g', { fields: { priority: 1 } });
    await status('--json');
    const soon = await agrees('--json', '--now', at(now + 7 * 24 * HOUR));
    expect(soon.code).toBe(1);
    expect(JSON.parse(soon.out).map((r: any) => [r.id, r.attention?.kind ?? null])).toEqual([
      ['g', null],
      ['st', 'setup-token'],
    ]);
    await agrees('--now', at(now + 7 * 24 * HOUR));
  });

  it("holds no secret: an account's own token echoed into its last failure is scrubbed on screen and in the cache", async () => {
    const c = w.anthropic('a');
    w.anthropic('b', { fields: { failedCount: 1, lastFailure: { at: Date.now(), reason: `upstream said: bad token ${c.refreshToken.slice(3, 30)}` } } });
    const b = w.home.read('b');
    writeFileSync(w.home.file('b'), JSON.stringify({ ...b, lastFailure: { at: Date.now(), reason: `upstream said: bad token ${b.credentials.refreshToken.slice(3, 30)}` } }));
    const cold = await status('--json');
    const warm = await agrees('--json');
    expect(warm.out).toBe(cold.out); // nothing is due: the rows do not depend on the time
    expect(JSON.parse(warm.out).find((r: any) => r.id === 'b').lastFailure.reason).toBe('upstream said: bad token ***');
    expectNoSecrets(readFileSync(cacheFile(), 'utf8'), w.secrets);
    expectNoSecrets(warm.out + (await status()).out, w.secrets);
  });

  it('is not written by a pretend time, and a damaged cache only costs time', async () => {
    w.grok('g');
    w.codex('c');
    await status('--json', '--now', at(Date.now()));
    expect(existsSync(cacheFile())).toBe(false);
    // the table and --json each read their own half of the file (the seeds, the texts): damage to either
    for (const format of [['--json'], ['--all']]) {
      const full = await status(...format);
      // as bytes (latin1 keeps each as it is): the numbers' float64s are not UTF-8
      const good = readFileSync(cacheFile(), 'latin1');
      const cut = good.indexOf('\n') + 40;
      const damaged = ['', 'not json\n', '{"key":"x"}\n', '9 9 9\n{}', good.slice(0, cut), good.slice(0, -1), good.slice(0, good.indexOf('"id": "g"') + 3)];
      damaged.push(good.replace('"id": "g"', '"id": "x"'), good.replace('["g",', '["x",'), good.replace('["g",', '["g" ,'), good.replace('"provider": "grok"', '"provider": "grok", "x": 1'), good.replace('["g","grok"', '["g","grok","x"'));
      // one entry longer, the file no longer for it: only each entry's own length shows it
      const longer = good.replace('"provider": "codex"', '"provider":  "codex"');
      const last = longer.lastIndexOf('"direct"'); // in the last seed
      damaged.push(`${longer.slice(0, last)}"direc"${longer.slice(last + 8)}`);
      // a byte changed, each entry still its length and still JSON that starts with its id: only the CRC shows it
      damaged.push(good.replace('"provider": "grok"', '"provider": "grol"'), good.replace('["g","grok"', '["g","grol"'));
      // the numbers: the first row's priority (the sixth float64) made 1, which would print it last
      const [lengths] = good.split('\n', 1);
      const at = lengths!.length + 1 + Number(lengths!.split(' ')[0]) + 5 * 8;
      const one = Buffer.alloc(8);
      one.writeDoubleLE(1);
      damaged.push(good.slice(0, at) + one.toString('latin1') + good.slice(at + 8));
      for (const junk of damaged) {
        writeFileSync(cacheFile(), junk, 'latin1');
        expect(await status(...format), `${format}: ${JSON.stringify(junk.slice(-60))}`).toEqual(full);
      }
    }
  });

  it('a run that reads one half and saves keeps the other half of the rows it did not read', async () => {
    w.grok('g');
    w.codex('c');
    await status();
    const table = await status();
    const json = await status('--json');
    // a new account: the table run (seeds read) saves, and must carry over the json texts of g and c
    w.grok('h');
    await status();
    const before = readFileSync(cacheFile());
    const again = await status('--json');
    expect(readFileSync(cacheFile()).equals(before), 'a --json run with every row remembered writes nothing').toBe(true);
    rmSync(cacheFile());
    expect(again).toEqual(await status('--json'));
    expect(JSON.parse(again.out).map((r: { id: string }) => r.id).sort()).toEqual(['c', 'g', 'h']);
    expect(table.out).toContain('g ');
    expect(json.code).toBe(0);
  });

  // status may skip listing accounts/ while the directory is as it was when a listing of it was exactly the cache's rows
  it('with accounts/ remembered, a new, removed, broken or replaced file is still seen', async () => {
    const stampFile = join(w.home.dir, 'cache', 'status-dir.json');
    const remember = async () => {
      await status('--json');
      const old = new Date(Date.now() - 10 * 60_000);
      utimesSync(w.home.accountsDir, old, old);
      await status('--json');
      expect(existsSync(stampFile)).toBe(true);
    };
    w.anthropic('a');
    w.grok('g');
    await remember();
    await agrees('--json');
    // each change is asked about at once (the first run after it is the one that could trust the stamp), then
    // compared with a full read
    const ids = async () => JSON.parse((await status('--json')).out).map((r: { id: string }) => r.id);
    w.codex('c');
    expect(await ids()).toEqual(['a', 'c', 'g']);
    await agrees('--json');
    await remember();
    rmSync(w.home.file('g'));
    expect(await ids()).toEqual(['a', 'c']);
    await agrees('--json');
    await remember();
    writeFileSync(join(w.home.accountsDir, 'broken.json'), '{ not json', { mode: 0o600 });
    expect((await status()).out).toContain('broken  ?');
    expect((await agrees()).out).toContain('broken');
    rmSync(join(w.home.accountsDir, 'broken.json'));
    await remember();
    // a rename over a file (what every write of ours is), and a file renamed in behind an mtime set back
    const before = statSync(w.home.accountsDir);
    writeFileSync(join(w.home.accountsDir, 'x.tmp'), JSON.stringify({ ...w.home.read('a'), label: 'renamed over' }), { mode: 0o600 });
    renameSync(join(w.home.accountsDir, 'x.tmp'), w.home.file('a'));
    writeFileSync(join(w.home.accountsDir, 'y.tmp'), JSON.stringify({ ...w.home.read('c'), id: 'n' }), { mode: 0o600 });
    renameSync(join(w.home.accountsDir, 'y.tmp'), w.home.file('n'));
    utimesSync(w.home.accountsDir, before.atime, before.mtime);
    expect(statSync(w.home.accountsDir).mtimeMs).toBe(before.mtimeMs);
    expect(JSON.parse((await status('--json')).out).map((r: { id: string }) => r.id)).toEqual(['a', 'c', 'n']);
    const rows = JSON.parse((await agrees('--json')).out);
    expect(rows.map((r: { id: string }) => r.id)).toEqual(['a', 'c', 'n']);
    expect(rows.find((r: { id: string }) => r.id === 'a')).toMatchObject({ label: 'renamed over' });
  });
});
