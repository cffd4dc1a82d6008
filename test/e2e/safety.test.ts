import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli, startCli } from '../support/cli.js';
import { expectNoSecrets, MIN, World } from '../support/fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last lines of defence for a rotated refresh token. */
describe('never lose an account', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  async function whileTokenRequestIsHeld(args: string[], during: () => Promise<void>) {
    w.sim.fault(SIM_PATHS.anthropicToken, { delayMs: 800 });
    const h = startCli(w.args(...args), { env: { LOG_LEVEL: 'info' } });
    for (let i = 0; i < 200 && !w.sim.requestsTo(SIM_PATHS.anthropicToken).length; i++) await sleep(10);
    await during();
    const r = await h.done;
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
    return r;
  }

  it('a rotated token that cannot go into the account file goes to a recovery file', async () => {
    const c = w.anthropic('a', { expiresIn: 5 * MIN });
    const r = await whileTokenRequestIsHeld(['tick', '--json'], async () => {
      w.home.writeRaw('a', '{"someone": "edited this badly"'); // an editor, not refresher, breaks the file mid-refresh
    });
    expect(r.code).toBe(1);
    expect(w.home.bytes('a').toString()).toBe('{"someone": "edited this badly"');
    const files = readdirSync(join(w.home.dir, 'recovery'));
    expect(files).toHaveLength(1);
    const saved = JSON.parse(readFileSync(join(w.home.dir, 'recovery', files[0]!), 'utf8'));
    expect(saved.credentials.refreshToken).toBe(c.account.refreshToken);
    expect(r.stderr).toContain(`The new tokens were saved to ${join(w.home.dir, 'recovery', files[0]!)}`);
  });

  it('a linked account whose token was refused adopts the pair the official CLI just wrote', async () => {
    const c = w.anthropic('a', { expiresIn: 5 * MIN });
    const src = join(w.home.dir, 'claude', '.credentials.json');
    mkdirSync(join(w.home.dir, 'claude'));
    writeFileSync(src, JSON.stringify({ claudeAiOauth: { accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: Date.now() + 5 * MIN } }));
    w.home.writeAccount({ ...w.home.read('a'), source: { format: 'claude-credentials', path: src } });
    let fresh: { access_token: string; refresh_token: string } | undefined;
    const r = await whileTokenRequestIsHeld(['tick', '--json'], async () => {
      // Claude Code refreshes the same token first and writes its new pair
      const res = await fetch(`${w.sim.url}${SIM_PATHS.anthropicToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: c.refreshToken, client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e' }),
      });
      fresh = (await res.json()) as typeof fresh;
      w.secrets.push(fresh!.access_token, fresh!.refresh_token);
      writeFileSync(src, JSON.stringify({ claudeAiOauth: { accessToken: fresh!.access_token, refreshToken: fresh!.refresh_token, expiresAt: Date.now() + 8 * 3600_000 } }));
    });
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r).actions[0]).toMatchObject({ action: 'token', ok: true });
    expect(r.stderr).toContain('our token was refused, but');
    const doc = w.home.read('a');
    expect(doc.status ?? 'active').toBe('active');
    expect(doc.credentials.refreshToken).toBe(fresh!.refresh_token);
    // and it is live: a forced refresh with it works
    expect((await runCli(w.args('refresh', 'a', '--token'))).code).toBe(0);
  });
});
