import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson } from '../support/cli.js';
import { CLAUDE } from '../support/claude.js';
import { World } from '../support/fixtures.js';


// Window starts under Anthropic's third-party policy (issue 10, part 2).
describe('window starts and the third-party policy', () => {
  let w: World;
  let claudeHome: string;
  beforeEach(async () => {
    w = await new World().start();
    claudeHome = mkdtempSync(join(tmpdir(), 'refresher-claude-home-'));
  });
  afterEach(async () => {
    await w.stop();
    rmSync(claudeHome, { recursive: true, force: true });
  });
  const windowRequests = () => w.sim.requestsTo(SIM_PATHS.messages);

  it('message method: a refusal is recognised, stored, not retried, named for a person; --window on plans it again', async () => {
    const c = w.anthropic('a1', { fields: { rateLimitReset: null } });
    c.account.thirdPartyPolicy = true;
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions).toMatchObject([{ action: 'window', ok: false, failure: 'refused', error: 'window not started: HTTP 400: third-party apps draw from extra usage, not the plan' }]);
    expect(r.stderr).toContain("refused by the provider's policy; not tried again this way until you act");
    const doc = w.home.read('a1');
    expect(doc).toMatchObject({ rateLimitReset: null, window: { method: 'message', reason: expect.stringContaining('extra usage') } });
    expect(doc.failedCount ?? 0).toBe(0);
    expect(doc.status ?? 'active').toBe('active');
    expect(c.account.windowResetAt).toBeNull(); // nothing was started upstream
    // not asked again, every minute or ever, until a person acts; and the person is told
    const again = await w.tick();
    expect(again.doc.actions).toEqual([]);
    expect(windowRequests()).toHaveLength(1);
    expect(again.doc.attention).toMatchObject([{ account: 'a1', reason: expect.stringContaining('refused to start a usage window with the message method') }]);
    const s = await w.run(['status']);
    expect(s.code).toBe(1);
    expect(s.stdout).toMatch(/a1 .*refused \(message\)/);
    // a change of method plans it again (with that method)...
    expect((await w.run(['account', 'set', 'a1', '--window-method', 'claude-cli'])).code).toBe(0);
    expect(parseJson(await w.run(['tick', '--dry-run', '--json'])).actions).toMatchObject([{ account: 'a1', action: 'window' }]);
    expect((await w.run(['account', 'set', 'a1', '--window-method', 'default'])).code).toBe(0);
    expect(parseJson(await w.run(['tick', '--dry-run', '--json'])).actions).toEqual([]);
    // ...and so does --window on
    expect((await w.run(['account', 'set', 'a1', '--window', 'on'])).code).toBe(0);
    const dry = parseJson(await w.run(['tick', '--dry-run', '--json']));
    expect(dry.actions).toMatchObject([{ account: 'a1', action: 'window' }]);
    expect((await w.run(['account', 'set', 'a1', '--window-method', 'carrier-pigeon'])).code).toBe(2);
  });

  it('an answer whose unified headers say overage-in-use is a refusal too, even with a 200', async () => {
    w.anthropic('a1', { fields: { rateLimitReset: null } });
    w.sim.fault(SIM_PATHS.messages, {
      status: 200,
      headers: { 'anthropic-ratelimit-unified-overage-status': 'overage-in-use' },
      body: { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: '4' }] },
    });
    const r = await w.tick();
    expect(r.doc.actions).toMatchObject([{ action: 'window', failure: 'refused', error: expect.stringContaining('overage-in-use') }]);
    expect(w.home.read('a1').rateLimitReset).toBeNull();
  });

  describe('claude-cli method, with the real Claude Code', () => {
    const config = (extra = '') => w.sim.configYaml(`request_delay_ms: 0\n`).replace('  anthropic:\n', `  anthropic:\n    window_method: claude-cli\n    claude_path: ${CLAUDE}\n${extra}`);

    it('starts the window through Claude Code with the account token, then takes the reset from a usage snapshot', async (t) => {
      if (!existsSync(CLAUDE)) return t.skip('@anthropic-ai/claude-code is not installed (npm ci installs it)');
      w.home.writeConfig(config());
      const c = w.anthropic('a1', { fields: { rateLimitReset: null } });
      c.account.thirdPartyPolicy = true;
      const r = await w.run(['tick', '--json'], { env: { HOME: claudeHome } });
      const doc = parseJson(r);
      expect(doc.actions, r.stderr).toMatchObject([{ action: 'window', ok: true, message: expect.stringMatching(/^window started for a1 by Claude Code, resets /) }]);
      const sent = windowRequests();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.headers['user-agent']).toMatch(/^claude-cli\//);
      expect(sent[0]!.headers.authorization).toBe(`Bearer ${c.accessToken}`);
      expect(JSON.parse(sent[0]!.body).model).toBe('claude-haiku-4-5');
      expect(c.account.windowResetAt).not.toBeNull();
      expect(w.home.read('a1').rateLimitReset).toBe(c.account.windowResetAt);
      // for the README: what each method sends
      const claudeBytes = Buffer.byteLength(sent[0]!.body);
      w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n'));
      w.anthropic('a2', { fields: { rateLimitReset: null } });
      await w.tick('--account', 'a2');
      const ours = Buffer.byteLength(windowRequests()[1]!.body);
      console.log(`window request bodies: message method ${ours} bytes; Claude Code ${claudeBytes} bytes`);
      expect(claudeBytes).toBeGreaterThan(ours);
    });

    it('a refusal answered to Claude Code itself is recognised as one', async (t) => {
      if (!existsSync(CLAUDE)) return t.skip('@anthropic-ai/claude-code is not installed (npm ci installs it)');
      w.home.writeConfig(config());
      const c = w.anthropic('a1', { fields: { rateLimitReset: null } });
      c.account.thirdPartyPolicy = 'all';
      const r = await w.run(['tick', '--json'], { env: { HOME: claudeHome } });
      expect(parseJson(r).actions, r.stderr).toMatchObject([{ action: 'window', ok: false, failure: 'refused' }]);
      expect(w.home.read('a1').window).toMatchObject({ method: 'claude-cli' });
    });

    it('a missing binary is an error that says what to install', async () => {
      w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n').replace('  anthropic:\n', '  anthropic:\n    window_method: claude-cli\n    claude_path: /nonexistent/claude\n'));
      w.anthropic('a1', { fields: { rateLimitReset: null } });
      const r = await w.tick();
      expect(r.doc.actions).toMatchObject([{ action: 'window', ok: false, failure: 'transient', error: expect.stringContaining('no Claude Code at "/nonexistent/claude"') }]);
    });
  });
});
