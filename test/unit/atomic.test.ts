import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeDir, syncDir, tmpName, writeFileAtomic } from '../../src/store/atomic.js';
import { LEFTOVER } from '../../src/store/account-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'refresher-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atomic writes', () => {
  it('temp names are unique in a process and are what repair.ts recognises as leftovers', () => {
    const names = Array.from({ length: 1000 }, () => tmpName(join(dir, 'a.json'), 'tmp'));
    expect(new Set(names).size).toBe(1000);
    for (const n of names.slice(0, 20)) expect(LEFTOVER.exec(n.slice(dir.length + 1))?.[1]).toBe('a');
    expect(LEFTOVER.test(tmpName(join(dir, 'a.json'), 'probe').slice(dir.length + 1))).toBe(true);
  });

  it('many writes at once into one directory (sharing its fsyncs) all land whole, 0600, and leave no temp file', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => writeFileAtomic(join(dir, `f${i % 20}.json`), `${JSON.stringify({ i, pad: 'x'.repeat(i * 100) })}\n`)));
    const files = readdirSync(dir).filter((n) => n.startsWith('f'));
    expect(files.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}.json`).sort());
    for (const f of files) {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      expect(doc.i % 20).toBe(Number(f.slice(1, -5)));
      expect(doc.pad.length).toBe(doc.i * 100);
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
  });

  it('a directory that cannot be synced fails every write waiting on it, and the next round starts afresh', async () => {
    const gone = join(dir, 'gone');
    const waits = [syncDir(gone), syncDir(gone), syncDir(gone)];
    for (const w of waits) await expect(w).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(syncDir(dir)).resolves.toBeUndefined();
    await expect(writeFileAtomic(join(gone, 'x.json'), '{}')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a probe leaves nothing behind, and a directory it cannot write in is named', async () => {
    await probeDir(join(dir, 'p.json'), 10_000);
    expect(readdirSync(dir).filter((n) => n.includes('.probe'))).toEqual([]);
    await expect(probeDir(join(dir, 'nope', 'p.json'), 10)).rejects.toThrow(`cannot write in ${join(dir, 'nope')} (ENOENT)`);
  });
});
