import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli } from '../support/cli.js';
import { expectNoSecrets, HOUR, MIN, World } from '../support/fixtures.js';

/** Fixture files in the formats of other tools, written the way those tools write them. */
describe('account import', () => {
  let w: World;
  let fakeHome: string;
  let dir: string;
  beforeEach(async () => {
    w = await new World().start();
    fakeHome = join(w.home.dir, 'user-home');
    dir = join(w.home.dir, 'exports');
    mkdirSync(dir, { recursive: true });
  });
  afterEach(() => w.stop());

  const env = () => ({ HOME: fakeHome, LOG_LEVEL: 'info' });
  const run = async (...args: string[]) => {
    const r = await runCli(w.args(...args), { env: env() });
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
    return r;
  };

  function claudeCodeFile(expiresAt: number, mode = 0o600) {
    const c = w.sim.state.addOAuth('anthropic', 'cc@example.com', Date.now());
    w.secrets.push(c.accessToken, c.refreshToken);
    mkdirSync(join(fakeHome, '.claude'), { recursive: true });
    const file = join(fakeHome, '.claude', '.credentials.json');
    const doc = { claudeAiOauth: { accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt, scopes: ['user:inference', 'user:profile'], subscriptionType: 'max' }, mcpOAuth: { keep: 'me' } };
    writeFileSync(file, JSON.stringify(doc), { mode });
    chmodSync(file, mode);
    return { file, sim: c };
  }

  function codexAuthFile() {
    const c = w.sim.state.addOAuth('codex', 'cx@example.com', Date.now());
    w.secrets.push(c.accessToken, c.refreshToken, c.idToken);
    mkdirSync(join(fakeHome, '.codex'), { recursive: true });
    const file = join(fakeHome, '.codex', 'auth.json');
    writeFileSync(file, JSON.stringify({ auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { id_token: c.idToken, access_token: c.accessToken, refresh_token: c.refreshToken, account_id: c.account.accountId }, last_refresh: '2026-11-22T10:00:00Z' }, null, 2), { mode: 0o600 });
    return { file, sim: c };
  }

  function otherFormats() {
    const g1 = w.sim.state.addGrok();
    const g2 = w.sim.state.addGrok();
    const g3 = w.sim.state.addGrok();
    const g4 = w.sim.state.addGrok();
    w.secrets.push(g1.sso, g2.sso, g3.sso, g4.sso, g4.ssoRw);
    writeFileSync(join(dir, 'token.json'), JSON.stringify({ ssoNormal: { [g1.sso]: { remainingQueries: 80, heavyremainingQueries: 10, status: 'active', failedCount: 0 }, [g2.sso]: {} }, ssoSuper: { [g3.sso]: { remainingQueries: 140 } } }));
    writeFileSync(join(dir, 'token_abc123.json'), JSON.stringify({ sso: g4.sso, ssoRw: g4.ssoRw, remainingQueries: 50, heavyremainingQueries: -1, status: 'active', failedCount: 1, lastFailureTime: 1763800000000, lastFailureReason: 'HTTP 500' }));
    const cc = w.sim.state.addOAuth('anthropic', 'proxy-claude@example.com', Date.now());
    const cx = w.sim.state.addOAuth('codex', 'proxy-codex@example.com', Date.now());
    w.secrets.push(cc.accessToken, cc.refreshToken, cx.accessToken, cx.refreshToken, cx.idToken);
    writeFileSync(join(dir, 'claude-proxy-claude@example.com.json'), JSON.stringify({ type: 'claude', access_token: cc.accessToken, refresh_token: cc.refreshToken, expired: new Date(cc.expiresAt).toISOString(), email: 'proxy-claude@example.com', last_refresh: '2026-11-22T10:00:00Z' }));
    writeFileSync(join(dir, 'codex-proxy-codex@example.com.json'), JSON.stringify({ type: 'codex', access_token: cx.accessToken, refresh_token: cx.refreshToken, id_token: cx.idToken, account_id: cx.account.accountId, expired: new Date(cx.expiresAt).toISOString(), email: 'proxy-codex@example.com' }));
    writeFileSync(join(dir, 'broken.json'), '{"ssoNormal": ');
    writeFileSync(join(dir, 'notes.json'), JSON.stringify({ hello: 'world' }));
  }

  it('finds the official CLIs\' files by default and links them', async () => {
    const cc = claudeCodeFile(Date.now() + 6 * HOUR);
    const cx = codexAuthFile();
    const r = await run('account', 'import', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJson(r);
    expect(doc.imported).toEqual([
      { id: 'claude-code', provider: 'anthropic', action: 'added', linked: true, file: cc.file, format: 'Claude Code .credentials.json' },
      { id: 'cx-at-example.com', provider: 'codex', action: 'added', linked: true, file: cx.file, format: 'Codex CLI auth.json' },
    ]);
    expect(w.home.read('claude-code').source).toEqual({ format: 'claude-credentials', path: cc.file });
    expect(w.home.read('cx-at-example.com')).toMatchObject({ email: 'cx@example.com', credentials: { accountId: cx.sim.account.accountId } });
    const list = parseJson(await run('account', 'list', '--json'));
    expect(list.find((a: any) => a.id === 'claude-code').source.path).toBe(cc.file);
  });

  it('every format from a directory; broken files are named and skipped; re-import adds nothing', async () => {
    otherFormats();
    const r = await run('account', 'import', '--from', dir, '--json');
    expect(r.code).toBe(1);
    const doc = parseJson(r);
    expect(doc.imported.map((i: any) => [i.provider, i.format, i.action])).toEqual([
      ['anthropic', 'CLIProxyAPI claude auth file', 'added'],
      ['codex', 'CLIProxyAPI codex auth file', 'added'],
      ['grok', 'grok2api token.json', 'added'],
      ['grok', 'grok2api token.json', 'added'],
      ['grok', 'grok2api token.json', 'added'],
      ['grok', 'grok token file', 'added'],
    ]);
    expect(doc.errors.map((e: any) => e.file.split('/').pop())).toEqual(['broken.json', 'notes.json']);
    expect(r.stderr).toMatch(/broken\.json: not valid JSON/);
    expect(r.stderr).toMatch(/notes\.json: not a format refresher knows/);
    const tokenFile = doc.imported.find((i: any) => i.format === 'grok token file');
    expect(w.home.read(tokenFile.id)).toMatchObject({
      quota: { remainingQueries: 50, heavyRemainingQueries: null },
      failedCount: 1,
      lastFailure: { at: 1763800000000, reason: 'HTTP 500' },
    });
    expect(w.home.read('proxy-claude-at-example.com').credentials.expiresAt).toBeGreaterThan(Date.now());
    const again = parseJson(await run('account', 'import', '--from', dir, '--json'));
    expect(again.imported.every((i: any) => i.action === 'unchanged')).toBe(true);
    const listed = parseJson(await run('account', 'list', '--json'));
    expect(listed).toHaveLength(6);
    // and the imported accounts work
    const t = await run('tick', '--json');
    const acts = parseJson(t).actions;
    expect(acts.every((a: any) => a.ok)).toBe(true);
    expect(new Set(acts.map((a: any) => a.account)).size).toBe(6);
  });

  it('--dry-run lists ids and providers only and writes nothing', async () => {
    otherFormats();
    const r = await run('account', 'import', '--from', dir, '--dry-run');
    expect(r.stderr).toMatch(/would add: grok-[0-9a-f]{8} \(grok\)/);
    expect(parseJson(await run('account', 'list', '--json'))).toEqual([]);
  });

  it('linked: after a tick refreshes the account, the source file holds the new tokens and keeps the rest', async () => {
    const cc = claudeCodeFile(Date.now() + 5 * MIN, 0o640);
    await run('account', 'import');
    const before = JSON.parse(readFileSync(cc.file, 'utf8'));
    const t = await run('tick', '--json', '--account', 'claude-code');
    expect(parseJson(t).actions[0]).toMatchObject({ action: 'token', ok: true });
    const after = JSON.parse(readFileSync(cc.file, 'utf8'));
    expect(after.claudeAiOauth.refreshToken).toBe(cc.sim.account.refreshToken);
    expect(after.claudeAiOauth.refreshToken).not.toBe(before.claudeAiOauth.refreshToken);
    expect(after.claudeAiOauth.accessToken).toBe(w.home.read('claude-code').credentials.accessToken);
    expect(after.claudeAiOauth.expiresAt).toBe(w.home.read('claude-code').credentials.expiresAt);
    expect(after.claudeAiOauth.scopes).toEqual(before.claudeAiOauth.scopes);
    expect(after.claudeAiOauth.subscriptionType).toBe('max');
    expect(after.mcpOAuth).toEqual({ keep: 'me' });
    expect(statSync(cc.file).mode & 0o777).toBe(0o640);
  });

  it('linked codex: the rotated tokens go back into auth.json in its own format', async () => {
    const cx = codexAuthFile();
    await run('account', 'import');
    // make our copy due: it expires soon
    const id = 'cx-at-example.com';
    w.home.writeAccount({ ...w.home.read(id), credentials: { ...w.home.read(id).credentials, expiresAt: Date.now() + MIN } });
    const t = parseJson(await run('tick', '--json', '--account', id));
    expect(t.actions.find((a: any) => a.action === 'token')).toMatchObject({ ok: true });
    const after = JSON.parse(readFileSync(cx.file, 'utf8'));
    const ours = w.home.read(id).credentials;
    expect(after.tokens).toEqual({ id_token: ours.idToken, access_token: ours.accessToken, refresh_token: cx.sim.account.refreshToken, account_id: cx.sim.account.accountId });
    expect(after.auth_mode).toBe('chatgpt');
    expect(after.OPENAI_API_KEY).toBeNull();
    expect(Date.parse(after.last_refresh)).toBeGreaterThan(Date.now() - MIN);
    expect(readFileSync(cx.file, 'utf8')).toContain('\n  "tokens"'); // still pretty-printed like the original
  });

  it('adopts a newer token that the official CLI wrote, instead of refreshing a used one', async () => {
    const cc = claudeCodeFile(Date.now() + 5 * MIN);
    await run('account', 'import');
    // Claude Code refreshes on its own and writes the new pair to its file
    const res = await fetch(`${w.sim.url}${SIM_PATHS.anthropicToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: cc.sim.refreshToken, client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e' }),
    });
    const fresh = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number };
    w.secrets.push(fresh.access_token, fresh.refresh_token);
    const doc = JSON.parse(readFileSync(cc.file, 'utf8'));
    doc.claudeAiOauth = { ...doc.claudeAiOauth, accessToken: fresh.access_token, refreshToken: fresh.refresh_token, expiresAt: Date.now() + fresh.expires_in * 1000 };
    writeFileSync(cc.file, JSON.stringify(doc));
    const callsBefore = w.sim.state.refreshCalls;

    const t = parseJson(await run('tick', '--json', '--account', 'claude-code'));
    expect(t.actions.map((a: any) => [a.action, a.ok])).toEqual([
      ['window', true],
      ['quota', true],
    ]);
    expect(t.skipped).toEqual([{ account: 'claude-code', reason: `token: adopted a newer token from ${cc.file}` }]);
    expect(w.sim.requestsTo(SIM_PATHS.messages)[0]!.headers.authorization).toBe(`Bearer ${fresh.access_token}`);
    expect(w.home.read('claude-code').credentials.refreshToken).toBe(fresh.refresh_token);
    expect(w.sim.state.refreshCalls).toBe(callsBefore);
    expect(w.sim.state.refreshReuses).toBe(0);
  });

  it('an expired account comes back when the official CLI logged in again and the file is re-imported', async () => {
    const cc = claudeCodeFile(Date.now() + HOUR);
    await run('account', 'import');
    w.home.writeAccount({ ...w.home.read('claude-code'), status: 'expired', lastFailure: { at: Date.now(), reason: 'needs a new login' } });
    // the fix offered is the one the README gives for a linked account, not a second account
    const st = await runCli(w.args('status'));
    expect(st.stdout).toContain(`run: claude /login, then: refresher account import ${cc.file}`);
    const fresh = w.sim.state.addOAuth('anthropic', 'cc@example.com', Date.now());
    w.secrets.push(fresh.accessToken, fresh.refreshToken);
    const doc = JSON.parse(readFileSync(cc.file, 'utf8'));
    doc.claudeAiOauth = { ...doc.claudeAiOauth, accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, expiresAt: Date.now() + 30 * MIN };
    writeFileSync(cc.file, JSON.stringify(doc));
    const r = parseJson(await run('account', 'import', '--json'));
    expect(r.imported[0]).toMatchObject({ id: 'claude-code', action: 'updated' });
    expect(w.home.read('claude-code')).toMatchObject({ status: 'active', failedCount: 0, lastFailure: null, credentials: { refreshToken: fresh.refreshToken } });
  });

  it('--no-link makes a detached copy and explains the hazard', async () => {
    const cc = claudeCodeFile(Date.now() + HOUR);
    const r = await run('account', 'import', '--no-link', '--from', cc.file);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('whichever refreshes first invalidates the other');
    expect(w.home.read('claude-code').source).toBeNull();
  });

  it('an older copy of a token file never overwrites a token refresher already rotated', async () => {
    const cc = claudeCodeFile(Date.now() + 5 * MIN);
    const stale = readFileSync(cc.file, 'utf8');
    await run('account', 'import', '--no-link', '--from', cc.file);
    await run('tick', '--account', 'claude-code');
    const rotated = w.home.read('claude-code').credentials.refreshToken;
    writeFileSync(cc.file, stale);
    const again = parseJson(await run('account', 'import', '--no-link', '--from', cc.file, '--json'));
    expect(again.imported[0].action).toBe('unchanged');
    expect(w.home.read('claude-code').credentials.refreshToken).toBe(rotated);
  });
});
