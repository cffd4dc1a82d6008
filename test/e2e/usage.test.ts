import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { World } from '../support/fixtures.js';

/** What a new user sees when they get a command wrong, or ask for help. */
describe('usage errors and help', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  it('a usage error is one line in our style and a pointer to --help (exit 2), not the whole help', async () => {
    for (const args of [['tick', '--bogus'], ['account', 'add'], ['connect']]) {
      const r = await runCli(w.args(...args));
      expect(r.code, args.join(' ')).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^refresher: (unknown option '--bogus'|missing required argument)/);
      expect(lines[1]).toBe('(run it with --help for its usage)');
    }
  });

  it('subcommand help lists the global options, --now says it is for looking, account add shows the stdin formats, demo shows --keep', async () => {
    const tick = await runCli(['tick', '--help']);
    expect(tick.stdout).toMatch(/Global Options:[\s\S]*--home <dir>[\s\S]*--quiet/);
    expect(tick.stdout).toMatch(/--now <time>[\s\S]*with --dry-run/);
    const add = await runCli(['account', 'add', '--help']);
    expect(add.stdout).toContain('What goes on stdin (or in --secrets-file), never on the command line:');
    expect(add.stdout).toMatch(/grok +a cookie line "sso=…; sso-rw=…"/);
    expect((await runCli(['demo', '--help'])).stdout).toContain('--keep');
  });

  it('a setup token alone, as `claude setup-token` prints it, is taken with --setup-token, and without it the message says so', async () => {
    const token = 'sk-ant-oat01-' + 'x'.repeat(40);
    w.secrets.push(token);
    const without = await w.run(['account', 'add', 'anthropic', '--name', 'ci'], { input: token + '\n' });
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('add it with --setup-token');
    const r = await w.run(['account', 'add', 'anthropic', '--name', 'ci', '--setup-token'], { input: token + '\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(w.home.read('ci')).toMatchObject({ setupToken: true, credentials: { accessToken: token, refreshToken: '' } });
  });

  it('a setup token the upstream refuses (401) is expired once, its expiry kept, and the fix is a new setup token', async () => {
    const token = 'sk-ant-oat01-' + 'y'.repeat(40);
    w.secrets.push(token);
    const expiresAt = Date.now() + 200 * 86_400_000;
    w.home.writeAccount({ id: 'ci', provider: 'anthropic', setupToken: true, credentials: { accessToken: token, refreshToken: '', expiresAt }, rateLimitReset: null, quota: { checkedAt: Date.now() } });
    const t1 = await w.tick();
    expect(t1.code).toBe(1);
    expect(w.home.read('ci')).toMatchObject({ status: 'expired', credentials: { expiresAt } });
    expect(w.home.read('ci').failedCount ?? 0).toBe(0);
    expect(t1.doc.attention).toMatchObject([{ account: 'ci', kind: 'expired', fix: 'claude setup-token | refresher account add anthropic --name ci --setup-token --force' }]);
    const t2 = await w.tick();
    expect(t2.code).toBe(0);
    expect(w.home.read('ci').credentials.expiresAt).toBe(expiresAt);
  });
});
