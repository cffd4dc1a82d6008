import { chmodSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli } from '../support/cli.js';
import { expectNoSecrets, HOUR, MIN, World } from '../support/fixtures.js';

describe('status and tick --dry-run', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  function fixtures() {
    w.anthropic('work-max', { expiresIn: 10 * MIN, fields: { label: 'work', rateLimitReset: Date.now() - MIN } });
    w.codex('cx', { fields: { paused: true } });
    w.grok('grok-1', { fields: { lastUsedAt: Date.now() - 30 * MIN, quota: { checkedAt: Date.now() - HOUR, remainingQueries: 95, heavyRemainingQueries: 18 } } });
    w.home.writeRaw('broken', '');
  }

  it('status --json: every account, what is due next and why, and the broken file as an error row', async () => {
    fixtures();
    const r = await runCli(w.args('status', '--json'));
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
    expect(r.code).toBe(1);
    const rows = parseJson(r);
    const by = Object.fromEntries(rows.map((x: any) => [x.id, x]));
    expect(Object.keys(by).sort()).toEqual(['broken', 'cx', 'grok-1', 'work-max']);
    for (const k of ['id', 'provider', 'status', 'paused', 'autoRefresh', 'failedCount', 'expiresAt', 'rateLimitReset', 'lastUsedAt', 'quota', 'next']) {
      expect(by['work-max']).toHaveProperty(k);
    }
    expect(by['work-max'].next).toMatchObject({ action: 'token', reason: expect.stringMatching(/^token expires in (9|10)m/) });
    expect(by.cx).toMatchObject({ paused: true, next: null, skip: 'paused' });
    expect(by['grok-1'].next).toMatchObject({ action: 'quota', reason: 'quota: 1h after last use' });
    expect(by['grok-1'].quota).toMatchObject({ remainingQueries: 95, heavyRemainingQueries: 18 });
    expect(by.broken).toMatchObject({ status: 'error', error: expect.stringContaining('broken.json: the file is empty') });
  });

  it('status prints a plain table when piped, and --now moves the clock', async () => {
    fixtures();
    const r = await runCli(w.args('status', '--all'));
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+provider\s+state\s+token expires\s+window resets\s+quota\s+last used\s+failures\s+next due\s+proxy\s+priority\s+other windows\s+last failure$/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(240); // a broken file's error does not stretch the table
    expect(r.stdout).toMatch(/grok-1\s+grok\s+active\s+-\s+-\s+normal 95, heavy 18\s+30m ago/);
    expect(r.stdout).toMatch(/cx\s+codex\s+paused/);
    expect(r.stdout).toMatch(/broken\s+\?\s+error\s/);
    expect(r.stdout).toMatch(/\nbroken: .*broken\.json: the file is empty/);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    const later = await runCli(w.args('status', '--now', new Date(Date.now() + 2 * HOUR).toISOString()));
    expect(later.stdout).toMatch(/grok-1 .*now: quota: last used 2h30m ago/);
  });

  it('tick --dry-run plans, sends nothing and writes nothing', async () => {
    fixtures();
    const before = ['work-max', 'cx', 'grok-1', 'broken'].map((id) => w.home.bytes(id));
    const r = await runCli(w.args('tick', '--dry-run', '--json'));
    expectNoSecrets(r.stdout + r.stderr, w.secrets);
    expect(r.code).toBe(1); // the broken file
    const doc = parseJson(r);
    expect(doc.dryRun).toBe(true);
    expect(typeof doc.now).toBe('number');
    expect(doc.actions).toEqual([
      { account: 'work-max', action: 'token', reason: expect.stringMatching(/^token expires in/) },
      { account: 'work-max', action: 'window', reason: 'usage window reset 1m ago' },
    ]);
    expect(doc.skipped).toEqual([{ account: 'cx', reason: 'paused' }]);
    expect(w.sim.requests).toHaveLength(0);
    ['work-max', 'cx', 'grok-1', 'broken'].forEach((id, i) => expect(w.home.bytes(id).equals(before[i]!)).toBe(true));
  });

  it('tick --dry-run --now in the future shows what will be due then', async () => {
    w.grok('grok-1', { fields: { lastUsedAt: Date.now() - 30 * MIN, quota: { checkedAt: Date.now() - HOUR } } });
    const now = Date.now() + HOUR;
    const r = await runCli(w.args('tick', '--dry-run', '--json', '--now', String(now)));
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual({
      now,
      dryRun: true,
      actions: [{ account: 'grok-1', action: 'quota', reason: 'quota: last used 1h30m ago, refreshed 1h after use' }],
      skipped: [],
      errors: [],
      attention: [],
    });
    const human = await runCli(w.args('tick', '--dry-run', '--now', String(now)));
    expect(human.stderr).toContain('[tick] would quota grok-1: quota: last used 1h30m ago');
  });

  it('warns about a loose file mode with the chmod that fixes it', async () => {
    w.grok('g');
    chmodSync(w.home.file('g'), 0o644);
    const r = await runCli(w.args('status'));
    expect(r.stderr).toContain(`chmod 600 ${w.home.file('g')}`);
  });

  it('an invalid config exits 2 and lists every problem', async () => {
    w.home.writeConfig('concurrency: lots\nrefresh_before_expiry: soon\nproviders:\n  anthropic:\n    token_url: nope\n');
    for (const cmd of [['status'], ['tick'], ['tick', '--dry-run']]) {
      const r = await runCli(w.args(...cmd));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('has 3 problems');
      expect(r.stderr).toContain('concurrency: expected a whole number');
      expect(r.stderr).toContain('refresh_before_expiry: expected a duration');
      expect(r.stderr).toContain('providers.anthropic.token_url: not a URL');
    }
  });

  it('usage errors exit 2; --help lists the options with an example', async () => {
    expect((await runCli(['tick', '--bogus'])).code).toBe(2);
    expect((await runCli(w.args('tick', '--now', 'whenever'))).code).toBe(2);
    for (const cmd of ['status', 'tick', 'refresh', 'demo']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/--home <dir>[\s\S]*status[\s\S]*tick[\s\S]*refresh[\s\S]*demo/);
  });

  it('no secret in any output of any command, even when an upstream echoes one back', async () => {
    fixtures();
    const c = w.anthropic('echo', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { status: 400, body: { error: 'invalid_request', error_description: `bad token ${c.refreshToken}` } });
    // the 120-character cut of upstream text falls inside this one: a cut secret must be scrubbed too
    const cut = w.anthropic('echo-cut', { expiresIn: MIN });
    w.sim.fault(SIM_PATHS.anthropicToken, { status: 400, body: { error: 'invalid_request', error_description: `${'pad '.repeat(22)}bad token ${cut.refreshToken}` } });
    const runs = [
      ['status'],
      ['status', '--json'],
      ['status', '--all'],
      ['tick', '--dry-run'],
      ['tick', '--dry-run', '--json'],
      ['tick', '--json'],
      ['refresh', 'grok-1', '--json'],
      ['refresh', 'work-max'],
    ];
    let scrubbed = false;
    for (const args of runs) {
      const r = await runCli(w.args(...args), { env: { LOG_LEVEL: 'debug' } });
      expectNoSecrets(r.stdout + r.stderr, w.secrets);
      scrubbed ||= (r.stdout + r.stderr).includes('bad token ***');
    }
    expect(scrubbed).toBe(true); // the echoed token reached a message and was scrubbed
    expect(w.sim.requestsTo(SIM_PATHS.anthropicToken).length).toBeGreaterThan(0);
  });
});
