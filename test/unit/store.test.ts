import { chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountStore, applyPatch } from '../../src/store/store.js';
import { TempHome } from '../support/home.js';

const good = (id: string, extra: Record<string, unknown> = {}) => ({
  version: 1,
  id,
  provider: 'anthropic',
  credentials: { accessToken: 'sk-ant-oat01-aaaaaaaaaaaa', refreshToken: 'sk-ant-ort01-bbbbbbbbbbbb', expiresAt: 1 },
  ...extra,
});

describe('AccountStore', () => {
  let home: TempHome;
  let store: AccountStore;
  beforeEach(() => {
    home = new TempHome();
    store = new AccountStore(home.dir);
  });
  afterEach(() => home.cleanup());

  const badFiles: [string, string | Buffer, RegExp][] = [
    ['invalid JSON', '{"id": "x",', /not valid JSON/],
    ['empty', '', /empty/],
    ['too large', Buffer.alloc(1024 * 1024 + 1, 0x20), /over the 1 MiB limit/],
    ['wrong type', JSON.stringify(good('x', { failedCount: 'two' })), /failedCount: expected a number/],
    ['unknown provider', JSON.stringify(good('x', { provider: 'gemini' })), /provider: unknown provider "gemini"/],
    ['id differs from file name', JSON.stringify(good('y')), /id: "y" differs from the file name "x.json"/],
    ['credentials wrong shape', JSON.stringify(good('x', { credentials: 'abc' })), /credentials: expected an object/],
    ['bad proxy', JSON.stringify(good('x', { proxy: 'gopher://x' })), /proxy: unsupported proxy scheme/],
  ];
  for (const [name, content, message] of badFiles) {
    it(`a bad file (${name}) is one clear line, and is not touched`, async () => {
      home.writeRaw('x', content);
      home.writeAccount(good('ok'));
      const before = home.bytes('x');
      const r = store.loadAll();
      expect(r.accounts.map((a) => a.account.id)).toEqual(['ok']);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]!.file).toBe(home.file('x'));
      expect(`${r.problems[0]!.field ?? ''}: ${r.problems[0]!.message}`).toMatch(message);
      await expect(store.update('x', { paused: true })).rejects.toThrow(/x\.json/);
      expect(home.bytes('x').equals(before)).toBe(true);
    });
  }

  it('keeps unknown fields and other writers\' changes on update', async () => {
    home.writeAccount(good('a', { futureField: { keep: true }, credentials: { accessToken: 'sk-ant-oat01-aaaaaaaaaaaa', refreshToken: 'sk-ant-ort01-bbbbbbbbbbbb', expiresAt: 1, scopes: ['x'] } }));
    // another process changed `label` after we read
    store.read('a');
    home.writeAccount({ ...home.read('a'), label: 'set elsewhere' });
    const release = await store.lock('a');
    await store.update('a', { credentials: { refreshToken: 'sk-ant-ort01-new-new-new' }, failedCount: 0 });
    await release();
    const doc = home.read('a');
    expect(doc.futureField).toEqual({ keep: true });
    expect(doc.label).toBe('set elsewhere');
    expect(doc.credentials).toEqual({ accessToken: 'sk-ant-oat01-aaaaaaaaaaaa', refreshToken: 'sk-ant-ort01-new-new-new', expiresAt: 1, scopes: ['x'] });
    expect(statSync(home.file('a')).mode & 0o777).toBe(0o600);
  });

  it('writes 0600 files in a 0700 directory and leaves no temp files', async () => {
    const fresh = new AccountStore(`${home.dir}/sub`);
    await fresh.writeRaw('n', good('n'));
    expect(statSync(`${home.dir}/sub`).mode & 0o777).toBe(0o700);
    expect(statSync(fresh.fileOf('n')).mode & 0o777).toBe(0o600);
    expect(fresh.listIds()).toEqual(['n']);
  });

  it('warns about a loose mode with the chmod that fixes it', () => {
    home.writeAccount(good('a'));
    chmodSync(home.file('a'), 0o644);
    expect(store.loadAll().warnings.join('\n')).toContain(`chmod 600 ${home.file('a')}`);
  });

  it('tryLock is refused while another holder has the lock', async () => {
    home.writeAccount(good('a'));
    const release = await store.tryLock('a');
    expect(release).not.toBeNull();
    expect(await store.tryLock('a')).toBeNull();
    await release!();
    const again = await store.tryLock('a');
    expect(again).not.toBeNull();
    await again!();
  });

  it('a released lock leaves no directory; a locks/ removed while the store lives fails one lock, then is made again', async () => {
    home.writeAccount(good('a'));
    const first = await store.tryLock('a');
    await first!();
    expect(readdirSync(join(home.dir, 'locks'))).toEqual([]);
    rmSync(join(home.dir, 'locks'), { recursive: true });
    await expect(store.tryLock('a')).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await store.tryLock('a');
    expect(again).not.toBeNull();
    expect(statSync(join(home.dir, 'locks')).mode & 0o777).toBe(0o700);
    await again!();
  });

  it('applyPatch merges credentials and replaces the rest', () => {
    expect(applyPatch({ a: 1, credentials: { x: 1, y: 2 }, q: { old: 1 } }, { credentials: { accessToken: 'n' }, quota: { checkedAt: 5 } })).toEqual({
      a: 1,
      credentials: { x: 1, y: 2, accessToken: 'n' },
      q: { old: 1 },
      quota: { checkedAt: 5 },
    });
  });
});
