import { chmodSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Simulator, SIM_PATHS } from '../../src/sim/server.js';
import { AccountStore } from '../../src/store/store.js';
import { watchSecrets } from '../support/canary.js';
import { parseJson, runCli } from '../support/cli.js';
import { HOUR, MIN, World } from '../support/fixtures.js';

/** Skips, failures and how they count, retries, and broken files. */
describe('tick: outcomes', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const tick = (...extra: string[]) => w.tick(...extra);

  it('every skip rule, with its reason, and no request sent; who needs a person is said once', async () => {
    const due = { rateLimitReset: null, quota: null };
    w.anthropic('expired-one', { expiresIn: -HOUR, fields: { ...due, status: 'expired' } });
    w.anthropic('paused-one', { expiresIn: -HOUR, fields: { ...due, paused: true } });
    // three failures, the last a minute ago: cooling down for 5 minutes, not skipped for good
    w.anthropic('failing-one', { expiresIn: -HOUR, fields: { ...due, failedCount: 3, lastFailure: { at: Date.now() - MIN, reason: 'token endpoint: HTTP 503' } } });
    w.anthropic('manual-one', { expiresIn: -HOUR, fields: { ...due, autoRefresh: false } });
    w.anthropic('idle-one');
    const r = await tick();
    expect(r.code).toBe(0);
    expect(r.doc.actions).toEqual([]);
    expect(r.doc.skipped).toEqual([
      { account: 'expired-one', reason: 'expired' },
      { account: 'manual-one', reason: 'auto-refresh off' },
      { account: 'paused-one', reason: 'paused' },
    ]);
    expect(r.doc.attention.map((a: any) => a.account)).toEqual(['expired-one', 'failing-one']);
    expect(w.sim.requests).toHaveLength(0);
    // the accounts that need a person are named (cron mails it)...
    expect(r.stderr).toMatch(/warning: \[tick\] 2 accounts need a person: expired-one \(expired.*failing-one \(failed 3 times in a row; last: token endpoint: HTTP 503/);
    // ...and then not again until remind_every has passed: otherwise a cron job prints nothing...
    const quiet = await w.run(['tick']);
    expect(quiet.stderr).toBe('');
    // ...unless asked
    const loud = await w.run(['tick'], { env: { LOG_LEVEL: 'debug' } });
    expect(loud.stderr).toContain('[tick] 0 accounts refreshed, 0 failed, 2 not due, 3 skipped');
  });

  it('invalid_grant marks the account expired, and the next tick does not retry it', async () => {
    w.anthropic('a1', { expiresIn: 5 * MIN, fields: { rateLimitReset: null } });
    w.sim.fault(SIM_PATHS.anthropicToken, { status: 400, body: { error: 'invalid_grant', error_description: 'Refresh token not found or invalid' } });
    const r1 = await tick();
    expect(r1.code).toBe(1);
    expect(r1.doc.actions).toMatchObject([{ action: 'token', ok: false, failure: 'permanent' }]);
    expect(r1.doc.skipped).toEqual([{ account: 'a1', reason: 'window: skipped because token failed' }]);
    const doc = w.home.read('a1');
    expect(doc.status).toBe('expired');
    expect(doc.lastFailure.reason).toContain('needs a new login');
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(1); // a consumed token is never retried
    const r2 = await tick();
    expect(r2.code).toBe(0);
    expect(r2.doc.skipped).toEqual([{ account: 'a1', reason: 'expired' }]);
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(1);
    const st = await runCli(w.args('status'));
    expect(st.stdout).toMatch(/a1\s+anthropic\s+expired/);
  });

  it('a home made with plain mkdir (0755): the mode warning once per remind_every, not every minute', async () => {
    w.grok('g', { fields: { quota: { checkedAt: Date.now() } } });
    chmodSync(w.home.dir, 0o755);
    const first = await w.run(['tick']);
    expect(first.stderr).toContain(`${w.home.dir} is mode 755; others can read it. Run: chmod 700 ${w.home.dir} (or: refresher doctor --fix; said once per remind_every)`);
    for (let i = 0; i < 2; i++) expect((await w.run(['tick'])).stderr).not.toContain('is mode 755');
    // a dry run is someone looking: it always says it
    expect((await w.run(['tick', '--dry-run'])).stderr).toContain('is mode 755');
  });

  it('failures count per run, not per action: two failed actions in one tick are one failure', async () => {
    w.anthropic('a', { fields: { rateLimitReset: null, quota: null } });
    w.sim.fault(SIM_PATHS.messages, { status: 500, times: 5 });
    w.sim.fault(SIM_PATHS.anthropicUsage, { status: 500, times: 5 });
    const r = await tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions.filter((a: any) => !a.ok).length).toBe(2);
    expect(w.home.read('a').failedCount).toBe(1);
  });

  it('a 401 is not retried by default: a dead token answers 401 every time', async () => {
    w.anthropic('a', { fields: { quota: null, credentials: { accessToken: 'sk-ant-oat01-dead-dead-dead-dead', refreshToken: 'sk-ant-ort01-dead-dead-dead-dead', expiresAt: Date.now() + 6 * 3_600_000 } } });
    const r = await tick();
    expect(r.code).toBe(1);
    expect(w.sim.requestsTo(SIM_PATHS.anthropicUsage).map((s) => s.status)).toEqual([401]);
    expect(r.stderr).not.toMatch(/retry 1 in/);
  });

  it('retries a 429 after Retry-After, then succeeds', async () => {
    w.anthropic('a', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.anthropicUsage, { status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow down' } });
    const r = await tick();
    expect(r.code).toBe(0);
    const sent = w.sim.requestsTo(SIM_PATHS.anthropicUsage);
    expect(sent.map((s) => s.status)).toEqual([429, 200]);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(r.stderr).toMatch(/HTTP 429 from 127\.0\.0\.1:\d+; retry 1 in 1000 ms/);
  });

  it('does not retry when Retry-After is longer than max_retry_wait', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nmax_retry_wait: 2s\n'));
    w.grok('g', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { status: 429, headers: { 'retry-after': '3600' }, body: { error: 'slow down' } });
    const r = await tick();
    expect(r.code).toBe(1);
    expect(w.sim.requestsTo(SIM_PATHS.grokRateLimits)).toHaveLength(1);
    expect(w.home.read('g').failedCount).toBe(1);
  });

  it('5xx, 529, timeouts and bad JSON count against the account; the file keeps its credentials', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\ntimeout_ms: 500\n'));
    const c = w.anthropic('a-500', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { status: 503, body: { error: 'unavailable' } });
    const r = await tick('--account', 'a-500');
    expect(r.code).toBe(1);
    const doc = w.home.read('a-500');
    expect(doc).toMatchObject({ failedCount: 1, lastFailure: { reason: 'token endpoint: HTTP 503 unavailable' } });
    expect(doc.status ?? 'active').toBe('active');
    expect(doc.credentials.refreshToken).toBe(c.refreshToken);

    w.anthropic('a-529', { fields: { rateLimitReset: null, failedCount: 1 } });
    w.sim.fault(SIM_PATHS.messages, { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    await tick('--account', 'a-529');
    expect(w.home.read('a-529')).toMatchObject({ failedCount: 2, lastFailure: { reason: 'messages: HTTP 529 (Overloaded)' } });

    w.grok('g-slow', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { delayMs: 1500 });
    await tick('--account', 'g-slow');
    expect(w.home.read('g-slow')).toMatchObject({ failedCount: 1, lastFailure: { reason: expect.stringContaining('within 500 ms') } });

    w.grok('g-huge', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { status: 200, body: 'x'.repeat(5 * 1024 * 1024) });
    await tick('--account', 'g-huge');
    expect(w.home.read('g-huge')).toMatchObject({ failedCount: 1, quota: null, lastFailure: { reason: expect.stringContaining('over 4 MiB') } });

    w.grok('g-junk', { fields: { quota: null } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { status: 200, body: 'not json at all' });
    await tick('--account', 'g-junk');
    expect(w.home.read('g-junk')).toMatchObject({ failedCount: 1, quota: null });
  });

  it('after max_failures the account cools down, then is tried again; a manual refresh can try at once', async () => {
    w.grok('g', { fields: { quota: null, failedCount: 2 } });
    w.sim.fault(SIM_PATHS.grokRateLimits, { status: 500 });
    expect((await tick()).code).toBe(1);
    expect(w.home.read('g').failedCount).toBe(3);
    const cooling = await tick();
    expect(cooling.code).toBe(0);
    expect(cooling.doc.actions).toEqual([]);
    expect(cooling.doc.attention).toMatchObject([{ account: 'g', reason: expect.stringContaining('failed 3 times in a row') }]);
    // five minutes later it is planned again, and says why
    const later = await w.run(['tick', '--dry-run', '--json', '--now', new Date(Date.now() + 6 * MIN).toISOString()]);
    expect(parseJson(later).actions).toEqual([{ account: 'g', action: 'quota', reason: 'retrying after 3 failures; no quota snapshot yet' }]);
    const r = await runCli(w.args('refresh', 'g', '--json'));
    expect(r.code).toBe(0);
    expect(parseJson(r).actions).toMatchObject([{ action: 'quota', ok: true }]);
    expect(w.home.read('g')).toMatchObject({ failedCount: 0, lastFailure: null });
  });

  it('a connection refused is the network path: reported, exit 1, not counted', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n').replace(/token_url: .*\/v1\/oauth\/token/, 'token_url: http://127.0.0.1:9/v1/oauth/token'));
    w.anthropic('a1', { expiresIn: MIN });
    const before = w.home.bytes('a1');
    const r = await tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions[0]).toMatchObject({ ok: false, failure: 'network', error: expect.stringMatching(/cannot reach 127\.0\.0\.1:9: ECONNREFUSED/) });
    expect(w.home.bytes('a1').equals(before)).toBe(true);
    expect(r.stderr).toContain('not counted against the account');
  });

  it('a corrupt file among good ones: named, untouched, exit 1, the others still run', async () => {
    w.grok('good-1', { fields: { quota: null } });
    w.home.writeRaw('broken', '{"id":"broken","provider":"grok", credentials');
    w.grok('good-2', { fields: { quota: null } });
    const before = w.home.bytes('broken');
    const r = await tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions.map((a: any) => [a.account, a.ok]).sort()).toEqual([
      ['good-1', true],
      ['good-2', true],
    ]);
    expect(r.doc.errors).toMatchObject([{ account: 'broken', error: expect.stringContaining(`${w.home.file('broken')}: not valid JSON`) }]);
    expect(r.stderr).toContain(`${w.home.file('broken')}: not valid JSON`);
    expect(w.home.bytes('broken').equals(before)).toBe(true);
    const st = await runCli(w.args('status', '--json'));
    expect(st.code).toBe(1);
    expect(parseJson(st).find((x: any) => x.id === 'broken')).toMatchObject({ status: 'error' });
  });

  it('an account locked by another process is skipped as "in progress elsewhere"', async () => {
    w.grok('g', { fields: { quota: null } });
    const release = await new AccountStore(w.home.dir).tryLock('g');
    try {
      const r = await tick();
      expect(r.code).toBe(0);
      expect(r.doc.skipped).toEqual([{ account: 'g', reason: 'in progress elsewhere' }]);
      expect(w.sim.requests).toHaveLength(0);
    } finally {
      await release!();
    }
  });

  it('spaces requests to one host by request_delay_ms, without making another host wait', async () => {
    const other = new Simulator();
    watchSecrets(() => other.state.issued);
    await other.start();
    try {
      w.home.writeConfig(w.sim.configYaml('request_delay_ms: 400\nconcurrency: 4\n').replace(/token_url: .*\/v1\/oauth\/token/, `token_url: ${other.url}/v1/oauth/token`));
      for (const id of ['g1', 'g2', 'g3']) w.grok(id, { fields: { quota: null } });
      const c = other.state.addOAuth('anthropic', 'x@example.com', Date.now());
      w.home.writeAccount({ id: 'a1', provider: 'anthropic', credentials: { accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: Date.now() }, rateLimitReset: Date.now() + HOUR, quota: { checkedAt: Date.now() } });
      const r = await tick();
      expect(r.code).toBe(0);
      const starts = w.sim.requestsTo(SIM_PATHS.grokRateLimits).map((x) => x.at);
      expect(starts).toHaveLength(6);
      // spacing is applied when a request leaves; arrival adds connection-setup jitter, hence the margin
      for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(300);
      // the other host's request did not queue behind the six grok requests
      expect(other.requestsTo(SIM_PATHS.anthropicToken)[0]!.at).toBeLessThan(starts[2]!);
    } finally {
      await other.stop();
    }
  });

  it('--account limits the run; an unknown id is a usage error (exit 2)', async () => {
    w.grok('g1', { fields: { quota: null } });
    w.grok('g2', { fields: { quota: null } });
    const r = await tick('--account', 'g2');
    expect(r.doc.actions.map((a: any) => a.account)).toEqual(['g2']);
    const bad = await runCli(w.args('tick', '--account', 'nope'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no account "nope"');
  });
});
