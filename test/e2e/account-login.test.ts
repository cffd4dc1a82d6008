import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli, startCli, waitForStderr } from '../support/cli.js';
import { expectNoSecrets, World } from '../support/fixtures.js';
import { httpGet } from '../support/http.js';

/** A browser, reduced to what the login flows need: a GET that does not follow redirects. */
const get = httpGet;

describe('account add --login', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const tokensOf = (id: string) => Object.values(w.home.read(id).credentials).filter((v): v is string => typeof v === 'string');

  it('anthropic: PKCE URL, CODE#STATE pasted on stdin, tokens exchanged, account stored by email', async () => {
    const h = startCli(w.args('account', 'add', 'anthropic', '--login', '--json'), { keepStdin: true });
    const [, url] = await waitForStderr(h, /^\s+(http\S+)$/m);
    const u = new URL(url!);
    expect(u.pathname).toBe(SIM_PATHS.anthropicAuthorize);
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');
    expect(u.searchParams.get('code')).toBe('true');
    expect(u.searchParams.get('redirect_uri')).toBe('https://platform.claude.com/oauth/code/callback');
    expect(u.searchParams.get('scope')).toBe('org:create_api_key user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload');
    const page = await get(url!);
    const codeState = /<code>([^<]+)<\/code>/.exec(page.body)![1]!;
    h.child.stdin!.end(`${codeState}\n`);
    const r = await h.done;
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r)).toMatchObject({ id: 'login1-at-example.com', provider: 'anthropic', action: 'added' });
    const doc = w.home.read('login1-at-example.com');
    expect(doc).toMatchObject({ provider: 'anthropic', email: 'login1@example.com', identity: 'anthropic:login1@example.com', status: 'active' });
    expect(doc.credentials.refreshToken).toBe(w.sim.state.oauth[0]!.refreshToken);
    const exchange = JSON.parse(w.sim.requestsTo(SIM_PATHS.anthropicToken)[0]!.body);
    expect(exchange).toMatchObject({ grant_type: 'authorization_code', state: u.searchParams.get('state'), redirect_uri: 'https://platform.claude.com/oauth/code/callback' });
    expectNoSecrets(r.stdout + r.stderr, tokensOf('login1-at-example.com'));
    // the new account works end to end
    const t = await runCli(w.args('refresh', 'login1-at-example.com', '--token', '--json'));
    expect(parseJson(t).actions).toMatchObject([{ action: 'token', ok: true }]);
  });

  it('anthropic: the simulator, like the service, refuses a redirect URI that is not the registered one', async () => {
    w.home.writeConfig(w.sim.configYaml().replace('  anthropic:\n', '  anthropic:\n    redirect_uri: https://console.anthropic.com/oauth/code/callback\n'));
    const h = startCli(w.args('account', 'add', 'anthropic', '--login'), { keepStdin: true });
    const [, url] = await waitForStderr(h, /^\s+(http\S+)$/m);
    const page = await get(url!);
    expect(page.status).toBe(400);
    expect(page.body).toContain('Invalid redirect_uri');
    h.child.kill();
    await h.done.catch(() => undefined);
  });

  it('anthropic: a pasted code with the wrong state is refused and nothing is stored', async () => {
    const h = startCli(w.args('account', 'add', 'anthropic', '--login'), { keepStdin: true });
    const [, url] = await waitForStderr(h, /^\s+(http\S+)$/m);
    const codeState = /<code>([^<]+)<\/code>/.exec((await get(url!)).body)![1]!;
    h.child.stdin!.end(`${codeState.split('#')[0]}#not-the-state\n`);
    const r = await h.done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('state does not match');
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(0);
    expect((await runCli(w.args('account', 'list', '--json'))).stdout.trim()).toBe('[]');
  });

  it('codex: local callback server, the test plays the browser, identity from the JWT claims', async () => {
    const h = startCli(w.args('account', 'add', 'codex', '--login', '--port', '0', '--no-browser', '--json'));
    const [, url] = await waitForStderr(h, /^\s+(http\S+)$/m);
    const auth = await get(url!);
    expect(auth.status).toBe(302);
    expect(auth.location).toMatch(/^http:\/\/localhost:\d+\/auth\/callback\?code=/);
    const cb = await get(auth.location!);
    expect(cb.status).toBe(200);
    const r = await h.done;
    expect(r.code, r.stderr).toBe(0);
    const doc = w.home.read('login1-at-example.com');
    const sim = w.sim.state.oauth[0]!;
    expect(doc).toMatchObject({ provider: 'codex', email: 'login1@example.com', label: 'ChatGPT plus' });
    expect(doc.credentials.accountId).toBe(sim.accountId);
    expect(doc.credentials.refreshToken).toBe(sim.refreshToken);
    expect(doc.credentials.expiresAt).toBeGreaterThan(Date.now());
    const form = new URLSearchParams(w.sim.requestsTo(SIM_PATHS.codexToken)[0]!.body);
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(form.get('code_verifier')).toBeTruthy();
    expectNoSecrets(r.stdout + r.stderr, tokensOf('login1-at-example.com'));
  });

  it('codex: a callback with the wrong state is refused', async () => {
    const h = startCli(w.args('account', 'add', 'codex', '--login', '--port', '0', '--no-browser'));
    const [, url] = await waitForStderr(h, /^\s+(http\S+)$/m);
    const redirect = new URL(new URL(url!).searchParams.get('redirect_uri')!);
    const cb = await get(`${redirect.origin}/auth/callback?code=whatever&state=forged`);
    expect(cb.status).toBe(400);
    const r = await h.done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('wrong state');
    expect(w.sim.requestsTo(SIM_PATHS.codexToken)).toHaveLength(0);
  });

  it('grok has no login', async () => {
    const r = await runCli(w.args('account', 'add', 'grok', '--login'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('grok has no OAuth login');
  });
});
