import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli, startCli, waitForStderr } from '../support/cli.js';
import { CLAUDE, claudeHi } from '../support/claude.js';
import { World } from '../support/fixtures.js';

describe('refresher connect', () => {
  let w: World;
  let claudeDir: string;
  beforeEach(async () => {
    w = await new World().start();
    claudeDir = join(mkdtempSync(join(tmpdir(), 'refresher-claude-')), '.claude');
  });
  afterEach(async () => {
    await w.stop();
    rmSync(join(claudeDir, '..'), { recursive: true, force: true });
  });
  const env = () => ({ CLAUDE_CONFIG_DIR: claudeDir });
  const settings = () => join(claudeDir, 'settings.json');

  it('claude: writes the setting, warns when serve is not running, reports its status, and --off gives back the exact file', async () => {
    mkdirSync(claudeDir, { recursive: true });
    const original = '{\n  "model": "opus",\n  "env": { "FOO": "1" }\n}\n';
    writeFileSync(settings(), original, { mode: 0o640 });
    const r = await runCli(w.args('connect', 'claude', '--url', 'http://127.0.0.1:9'), { env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('nothing answers http://127.0.0.1:9/health yet: start it with `refresher serve`');
    expect(JSON.parse(readFileSync(settings(), 'utf8'))).toEqual({ model: 'opus', env: { FOO: '1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' } });
    expect(statSync(settings()).mode & 0o777).toBe(0o640);
    // a second connect (to another URL) keeps the memory of the original
    expect((await runCli(w.args('connect', 'claude', '--url', 'http://127.0.0.1:10'), { env: env() })).code).toBe(0);
    const st = parseJson(await runCli(w.args('connect', 'claude', '--status', '--json'), { env: env() }));
    expect(st).toMatchObject({ mode: 'refresher', url: 'http://127.0.0.1:10', serving: false });
    expect((await runCli(w.args('connect', 'claude', '--off'), { env: env() })).code).toBe(0);
    expect(readFileSync(settings(), 'utf8')).toBe(original);
    expect(parseJson(await runCli(w.args('connect', 'claude', '--status', '--json'), { env: env() })).mode).toBe('direct');
  });

  it('claude: a missing file is created 0600 in a 0700 directory, and removed again; an invalid one is refused untouched', async () => {
    expect((await runCli(w.args('connect', 'claude'), { env: env() })).code).toBe(0);
    expect(statSync(settings()).mode & 0o777).toBe(0o600);
    expect(statSync(claudeDir).mode & 0o777).toBe(0o700);
    expect((await runCli(w.args('connect', 'claude', '--off'), { env: env() })).code).toBe(0);
    expect(existsSync(settings())).toBe(false);
    writeFileSync(settings(), '{"model": ');
    const bad = await runCli(w.args('connect', 'claude'), { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${settings()} is not valid JSON; refresher leaves it as it is`);
    expect(readFileSync(settings(), 'utf8')).toBe('{"model": ');
  });

  it('codex: prints the config line, edits nothing', async () => {
    const r = await runCli(w.args('connect', 'codex'));
    expect(r.stdout).toContain('chatgpt_base_url = "http://127.0.0.1:8787/codex"');
  });

  it('with the real Claude Code: connect, then `claude -p hi` reaches the simulator through serve with the account token; --off restores the file', async (t) => {
    if (!existsSync(CLAUDE)) return t.skip('@anthropic-ai/claude-code is not installed (npm ci installs it)');
    const c = w.anthropic('a1');
    mkdirSync(claudeDir, { recursive: true });
    const original = '{\n  "includeCoAuthoredBy": false\n}\n';
    writeFileSync(settings(), original);
    const s = startCli(w.args('serve', '--port', '0'), { env: { LOG_LEVEL: 'info' } });
    const [, url] = await waitForStderr(s, /listening on (http:\/\/\S+)/, 15_000);
    try {
      const on = await runCli(w.args('connect', 'claude', '--url', url!), { env: env() });
      expect(on.stderr).not.toContain('nothing answers');
      expect(parseJson(await runCli(w.args('connect', 'claude', '--status', '--json'), { env: env() }))).toMatchObject({ mode: 'refresher', serving: true });
      // no ANTHROPIC_BASE_URL here: Claude Code takes it from the settings that connect wrote
      const out = await claudeHi({ ANTHROPIC_BASE_URL: undefined, HOME: join(claudeDir, '..'), CLAUDE_CONFIG_DIR: claudeDir, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-placeholder-for-connect-0' });
      expect(out.code).toBe(0);
      expect(out.stdout.trim()).toBe('4');
      expect(w.sim.requestsTo(SIM_PATHS.messages)[0]!.headers.authorization).toBe(`Bearer ${c.accessToken}`);
      expect((await runCli(w.args('connect', 'claude', '--off'), { env: env() })).code).toBe(0);
      expect(readFileSync(settings(), 'utf8')).toBe(original);
    } finally {
      s.child.kill('SIGTERM');
      await s.done;
    }
  });
});
