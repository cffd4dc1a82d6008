import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { canary } from '../support/canary.js';
import { MIN, World } from '../support/fixtures.js';

// Item 12: no secret fragments either. (Every CLI run of every test is also a canary check: see
// test/support/canary.ts.)
describe('hardening: secret fragments', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  it('a proxy URL that does not parse is never printed with its password: config and account files', async () => {
    const password = 'pw-Zq81hXvT0mKe';
    canary(password);
    w.home.writeConfig(w.sim.configYaml(`request_delay_ms: 0\nproxy_url: "http://me:${password}@[::bad"\n`));
    const cfg = await w.run(['status']);
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toMatch(/proxy_url: not a URL \(got "http:\/\/me:\*\*\*@\[::bad"\)/);
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n'));
    w.grok('g', { fields: { proxy: `socks5://me:${password}@bad host:1080` } });
    const acc = await w.run(['tick']);
    expect(acc.code).toBe(2);
    expect(acc.stderr).toContain('g.json: proxy: not a URL (got "socks5://me:***@bad host:1080")');
  });

  it('a file that is not JSON is named, never quoted (its first characters may be a token)', async () => {
    const token = 'sk-ant-ort01-Hx71mQz0Lw9pR2vB5nT8';
    canary(token);
    w.home.writeRaw('raw', `${token}\n`);
    const r = await w.run(['status', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)[0].error).toMatch(/raw\.json: not valid JSON; fix or remove the file/);
  });

  it('an upstream that echoes a token back, cut anywhere by the 120-character limit, leaks no fragment', async () => {
    for (let pad = 90; pad <= 110; pad += 5) {
      const c = w.anthropic(`echo-${pad}`, { expiresIn: MIN });
      w.sim.fault(SIM_PATHS.anthropicToken, { status: 400, body: { error: 'invalid_request', error_description: `${'.'.repeat(pad)} ${c.refreshToken}` } });
    }
    const r = await w.tick();
    expect(r.code).toBe(1);
    expect(r.doc.actions).toHaveLength(5);
    // every run of the CLI is checked for any 12 characters of any secret by the canary in runCli
  });
});
