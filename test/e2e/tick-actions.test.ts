import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli } from '../support/cli.js';
import { HOUR, MIN, World } from '../support/fixtures.js';

/** Each action of each provider, through the built CLI against the simulator. */
describe('tick: actions', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const tick = (...extra: string[]) => w.tick(...extra);

  it('anthropic token: rotates, stores the new refresh token, sets expiresAt from expires_in', async () => {
    const c = w.anthropic('work-max', { expiresIn: 5 * MIN });
    const before = Date.now();
    const r = await tick();
    expect(r.code).toBe(0);
    expect(r.doc.actions).toMatchObject([{ account: 'work-max', action: 'token', ok: true }]);
    const doc = w.home.read('work-max');
    expect(doc.credentials.refreshToken).not.toBe(c.refreshToken);
    expect(doc.credentials.refreshToken).toBe(c.account.refreshToken); // the simulator's current one
    expect(doc.credentials.expiresAt).toBeGreaterThanOrEqual(before + 28_800_000);
    expect(doc.failedCount).toBe(0);
    expect(doc.lastRefreshAt).toBeGreaterThanOrEqual(before);
    const sent = w.sim.requestsTo(SIM_PATHS.anthropicToken)[0]!;
    expect(JSON.parse(sent.body)).toEqual({ grant_type: 'refresh_token', refresh_token: c.refreshToken, client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e' });
    expect(sent.headers['user-agent']).toMatch(/^refresher\/\d+\.\d+\.\d+$/);
    expect(r.stderr).toContain('[tick] token refreshed for work-max');
  });

  it('anthropic token: keeps the old refresh token when none comes back', async () => {
    const c = w.anthropic('a1', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { status: 200, body: { access_token: 'sk-ant-oat01-minted-by-fault', expires_in: 3600 } });
    w.secrets.push('sk-ant-oat01-minted-by-fault');
    expect((await tick()).code).toBe(0);
    const doc = w.home.read('a1');
    expect(doc.credentials.refreshToken).toBe(c.refreshToken);
    expect(doc.credentials.accessToken).toBe('sk-ant-oat01-minted-by-fault');
  });

  it('anthropic window: sends the smallest request and stores the NEW reset', async () => {
    w.anthropic('a1', { fields: { rateLimitReset: Date.now() - MIN } });
    const r = await tick();
    expect(r.code).toBe(0);
    const sent = w.sim.requestsTo(SIM_PATHS.messages)[0]!;
    const body = JSON.parse(sent.body);
    expect(body).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 10 });
    expect(body.messages).toHaveLength(1);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers['anthropic-beta']).toBe('oauth-2025-04-20');
    const reset = w.home.read('a1').rateLimitReset;
    expect(reset).toBe(w.sim.state.oauth[0]!.windowResetAt! - (w.sim.state.oauth[0]!.windowResetAt! % 1000));
    expect(reset).toBeGreaterThan(Date.now() + 4 * HOUR);
    expect(r.stderr).toMatch(/\[tick\] window started for a1, resets \d{4}-\d\d-\d\dT/);
  });

  it('anthropic window: 404 for the model falls back to the configured model', async () => {
    w.anthropic('a1', { fields: { rateLimitReset: null } });
    w.sim.fault(SIM_PATHS.messages, { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: 'model' } } });
    expect((await tick()).code).toBe(0);
    const models = w.sim.requestsTo(SIM_PATHS.messages).map((r) => JSON.parse(r.body).model);
    expect(models).toEqual(['claude-haiku-4-5', 'claude-sonnet-4-5']);
  });

  it('anthropic window: a 429 with a reset header stores the reset and is not a failure', async () => {
    w.anthropic('a1', { fields: { rateLimitReset: null } });
    const reset = Math.floor(Date.now() / 1000) + 7200;
    w.sim.fault(SIM_PATHS.messages, { status: 429, headers: { 'anthropic-ratelimit-unified-reset': String(reset), 'retry-after': '7200' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'limit' } } });
    const r = await tick();
    expect(r.code).toBe(0);
    expect(r.doc.actions[0]).toMatchObject({ action: 'window', ok: true });
    expect(w.home.read('a1')).toMatchObject({ rateLimitReset: reset * 1000, failedCount: 0 });
    expect(w.sim.requestsTo(SIM_PATHS.messages)).toHaveLength(1);
  });

  it('anthropic quota: stores fiveHour and sevenDay', async () => {
    w.anthropic('a1', { fields: { quota: null } });
    expect((await tick()).code).toBe(0);
    const q = w.home.read('a1').quota;
    expect(q.fiveHour.utilization).toBe(42);
    expect(q.sevenDay.utilization).toBe(10);
    expect(typeof q.fiveHour.resetsAt).toBe('number');
    expect(q.checkedAt).toBeGreaterThan(Date.now() - MIN);
  });

  it('token first, then window and quota with the NEW access token', async () => {
    w.anthropic('a1', { expiresIn: -HOUR, fields: { rateLimitReset: null, quota: null } });
    const r = await tick();
    expect(r.code).toBe(0);
    expect(r.doc.actions.map((a: any) => a.action)).toEqual(['token', 'window', 'quota']);
    const access = w.home.read('a1').credentials.accessToken;
    expect(w.sim.requestsTo(SIM_PATHS.messages)[0]!.headers.authorization).toBe(`Bearer ${access}`);
  });

  it('codex token: expiresAt from the JWT exp, accountId and email from the claims', async () => {
    const c = w.codex('cx', { expiresIn: -MIN, fields: { credentials: undefined } });
    w.home.writeAccount({ id: 'cx', provider: 'codex', credentials: { accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: Date.now() - MIN }, quota: { checkedAt: Date.now() } });
    const r = await tick();
    expect(r.code).toBe(0);
    const doc = w.home.read('cx');
    const claims = JSON.parse(Buffer.from(doc.credentials.accessToken.split('.')[1], 'base64url').toString());
    expect(doc.credentials.expiresAt).toBe(claims.exp * 1000);
    expect(doc.credentials.accountId).toBe(c.account.accountId);
    expect(doc.credentials.idToken).toMatch(/^ey/);
    expect(doc.email).toBe('cx@example.com');
    expect(JSON.parse(w.sim.requestsTo(SIM_PATHS.codexToken)[0]!.body)).toEqual({ client_id: 'app_EMoamEEZ73f0CkXaXp7hrann', grant_type: 'refresh_token', refresh_token: c.refreshToken });
  });

  it('codex token: refresh_token_reused is permanent', async () => {
    w.codex('cx', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.codexToken, { status: 401, body: { error: { code: 'refresh_token_reused' } } });
    const r = await tick();
    expect(r.code).toBe(1);
    expect(w.home.read('cx')).toMatchObject({ status: 'expired', lastFailure: { reason: expect.stringContaining('needs a new login') } });
  });

  for (const swapped of [false, true]) {
    it(`codex quota: windows named by their length${swapped ? ', also when the service puts the weekly one first' : ''}; rateLimitReset is the five-hour reset`, async () => {
      w.sim.state.codexWindowsSwapped = swapped;
      const c = w.codex('cx', { fields: { quota: null } });
      expect((await tick()).code).toBe(0);
      const doc = w.home.read('cx');
      expect(doc.quota.fiveHour.usedPercent).toBe(12);
      expect(doc.quota.weekly.usedPercent).toBe(30);
      expect(doc.quota.primary).toBeUndefined();
      expect(doc.rateLimitReset).toBe(doc.quota.fiveHour.resetAt);
      expect(w.sim.requestsTo(SIM_PATHS.wham)[0]!.headers['chatgpt-account-id']).toBe(c.account.accountId);
      expect((await w.run(['status'])).stdout).toMatch(/cx .* 5h 12%, wk 30%/);
    });
  }

  it('anthropic usage: every window the service reports is kept, the limits[] array too', async () => {
    w.anthropic('a1', { fields: { quota: null } });
    expect((await tick()).code).toBe(0);
    const q = w.home.read('a1').quota;
    expect(q.fiveHour.utilization).toBe(42);
    expect(Object.keys(q.windows).sort()).toEqual(['extra_usage', 'seven_day_cowork', 'seven_day_oauth_apps', 'seven_day_opus']);
    expect(q.windows.seven_day_opus.utilization).toBe(12);
    expect((await w.run(['status', '--all'])).stdout).toContain('seven_day_opus 12%, seven_day_oauth_apps 3%, extra_usage ?, seven_day_cowork 1%');
  });

  it('grok quota: the current request (auto and heavy, no requestKind), counts with totals and windows', async () => {
    const g = w.grok('grok-1', { fields: { lastUsedAt: Date.now() - 2 * HOUR, quota: { checkedAt: Date.now() - 3 * HOUR } } });
    const r = await tick();
    expect(r.code).toBe(0);
    expect(w.home.read('grok-1').quota).toMatchObject({
      remainingQueries: 95,
      totalQueries: 140,
      windowSizeSeconds: 7200,
      heavyRemainingQueries: 18,
      heavyTotalQueries: 20,
      heavyWindowSizeSeconds: 3600,
    });
    const sent = w.sim.requestsTo(SIM_PATHS.grokRateLimits);
    expect(sent.map((s) => JSON.parse(s.body))).toEqual([{ modelName: 'auto' }, { modelName: 'heavy' }]);
    expect(sent[0]!.headers.cookie).toBe(`sso=${g.sso}; sso-rw=${g.ssoRw}`);
    expect(r.stderr).toContain('quota updated for grok-1: normal 95/140, heavy 18/20');
    expect((await w.run(['status'])).stdout).toContain('normal 95/140, heavy 18/20 per 2h');
  });

  it('grok quota: a missing window means 7200 s; requestKind only when configured; two requests at most, even on a 429', async () => {
    w.sim.state.grokOmitWindow = true;
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n').replace('  grok:\n', '  grok:\n    request_kind: DEFAULT\n'));
    w.grok('g', { fields: { quota: null } });
    expect((await tick()).code).toBe(0);
    expect(w.home.read('g').quota).toMatchObject({ windowSizeSeconds: 7200, heavyWindowSizeSeconds: 7200 });
    expect(JSON.parse(w.sim.requestsTo(SIM_PATHS.grokRateLimits)[0]!.body)).toEqual({ requestKind: 'DEFAULT', modelName: 'auto' });
    w.grok('g2', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow down' } });
    const before = w.sim.requestsTo(SIM_PATHS.grokRateLimits).length;
    expect((await tick('--account', 'g2')).code).toBe(1);
    expect(w.sim.requestsTo(SIM_PATHS.grokRateLimits).length - before).toBe(1); // the 429 is not retried
  });

  it('grok quota: old model names are refused by the simulator, as by the service', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n').replace('  grok:\n', '  grok:\n    normal_model: grok-3\n'));
    w.grok('g', { fields: { quota: null } });
    const r = await tick();
    expect(r.doc.actions).toMatchObject([{ ok: false, failure: 'transient', error: expect.stringContaining('rate-limits: HTTP 400 (Invalid model name)') }]);
  });

  it('grok: a 403 HTML page is the network path, not the account', async () => {
    w.grok('g', { fields: { quota: null } });
    const before = w.home.bytes('g');
    w.sim.fault(SIM_PATHS.grokRateLimits, { status: 403, body: '<!DOCTYPE html><html><body>Attention Required! | Cloudflare</body></html>' });
    const r = await tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions[0]).toMatchObject({ ok: false, failure: 'network' });
    expect(w.home.bytes('g').equals(before)).toBe(true); // failedCount not touched
  });

  it('grok: code 7 "User is blocked" marks the account expired', async () => {
    const g = w.grok('g', { fields: { quota: null } });
    g.blocked = true;
    const r = await tick();
    expect(r.code).toBe(1);
    expect(w.home.read('g')).toMatchObject({ status: 'expired' });
    expect(r.doc.actions[0]).toMatchObject({ ok: false, failure: 'permanent' });
  });

  it('--json alone keeps stderr quiet on success', async () => {
    w.grok('g', { fields: { quota: null } });
    const r = await runCli(w.args('tick', '--json'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(parseJson(r).actions).toHaveLength(1);
  });

  it("an account's endpoint overrides api_base", async () => {
    w.grok('g', { fields: { quota: null, endpoint: 'http://127.0.0.1:9' } });
    const r = await tick();
    expect(r.doc.actions[0]).toMatchObject({ ok: false, failure: 'network', error: expect.stringContaining('127.0.0.1:9') });
    expect(w.sim.requests).toHaveLength(0);
  });
});
