import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CODEX_CLI_PATHS } from '../../src/sim/codex-cli.js';
import { CODEX_RESPONSES_PATH } from '../../src/sim/codex-responses.js';
import { runCli } from '../support/cli.js';
import { CODEX, codexExec } from '../support/codex.js';
import { startServe, World } from '../support/fixtures.js';
import { until } from '../support/hostile.js';

/**
 * The real Codex CLI (`codex exec`) through serve to the simulator, configured by `refresher connect codex`:
 * the CLI's own login is in its auth.json (ChatGPT mode, as `codex login` writes it); what goes upstream must
 * carry the pool account's credentials and never the CLI's own.
 */
describe.skipIf(!CODEX)('the real Codex CLI through serve', () => {
  let w: World;
  let dir: string;
  let own: ReturnType<World['sim']['state']['addOAuth']>;
  const codexHome = () => join(dir, '.codex');
  beforeEach(async () => {
    w = await new World().start('request_delay_ms: 0\n');
    dir = mkdtempSync(join(tmpdir(), 'refresher-codex-'));
    mkdirSync(codexHome(), { mode: 0o700 });
    // the CLI's own ChatGPT login: a real account of the simulator, but not one refresher serves
    own = w.sim.state.addOAuth('codex', 'me@example.com', Date.now());
    w.secrets.push(own.accessToken, own.refreshToken, own.idToken);
    writeFileSync(join(codexHome(), 'auth.json'), JSON.stringify({ OPENAI_API_KEY: null, tokens: { id_token: own.idToken, access_token: own.accessToken, refresh_token: own.refreshToken, account_id: own.account.accountId }, last_refresh: new Date().toISOString() }), { mode: 0o600 });
  });
  afterEach(async () => {
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({ CODEX_HOME: codexHome() });

  it('after connect codex, a turn and every start-up request go through serve with the pool account; the answer is printed; --off restores the file', async () => {
    const pool = w.codex('pool-1', { fields: { lastUsedAt: null } });
    const original = '# my settings\nmodel_reasoning_effort = "low"\n\n[tui]\nnotifications = false\n';
    writeFileSync(join(codexHome(), 'config.toml'), original);
    const s = await startServe(w);
    try {
      expect((await runCli(w.args('connect', 'codex', '--url', s.url), { env: env() })).code).toBe(0);
      const r = await codexExec(codexHome(), 'say hi');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('hi from codex');
      const upstream = w.sim.requests.filter((q) => q.path.startsWith('/backend-api/'));
      expect(upstream.map((q) => q.path)).toEqual(expect.arrayContaining([CODEX_CLI_PATHS.accountsCheck, CODEX_CLI_PATHS.mcp, CODEX_CLI_PATHS.analytics, CODEX_RESPONSES_PATH]));
      for (const q of upstream) {
        expect(q.headers.authorization, q.path).toBe(`Bearer ${pool.accessToken}`);
        expect(q.headers['chatgpt-account-id'], q.path).toBe(pool.account.accountId);
      }
      expect(w.sim.state.codexAnalyticsEvents).toBeGreaterThan(0); // the CLI's analytics went through serve too
      const turn = w.sim.state.codexTurns.at(-1);
      expect(turn.input.at(-1)).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'say hi' }] });
      // The start-up requests (no quota headers) may be written a second before the turn's, so wait for the
      // quota the turn's answer carried, not for the first recorded use.
      await until(() => w.home.read('pool-1').quota?.fiveHour?.usedPercent !== undefined, 5000, 'the recorded quota');
      expect(w.home.read('pool-1').lastUsedAt).not.toBeNull();
      expect(w.home.read('pool-1').quota.fiveHour.usedPercent).toBe(12);
      expect((await runCli(w.args('connect', 'codex', '--off'), { env: env() })).code).toBe(0);
      expect(readFileSync(join(codexHome(), 'config.toml'), 'utf8')).toBe(original);
    } finally {
      const out = await s.stop();
      expect(out.stderr).toMatch(/\[serve\] POST \/codex\/codex\/responses pool-1 200 \d+ms \d+B/);
    }
  });

  it('a usage limit on the first account moves the turn to the second, and the first cools down to the reset it names', async () => {
    w.codex('pool-1', { fields: { priority: 1 } });
    const second = w.codex('pool-2', { fields: { priority: 2 } });
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    w.sim.fault(CODEX_RESPONSES_PATH, { status: 429, body: { error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_at: resetsAt } } });
    const s = await startServe(w);
    try {
      await runCli(w.args('connect', 'codex', '--url', s.url), { env: env() });
      const r = await codexExec(codexHome(), 'say hi');
      expect(r.stdout.trim()).toBe('hi from codex');
      const turns = w.sim.requestsTo(CODEX_RESPONSES_PATH);
      expect(turns.map((q) => q.status)).toEqual([429, 200]);
      expect(turns[1]!.headers.authorization).toBe(`Bearer ${second.accessToken}`);
      await until(() => (w.home.read('pool-1').cooldownUntil ?? 0) > 0, 5000, 'the cooldown on disk');
      expect(Math.abs(w.home.read('pool-1').cooldownUntil - resetsAt * 1000)).toBeLessThan(2000);
    } finally {
      await s.stop();
    }
  });

  it('the base-URL form instead (openai_base_url): the turn over a WebSocket through the tunnel, and over HTTPS with zstd bodies when the upstream refuses the upgrade', async () => {
    const pool = w.codex('pool-1');
    const s = await startServe(w);
    try {
      writeFileSync(join(codexHome(), 'config.toml'), `chatgpt_base_url = "${s.url}/codex"\nopenai_base_url = "${s.url}/codex/codex"\n`);
      const ws = await codexExec(codexHome(), 'say hi');
      expect(ws.stdout.trim()).toBe('hi from codex');
      const upgrades = w.sim.requestsTo(CODEX_RESPONSES_PATH).filter((q) => q.method === 'GET');
      expect(upgrades.length).toBeGreaterThan(0);
      expect(upgrades.every((q) => q.status === 101 && q.headers.authorization === `Bearer ${pool.accessToken}`)).toBe(true);
      w.sim.state.codexWebSocketRefusal = 426;
      w.sim.requests.length = 0;
      const https = await codexExec(codexHome(), 'say hi');
      expect(https.stdout.trim()).toBe('hi from codex');
      const posts = w.sim.requestsTo(CODEX_RESPONSES_PATH).filter((q) => q.method === 'POST');
      expect(posts.map((q) => [q.status, q.headers['content-encoding']])).toEqual([[200, 'zstd']]);
      // the CLI fell back after one refusal: serve passed the 426 on instead of a 502 it would retry
      expect(w.sim.requestsTo(CODEX_RESPONSES_PATH).filter((q) => q.method === 'GET').map((q) => q.status)).toEqual([426]);
    } finally {
      await s.stop();
    }
  });
});
