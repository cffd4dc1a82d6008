import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { runCli } from '../support/cli.js';
import { HOUR, MIN, World } from '../support/fixtures.js';
import { deadPid, makeUnwritable } from '../support/hostile.js';

describe('hardening: the file system', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());
  const tokenRequests = () => w.sim.requestsTo(SIM_PATHS.anthropicToken).length;

  // Item 5: never spend a refresh token that cannot be saved.
  it('an account file that cannot be replaced: nothing is sent, every tick says why, with path and errno', async (t) => {
    w.anthropic('a1', { expiresIn: MIN });
    const undo = makeUnwritable(w.home.accountsDir);
    if (!undo) return t.skip('this machine cannot make a directory unwritable for root (no chattr)');
    try {
      for (let i = 0; i < 2; i++) {
        const r = await w.tick();
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/a1: token not refreshed: cannot write in .*\/accounts \((EACCES|EPERM)\); nothing was sent/);
        expect(r.doc.actions).toMatchObject([{ account: 'a1', action: 'token', ok: false, failure: 'file' }]);
      }
      expect(tokenRequests()).toBe(0);
    } finally {
      undo();
    }
    expect((await w.tick()).doc.actions).toMatchObject([{ account: 'a1', action: 'token', ok: true }]);
    expect(tokenRequests()).toBe(1);
  });

  it('tokens waiting in recovery/: the stale file is never refreshed; they are restored once the file can be written', async (t) => {
    const c = w.anthropic('a1', { expiresIn: MIN });
    // an earlier run rotated the token and could only save the new pair to recovery/
    const rotated = w.sim.state.refresh('anthropic', c.refreshToken, Date.now());
    if (!rotated.ok) throw new Error('sim refused');
    mkdirSync(join(w.home.dir, 'recovery'), { mode: 0o700 });
    const rec = join(w.home.dir, 'recovery', 'a1.2026-11-30T10-00-00-000Z.json');
    const credentials = { accessToken: rotated.accessToken, refreshToken: rotated.refreshToken, expiresAt: Date.now() + 30_000 };
    writeFileSync(rec, JSON.stringify({ id: 'a1', savedAt: Date.now(), kind: 'unwritable', provider: 'anthropic', credentials }), { mode: 0o600 });
    const undo = makeUnwritable(w.home.accountsDir);
    if (!undo) return t.skip('this machine cannot make a directory unwritable for root (no chattr)');
    try {
      const r = await w.tick();
      expect(r.doc.skipped).toContainEqual({ account: 'a1', reason: `its newest tokens wait in ${rec}` });
      expect(r.stderr).toContain(`a1 (its newest tokens were saved to ${rec} because the account file could not be written; run: make the accounts directory writable`);
      const s = await w.run(['status']);
      expect(s.code).toBe(1);
      expect(s.stdout).toMatch(/a1 .*tokens in recovery/);
      expect(tokenRequests()).toBe(0);
    } finally {
      undo();
    }
    const r = await w.tick();
    expect(r.stderr).toContain(`a1: restored the tokens saved in ${rec} to the account file`);
    expect(existsSync(rec)).toBe(false);
    expect(r.doc.actions).toMatchObject([{ account: 'a1', action: 'token', ok: true }]);
    expect(w.sim.state.refreshReuses).toBe(0);
    expect(w.home.read('a1')).toMatchObject({ status: 'active', credentials: { refreshToken: w.sim.state.oauth[0]!.refreshToken } });
  });

  // Item 6: recover what a crash left behind.
  it('the complete temp file of a killed write, holding newer tokens, is adopted; other leftovers are removed', async () => {
    const c = w.anthropic('a1', { expiresIn: MIN });
    w.anthropic('a2');
    const rotated = w.sim.state.refresh('anthropic', c.refreshToken, Date.now());
    if (!rotated.ok) throw new Error('sim refused');
    const newer = { ...w.home.read('a1'), credentials: { accessToken: rotated.accessToken, refreshToken: rotated.refreshToken, expiresAt: rotated.expiresAt }, lastRefreshAt: Date.now() };
    const tmp = `a1.json.${deadPid()}.0badf00d.tmp`;
    writeFileSync(join(w.home.accountsDir, tmp), JSON.stringify(newer, null, 2));
    const junk = `a2.json.${deadPid()}.12345678.tmp`;
    writeFileSync(join(w.home.accountsDir, junk), '{"version":1,"id":"a2","prov'); // torn: never adopted
    const r = await w.tick();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`a1: adopted ${tmp}, the complete write of a process killed before it could rename it`);
    expect(r.doc.repaired.map((x: any) => x.account).sort()).toEqual(['a1', 'a2']);
    expect(readdirSync(w.home.accountsDir).sort()).toEqual(['a1.json', 'a2.json']);
    expect(w.home.read('a1').credentials.refreshToken).toBe(rotated.refreshToken);
    expect(tokenRequests()).toBe(0); // the adopted token is fresh: nothing was due any more
    expect(w.sim.state.refreshReuses).toBe(0);
  });

  // Item 9: hostile files.
  it('a FIFO and a symlink in accounts/ are refused by name; the other accounts are served', async () => {
    w.grok('g', { fields: { quota: null } });
    execFileSync('mkfifo', [join(w.home.accountsDir, 'pipe.json')]);
    const outside = join(w.home.dir, 'elsewhere.json');
    writeFileSync(outside, JSON.stringify({ version: 1, id: 'link', provider: 'grok', credentials: { sso: 'eyJ' + 'l'.repeat(30) } }));
    symlinkSync(outside, join(w.home.accountsDir, 'link.json'));
    const before = readFileSync(outside);
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.doc.errors.map((e: any) => e.error).join('\n')).toMatch(/link\.json: is a symbolic link[\s\S]*pipe\.json: is not a regular file \(a FIFO\)/);
    expect(r.doc.actions).toMatchObject([{ account: 'g', action: 'quota', ok: true }]);
    expect(readFileSync(outside).equals(before)).toBe(true);
    const s = await w.run(['status', '--json']);
    expect(JSON.parse(s.stdout).map((x: any) => x.status)).toEqual(['active', 'error', 'error']);
  });

  it('an account file with bytes that are not UTF-8 is left byte for byte, by tick and by account set; the others are served', async () => {
    w.grok('g', { fields: { quota: null } });
    const good = JSON.stringify({ version: 1, id: 'latin', provider: 'grok', label: 'caf\u00e9', credentials: { sso: 'eyJ' + 'x'.repeat(30) }, quota: null });
    // the label written in Latin-1 by another tool: one byte 0xe9 where UTF-8 has two
    const bytes = Buffer.from(good.replace('caf\u00e9', 'caf\u00e9'), 'latin1');
    w.home.writeRaw('latin', bytes);
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.doc.errors.map((e: any) => e.error).join('\n')).toMatch(/latin\.json: holds bytes that are not UTF-8; refresher leaves it byte for byte/);
    expect(r.doc.actions).toMatchObject([{ account: 'g', action: 'quota', ok: true }]);
    const set = await w.run(['account', 'set', 'latin', '--label', 'x']);
    expect(set.code).not.toBe(0);
    expect(w.home.bytes('latin').equals(bytes)).toBe(true);
  });

  it('a missing home, a home that is a file, and accounts/ that is a file: exit 2, naming the path', async () => {
    const missing = join(w.home.dir, 'nope');
    for (const args of [['tick'], ['status'], ['tick', '--json']]) {
      const r = await runCli(['--home', missing, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no refresher home at ${missing}`);
    }
    const file = join(w.home.dir, 'a-file');
    writeFileSync(file, 'x');
    expect(await runCli(['--home', file, 'tick'])).toMatchObject({ code: 2, stderr: expect.stringContaining(`the refresher home ${file} is not a directory`) });
    rmSync(w.home.accountsDir, { recursive: true });
    writeFileSync(w.home.accountsDir, 'x');
    expect(await runCli(w.args('tick'))).toMatchObject({ code: 2, stderr: expect.stringContaining(`${w.home.accountsDir} is not a directory`) });
  });

  it('a cookie with bytes that cannot go in a header is a bad credential, not a network failure', async () => {
    w.home.writeAccount({ id: 'bad', provider: 'grok', credentials: { sso: 'eyJgood-part\nInjected: header' }, quota: null });
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions).toMatchObject([{ account: 'bad', ok: false, failure: 'permanent', error: expect.stringContaining('cannot be sent in a Cookie header') }]);
    expect(w.home.read('bad').status).toBe('expired');
    expect(w.sim.requests).toHaveLength(0);
  });

  // Item 10: errors are printed, not only recorded.
  it('locks/ that is a file: tick and refresh print the cause', async () => {
    w.anthropic('a1', { expiresIn: MIN });
    writeFileSync(join(w.home.dir, 'locks'), 'x');
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: \[tick\] a1: cannot take the account's lock: .*(EEXIST|ENOTDIR)/);
    const f = await w.run(['refresh', 'a1']);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/error: \[refresh\] a1: cannot take the account's lock: .*(EEXIST|ENOTDIR)/);
    expect(tokenRequests()).toBe(0);
  });

  it('a read-only home: the tick prints why each account failed', async (t) => {
    w.anthropic('a1', { expiresIn: MIN });
    w.grok('g', { fields: { quota: null, lastUsedAt: Date.now() - 2 * HOUR } });
    const undo = makeUnwritable(w.home.dir);
    if (!undo) return t.skip('this machine cannot make a directory unwritable for root (no chattr)');
    try {
      const r = await w.tick();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: \[tick\] a1: cannot take the account's lock: .*(EACCES|EPERM)/);
      expect(r.stderr).toMatch(/error: \[tick\] g: cannot take the account's lock: .*(EACCES|EPERM)/);
    } finally {
      undo();
    }
  });
});
