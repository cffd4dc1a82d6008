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

  const codexHome = () => join(claudeDir, '..', '.codex');
  const codexEnv = () => ({ CODEX_HOME: codexHome() });
  const toml = () => join(codexHome(), 'config.toml');

  it('codex: edits config.toml keeping every other line and its mode, warns about the gateway it replaces, and --off gives back the exact file', async () => {
    mkdirSync(codexHome(), { recursive: true });
    const original = '# mine\nmodel = "gpt-5.5"\nchatgpt_base_url = "https://gw.example/chatgpt"\n\n[mcp_servers.docs]\ncommand = "npx"\n';
    writeFileSync(toml(), original, { mode: 0o640 });
    const r = await runCli(w.args('connect', 'codex', '--url', 'http://127.0.0.1:9'), { env: codexEnv() });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${toml()}: chatgpt_base_url was https://gw.example/chatgpt; refresher replaces it while connected`);
    expect(r.stderr).toContain('nothing answers http://127.0.0.1:9/health yet');
    const text = readFileSync(toml(), 'utf8');
    expect(text).toContain('# mine\nmodel = "gpt-5.5"\nchatgpt_base_url = "http://127.0.0.1:9/codex"\n');
    expect(text).toContain('[mcp_servers.docs]\ncommand = "npx"\n');
    expect(text).toContain('model_provider = "refresher"');
    expect(text).toContain('[model_providers.refresher]\nname = "refresher serve"\nbase_url = "http://127.0.0.1:9/codex/codex"\nwire_api = "responses"\nrequires_openai_auth = true\n');
    expect(statSync(toml()).mode & 0o777).toBe(0o640);
    // a second connect (another URL) keeps the memory of the original, and does not warn about its own URL
    const again = await runCli(w.args('connect', 'codex', '--url', 'http://127.0.0.1:10'), { env: codexEnv() });
    expect(again.stderr).not.toContain('replaces it');
    expect(parseJson(await runCli(w.args('connect', 'codex', '--status', '--json'), { env: codexEnv() }))).toMatchObject({ mode: 'refresher', url: 'http://127.0.0.1:10/codex/codex', serving: false });
    const off = await runCli(w.args('connect', 'codex', '--off'), { env: codexEnv() });
    expect(off.stdout).toContain('restored byte for byte. Now elsewhere: chatgpt_base_url = https://gw.example/chatgpt');
    expect(readFileSync(toml(), 'utf8')).toBe(original);
    expect((await runCli(w.args('connect', 'codex', '--off'), { env: codexEnv() })).stdout).toContain('nothing to undo');
  });

  it('codex: a missing file is created 0600 in a 0700 directory and removed again; one that is not TOML is refused untouched', async () => {
    expect((await runCli(w.args('connect', 'codex'), { env: codexEnv() })).code).toBe(0);
    expect(statSync(toml()).mode & 0o777).toBe(0o600);
    expect(statSync(codexHome()).mode & 0o777).toBe(0o700);
    expect(parseJson(await runCli(w.args('connect', 'codex', '--status', '--json'), { env: codexEnv() })).mode).toBe('refresher');
    const off = await runCli(w.args('connect', 'codex', '--off'), { env: codexEnv() });
    expect(off.stdout).toContain('removed (refresher had created it). Now');
    expect(existsSync(toml())).toBe(false);
    expect(parseJson(await runCli(w.args('connect', 'codex', '--status', '--json'), { env: codexEnv() })).mode).toBe('direct');
    writeFileSync(toml(), 'model = "o3"\n[tui\n');
    const bad = await runCli(w.args('connect', 'codex'), { env: codexEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${toml()} line 2 is not valid TOML`);
    expect(readFileSync(toml(), 'utf8')).toBe('model = "o3"\n[tui\n');
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
