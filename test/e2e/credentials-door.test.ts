import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canary } from '../support/canary.js';
import { parseJson, runCli } from '../support/cli.js';
import { World } from '../support/fixtures.js';

const DAY = 86_400_000;

// Credentials that cannot work are refused at the door (issue 10, part 6).
describe('account add: credentials that cannot work', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());
  const add = (args: string[], input: string) => runCli(w.args('account', 'add', ...args), { input, env: { LOG_LEVEL: 'info' } });

  it('an anthropic access token without a refresh token is refused, unless it is declared a setup token', async () => {
    const token = 'sk-ant-oat01-SetupTokenForTestsOnly1234567890';
    canary(token);
    const refused = await add(['anthropic', '--name', 'st'], JSON.stringify({ accessToken: token }));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('an access token without a refresh token cannot be refreshed');
    expect(refused.stderr).toContain('--setup-token');
    const ok = await add(['anthropic', '--name', 'st', '--setup-token'], JSON.stringify({ accessToken: token }));
    expect(ok.code, ok.stderr).toBe(0);
    const doc = w.home.read('st');
    expect(doc).toMatchObject({ setupToken: true, credentials: { accessToken: token, refreshToken: '' } });
    expect(Math.abs(doc.credentials.expiresAt - (Date.now() + 365 * DAY))).toBeLessThan(60_000);
    // never planned for a token refresh
    const dry = parseJson(await runCli(w.args('tick', '--dry-run', '--json', '--now', new Date(Date.now() + 364 * DAY).toISOString())));
    expect(dry.actions.filter((a: any) => a.action === 'token')).toEqual([]);
    const s = await runCli(w.args('status'));
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/setup token, expires in 36[45]d/);
    // fourteen days before the end, a person is told
    const late = await runCli(w.args('status', '--now', new Date(Date.now() + 352 * DAY).toISOString()));
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/st: its setup token expires at .* and cannot be refreshed\n    run: claude setup-token | refresher account add anthropic --name st --setup-token --force/);
    const both = await add(['anthropic', '--name', 'st2', '--setup-token'], JSON.stringify({ accessToken: token, refreshToken: 'sk-ant-ort01-NotASetupToken-abcdefgh' }));
    expect(both.code).toBe(2);
  });

  it('a setup token near its end reaches the daily reminder, and the plan cache does not hide it', async () => {
    w.home.writeAccount({ id: 'st', provider: 'anthropic', setupToken: true, credentials: { accessToken: 'sk-ant-oat01-AnotherSetupToken-0123456789', refreshToken: '', expiresAt: Date.now() + 10 * DAY }, rateLimitReset: Date.now() + 3_600_000, quota: { checkedAt: Date.now() } });
    canary('sk-ant-oat01-AnotherSetupToken-0123456789');
    const r = await runCli(w.args('tick'));
    expect(r.stderr).toMatch(/1 account needs a person: st \(its setup token expires at/);
    w.home.writeAccount({ id: 'later', provider: 'anthropic', setupToken: true, credentials: { accessToken: 'sk-ant-oat01-ThirdSetupTokenForTests-98765', refreshToken: '', expiresAt: Date.now() + 100 * DAY }, rateLimitReset: Date.now() + 3_600_000, quota: { checkedAt: Date.now() } });
    canary('sk-ant-oat01-ThirdSetupTokenForTests-98765');
    expect((await runCli(w.args('tick'))).stderr).toBe('');
  });

  it('a non-numeric expiresAt is refused, not turned into "unknown"', async () => {
    const r = await add(['anthropic', '--name', 'x'], JSON.stringify({ accessToken: 'sk-ant-oat01-abcdefghijklmnop', refreshToken: 'sk-ant-ort01-abcdefghijklmnop', expiresAt: 'soon' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expiresAt must be a number (epoch ms), got a string');
    expect(r.stderr).not.toContain('soon');
  });

  it('the same account under a second name is refused; --force replaces the first', async () => {
    const g = w.sim.state.addGrok();
    expect((await add(['grok', '--name', 'g1'], `sso=${g.sso}`)).code).toBe(0);
    const dup = await add(['grok', '--name', 'g2'], `sso=${g.sso}`);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('this grok account is already here as "g1" (the same sso cookie); use --name g1 to update it, or pass --force to replace "g1" with "g2"');
    const forced = await add(['grok', '--name', 'g2', '--force'], `sso=${g.sso}`);
    expect(forced.code, forced.stderr).toBe(0);
    expect(parseJson(await runCli(w.args('account', 'list', '--json'))).map((a: any) => a.id)).toEqual(['g2']);
    const c = w.sim.state.addOAuth('anthropic', 'me@example.com', Date.now());
    const pair = JSON.stringify({ accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: c.expiresAt, email: 'me@example.com' });
    expect((await add(['anthropic', '--name', 'a1'], pair)).code).toBe(0);
    expect((await add(['anthropic', '--name', 'a2'], pair)).code).toBe(2);
  });
});
