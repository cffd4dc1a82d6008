import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// bin/code-cache.cjs, run as bin/refresher runs it: in a process of its own, whose exit writes the cache.
const LOADER = new URL('../../bin/code-cache.cjs', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'refresher-code-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function world() {
  const dir = join(root, `w${n++}`);
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const bundle = join(dir, 'dist', 'main.cjs');
  mkdirSync(join(dir, 'dist'));
  // what the real bundles do: require a sibling bundle and a builtin, use __filename
  writeFileSync(join(dir, 'dist', 'side.cjs'), 'exports.side = () => "side";\n');
  writeFileSync(bundle, 'const { join } = require("node:path");\nexports.run = async () => [require("./side.cjs").side(), join("a", "b"), require("./side.cjs") === require("./side.cjs"), __filename.endsWith("main.cjs")].join(" ");\n');
  const cacheDir = join(home, '.cache', 'refresher', 'code-cache');
  const run = (env: Record<string, string> = {}) => {
    const script = `const load = require(${JSON.stringify(LOADER)}).codeCacheLoader('tick');
      if (!load) { console.log(JSON.stringify({ none: true })); return; }
      load(${JSON.stringify(bundle)}).run().then((out) => console.log(JSON.stringify({ out, used: load.used })));`;
    const r = spawnSync(process.execPath, ['-e', `(() => {${script}})()`], { env: { PATH: process.env.PATH!, HOME: home, ...env }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as { none?: true; out?: string; used?: string[] };
  };
  return { dir, home, bundle, cacheDir, run, files: () => (existsSync(cacheDir) ? readdirSync(cacheDir).sort() : []) };
}

describe('code cache (bin/code-cache.cjs, for Node before 22.1)', () => {
  it('a first run writes the cache for each bundle it loaded, and a second runs from it, with the same results', () => {
    const w = world();
    const first = w.run();
    expect(first).toEqual({ out: 'side a/b true true', used: [] });
    expect(w.files()).toHaveLength(2);
    expect(w.files().every((f) => /^(main|side)\.cjs\.tick\.v\d+\.\d+\.\d+\.\w+\.\d+\.\d+\.\d+\.v8$/.test(f))).toBe(true);
    expect(statSync(w.cacheDir).mode & 0o777).toBe(0o700);
    for (const f of w.files()) expect(statSync(join(w.cacheDir, f)).mode & 0o777).toBe(0o600);
    expect(w.run()).toEqual({ out: 'side a/b true true', used: ['main.cjs', 'side.cjs'] });
  });

  it('a changed bundle gets a cache of its own, and the old one is removed', () => {
    const w = world();
    w.run();
    const before = w.files();
    writeFileSync(w.bundle, 'exports.run = async () => "changed";\n');
    expect(w.run()).toEqual({ out: 'changed', used: [] });
    const after = w.files();
    expect(after).toHaveLength(2);
    expect(after.filter((f) => f.startsWith('main.cjs.'))).not.toEqual(before.filter((f) => f.startsWith('main.cjs.')));
    expect(w.run()).toEqual({ out: 'changed', used: ['main.cjs'] });
  });

  it('a cache file that is garbage is refused by V8: the bundle runs compiled afresh, and the cache is written again', () => {
    const w = world();
    w.run();
    for (const f of w.files()) writeFileSync(join(w.cacheDir, f), Buffer.alloc(4096, 7), { mode: 0o600 });
    expect(w.run()).toEqual({ out: 'side a/b true true', used: [] });
    expect(w.run()).toEqual({ out: 'side a/b true true', used: ['main.cjs', 'side.cjs'] });
  });

  it('a cache directory or file that others can write, or a symlink, is never used', () => {
    const w = world();
    w.run();
    chmodSync(w.cacheDir, 0o777);
    expect(w.run()).toEqual({ none: true });
    chmodSync(w.cacheDir, 0o700);
    const main = w.files().find((f) => f.startsWith('main.cjs.'))!;
    chmodSync(join(w.cacheDir, main), 0o666);
    expect(w.run().used).toEqual(['side.cjs']);
    // the run above wrote main's cache again: a good one, moved out and linked back in, is not followed
    chmodSync(join(w.cacheDir, main), 0o600);
    const elsewhere = join(w.dir, 'elsewhere.v8');
    renameSync(join(w.cacheDir, main), elsewhere);
    symlinkSync(elsewhere, join(w.cacheDir, main));
    expect(w.run().used).toEqual(['side.cjs']);
  });

  it('XDG_CACHE_HOME is where the cache goes; NODE_DISABLE_COMPILE_CACHE or REFRESHER_NO_CODE_CACHE turns it off', () => {
    const w = world();
    const xdg = join(w.dir, 'xdg');
    w.run({ XDG_CACHE_HOME: xdg });
    expect(readdirSync(join(xdg, 'refresher', 'code-cache'))).toHaveLength(2);
    expect(w.files()).toEqual([]);
    expect(w.run({ NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual({ none: true });
    expect(w.run({ REFRESHER_NO_CODE_CACHE: '1' })).toEqual({ none: true });
    expect(w.files()).toEqual([]);
  });

  it('bin/refresher uses it where Node has no cache of its own (before 22.1), and Node\'s own elsewhere', () => {
    const w = world();
    const BIN = new URL('../../bin/refresher', import.meta.url).pathname;
    const help = () => spawnSync(process.execPath, [BIN, 'status', '--help'], { env: { PATH: process.env.PATH!, HOME: w.home, NODE_COMPILE_CACHE: join(w.dir, 'node-cache') }, encoding: 'utf8' });
    const first = help();
    expect(first.status).toBe(0);
    expect(first.stderr).toBe('');
    const nodeCaches = typeof (createRequire(import.meta.url)('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    if (nodeCaches) expect(w.files()).toEqual([]);
    else expect(w.files().map((f) => f.slice(0, f.indexOf(process.version) + process.version.length))).toEqual([`cli.cjs.status.${process.version}`]);
    expect(help()).toMatchObject({ status: 0, stdout: first.stdout, stderr: '' });
  });

  it('an error thrown while the bundle loads reaches the caller, as require would throw it', () => {
    const w = world();
    writeFileSync(w.bundle, 'throw new Error("broken bundle");\n');
    const script = `const load = require(${JSON.stringify(LOADER)}).codeCacheLoader('tick'); try { load(${JSON.stringify(w.bundle)}); } catch (e) { console.log(e.message); }`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH!, HOME: w.home }, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('broken bundle');
  });
});
