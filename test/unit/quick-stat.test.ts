import { lstatSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isRegularMode, modeIfUnchanged, quickStat, quickStatUsesBinding, resetQuickStat } from '../../src/store/quick-stat.js';

const dir = mkdtempSync(join(tmpdir(), 'refresher-quick-stat-'));
const file = join(dir, 'a.json');
writeFileSync(file, '{"x":1}');
symlinkSync(file, join(dir, 'link.json'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => resetQuickStat());

const expected = (p: string) => {
  const st = statSync(p, { throwIfNoEntry: false });
  return st && { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, mode: st.mode };
};
const paths = [file, dir, join(dir, 'link.json'), join(dir, 'missing.json'), join(dir, 'missing', 'x.json')];

describe('quickStat', () => {
  it('on the Node versions CI runs (20.18+, 22, 24), it uses the fs binding after checking it', () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(quickStatUsesBinding()).toBe((major === 20 && minor >= 18) || major === 22 || major === 24);
  });

  it.each([true, false])('answers exactly as statSync does (binding allowed: %s), to the last bit of mtimeMs', (allow) => {
    resetQuickStat(allow);
    if (!allow) expect(quickStatUsesBinding()).toBe(false);
    for (const p of paths) expect(quickStat(p), p).toEqual(expected(p));
    expect(isRegularMode(lstatSync(join(dir, 'link.json')).mode)).toBe(false);
    expect(isRegularMode(quickStat(join(dir, 'link.json'))!.mode)).toBe(true);
    expect(isRegularMode(quickStat(dir)!.mode)).toBe(false);
    // a file changed since is seen as changed
    const before = quickStat(file)!;
    writeFileSync(file, `${JSON.stringify({ x: 1, allow })}\n`);
    expect(quickStat(file)).toEqual(expected(file));
    expect(quickStat(file)!.size).not.toBe(before.size);
  });

  it('errors other than a missing file are thrown, as statSync throws them', () => {
    const through = join(file, 'x.json'); // a file used as a directory: ENOTDIR, which Node 22+ treats as missing
    let want: unknown;
    try {
      want = expected(through);
    } catch (e) {
      want = (e as NodeJS.ErrnoException).code;
    }
    let got: unknown;
    try {
      got = quickStat(through);
    } catch (e) {
      got = (e as NodeJS.ErrnoException).code;
    }
    expect(got).toEqual(want);
  });

  it.each([true, false])('modeIfUnchanged: the mode while the fingerprint holds, else -1 (binding allowed: %s)', (allow) => {
    resetQuickStat(allow);
    const st = statSync(file);
    const fp = [7, st.ino, st.size, st.mtimeMs, st.ctimeMs];
    expect(modeIfUnchanged(file, fp, 1)).toBe(st.mode);
    for (let i = 1; i <= 4; i++) expect(modeIfUnchanged(file, fp.map((v, j) => (j === i ? v + 1 : v)), 1)).toBe(-1);
    expect(modeIfUnchanged(join(dir, 'missing.json'), fp, 1)).toBe(-1);
    const link = join(dir, 'link.json');
    expect(modeIfUnchanged(link, fp, 1)).toBe(st.mode); // stat follows the link to the file
    expect(modeIfUnchanged(link, fp, 1, 'lstat')).toBe(-1); // lstat is the link itself
    const l = lstatSync(link);
    expect(modeIfUnchanged(link, [l.ino, l.size, l.mtimeMs, l.ctimeMs], 0, 'lstat')).toBe(l.mode);
  });
});
