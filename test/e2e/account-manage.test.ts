import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli, startCli } from '../support/cli.js';
import { expectNoSecrets, HOUR, MIN, World } from '../support/fixtures.js';

describe('account add (manual), set, list, remove', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const run = async (args: string[], input?: string) => {
    const r = await runCli(w.args(...args), { input, env: { LOG_LEVEL: 'info' } });
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
    return r;
  };

  it('grok from stdin as a cookie line; a duplicate id is refused without --force', async () => {
    const g = w.sim.state.addGrok();
    w.secrets.push(g.sso, g.ssoRw);
    const r = await run(['account', 'add', 'grok', '--name', 'grok-1', '--label', 'main'], `sso=${g.sso}; sso-rw=${g.ssoRw}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(w.home.read('grok-1')).toMatchObject({ provider: 'grok', label: 'main', credentials: { sso: g.sso, ssoRw: g.ssoRw }, identity: expect.stringMatching(/^grok:sso:[0-9a-f]{16}$/) });
    const other = w.sim.state.addGrok();
    w.secrets.push(other.sso);
    const dup = await run(['account', 'add', 'grok', '--name', 'grok-1'], JSON.stringify({ sso: other.sso }));
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('account "grok-1" already exists');
    const forced = await run(['account', 'add', 'grok', '--name', 'grok-1', '--force'], JSON.stringify({ sso: other.sso }));
    expect(forced.code).toBe(0);
    expect(w.home.read('grok-1')).toMatchObject({ label: 'main', credentials: { sso: other.sso } });
    // the tick works with it
    const t = await run(['tick', '--json', '--account', 'grok-1']);
    expect(parseJson(t).actions).toMatchObject([{ action: 'quota', ok: true }]);
  });

  it('anthropic from --secrets-file; bad input is refused without echoing it', async () => {
    const c = w.sim.state.addOAuth('anthropic', 'm@example.com', Date.now());
    w.secrets.push(c.accessToken, c.refreshToken);
    const file = join(w.home.dir, 'tokens.json');
    writeFileSync(file, JSON.stringify({ accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: Date.now() + 5 * MIN }));
    const r = await run(['account', 'add', 'anthropic', '--name', 'work', '--secrets-file', file, '--proxy', 'direct']);
    expect(r.code, r.stderr).toBe(0);
    expect(w.home.read('work')).toMatchObject({ provider: 'anthropic', proxy: 'direct', credentials: { refreshToken: c.refreshToken } });
    const bad = await run(['account', 'add', 'anthropic', '--name', 'w2'], '{"accessToken": "sk-ant-oat01-secret-looking-value"');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not valid JSON');
    expect(bad.stderr).not.toContain('secret-looking-value');
    expect((await run(['account', 'add', 'codex', '--name', 'x'], '')).code).toBe(2);
    expect((await run(['account', 'add', 'mistral', '--name', 'x'], '{}')).stderr).toContain('unknown provider "mistral"');
    // a codex account without its account id is accepted, with what will not work said
    const cx = await run(['account', 'add', 'codex', '--name', 'cx'], JSON.stringify({ accessToken: 'eyJhbGciOiJub25lIn0.e30.', refreshToken: 'rt_placeholder_cx_000000000000', expiresAt: Date.now() + HOUR }));
    expect(cx.code).toBe(0);
    expect(cx.stderr).toMatch(/warning: codex account cx has no accountId and no idToken to read it from: .*ChatGPT-Account-Id/);
    // a secret given where its file belongs is never printed back
    const given = await run(['account', 'add', 'grok', '--name', 'g9', '--secrets-file', 'sso=abcdefghijklmnopqrstuvwxyz0123456789']);
    expect(given.code).toBe(2);
    expect(given.stderr).toContain('--secrets-file: cannot read the file given (ENOENT)');
    expect(given.stderr).not.toContain('abcdefghijkl');
    // the same token pair under a second id is refused, naming the account that holds it
    const twice = await run(['account', 'add', 'anthropic', '--name', 'work-2', '--secrets-file', file]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('this refresh token is already stored in account "work"');
    expect(existsSync(w.home.file('work-2'))).toBe(false);
  });

  it('set validates every value, exits 2 listing the problems, and applies good ones', async () => {
    w.grok('g');
    const bad = await run(['account', 'set', 'g', '--paused', 'maybe', '--proxy', 'ftp://x', '--priority', 'high', '--endpoint', 'nope']);
    expect(bad.code).toBe(2);
    for (const m of ['--paused: expected on or off', '--proxy: unsupported proxy scheme', '--priority: expected a whole number', '--endpoint: not a URL']) expect(bad.stderr).toContain(m);
    const good = await run(['account', 'set', 'g', '--paused', 'on', '--proxy', 'socks5h://u:hunter2@127.0.0.1:1080', '--priority', '3', '--label', 'Main', '--auto-refresh', 'off', '--endpoint', 'http://127.0.0.1:1/x/']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stderr).not.toContain('hunter2');
    expect(w.home.read('g')).toMatchObject({ paused: true, proxy: 'socks5h://u:hunter2@127.0.0.1:1080', priority: 3, label: 'Main', autoRefresh: false, endpoint: 'http://127.0.0.1:1/x' });
    await run(['account', 'set', 'g', '--proxy', 'default', '--endpoint', 'default', '--label', '']);
    expect(w.home.read('g')).toMatchObject({ proxy: null, endpoint: null, label: null });
    expect((await run(['account', 'set', 'nope', '--paused', 'on'])).code).toBe(2);
    // a use made elsewhere makes the quota due an hour later
    await run(['account', 'set', 'g', '--last-used', 'now', '--paused', 'off', '--auto-refresh', 'on']);
    expect(parseJson(await run(['tick', '--dry-run', '--json'])).actions).toEqual([]);
    const later = parseJson(await run(['tick', '--dry-run', '--json', '--now', String(Date.now() + HOUR + MIN)]));
    expect(later.actions).toMatchObject([{ account: 'g', action: 'quota', reason: expect.stringMatching(/^quota: last used 1h(1|2)m ago/) }]);
    expect((await run(['account', 'set', 'g', '--last-used', 'yesterday'])).code).toBe(2);
    expect((await run(['account', 'set', 'g'])).stderr).toContain('nothing to set');
  });

  it('list shows settings, the effective proxy without its password, and the link', async () => {
    w.home.writeConfig(w.sim.configYaml('proxy_url: http://me:pw-in-config@127.0.0.1:3128\n'));
    w.grok('g', { fields: { priority: 2 } });
    w.anthropic('a', { fields: { source: { format: 'claude-credentials', path: '/home/x/.claude/.credentials.json' } } });
    const r = await run(['account', 'list', '--json']);
    expect(parseJson(r)).toEqual([
      expect.objectContaining({ id: 'a', provider: 'anthropic', status: 'active', paused: false, autoRefresh: true, proxy: 'http://me:***@127.0.0.1:3128', source: { format: 'claude-credentials', path: '/home/x/.claude/.credentials.json' } }),
      expect.objectContaining({ id: 'g', provider: 'grok', priority: 2, proxy: 'http://me:***@127.0.0.1:3128', source: null }),
    ]);
    const table = await run(['account', 'list']);
    expect(table.stdout).toMatch(/^id\s+provider\s+label\s+status\s+paused\s+auto-refresh\s+proxy\s+priority\s+linked to/);
    expect(table.stdout).toContain('claude-credentials: /home/x/.claude/.credentials.json');
    expect(table.stdout + table.stderr).not.toContain('pw-in-config');
  });

  it('set during a running tick waits for the lock and loses nothing', async () => {
    const c = w.anthropic('a', { expiresIn: 5 * MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 1500 });
    const tick = startCli(w.args('tick', '--json'));
    for (let i = 0; i < 100 && !w.sim.requestsTo(SIM_PATHS.anthropicToken).length; i++) await new Promise((r) => setTimeout(r, 20));
    const set = await run(['account', 'set', 'a', '--label', 'set-during-tick', '--priority', '7']);
    expect(set.code, set.stderr).toBe(0);
    expect((await tick.done).code).toBe(0);
    const doc = w.home.read('a');
    expect(doc).toMatchObject({ label: 'set-during-tick', priority: 7 });
    expect(doc.credentials.refreshToken).toBe(c.account.refreshToken); // the tick's rotation survived
    expect(doc.credentials.refreshToken).not.toBe(c.refreshToken);
  });

  it('remove needs --yes without a terminal, and never touches a linked source', async () => {
    const src = join(w.home.dir, 'linked.json');
    writeFileSync(src, JSON.stringify({ claudeAiOauth: { refreshToken: 'sk-ant-ort01-linked-copy-xxxx' } }));
    w.anthropic('a', { fields: { source: { format: 'claude-credentials', path: src } } });
    const no = await run(['account', 'remove', 'a']);
    expect(no.code).toBe(2);
    expect(no.stderr).toContain('pass --yes');
    expect(existsSync(w.home.file('a'))).toBe(true);
    const yes = await run(['account', 'remove', 'a', '--yes']);
    expect(yes.code).toBe(0);
    expect(yes.stderr).toContain(`the linked ${src} was not touched`);
    expect(existsSync(w.home.file('a'))).toBe(false);
    expect(readFileSync(src, 'utf8')).toContain('linked-copy');
    expect((await run(['account', 'remove', 'a', '--yes'])).code).toBe(2);
  });

  it('every account command keeps secrets out of its output', async () => {
    w.grok('g');
    w.codex('c', { expiresIn: HOUR });
    expect(w.secrets.length).toBeGreaterThanOrEqual(5);
    for (const args of [['account', 'list'], ['account', 'list', '--json'], ['account', 'set', 'c', '--priority', '1', '--json']]) {
      // run() fails the test if any of those secrets appears in stdout or stderr
      expect((await run(args)).code).toBe(0);
    }
    // an import that reads the account files themselves (not a known format) still prints no secret
    expect((await run(['account', 'import', '--from', w.home.accountsDir, '--dry-run'])).code).toBe(1);
  });
});
