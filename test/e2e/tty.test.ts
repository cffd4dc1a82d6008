import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { World } from '../support/fixtures.js';

/**
 * The CLI on a real terminal: util-linux `script` gives it a pseudo-terminal, and the test types into it
 * after the prompt appears. What the terminal shows is everything the user would see.
 */
function onTerminal(args: string[], answer: { after: string; type: string }, env: Record<string, string> = {}): Promise<{ code: number | null; screen: string }> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  let screen = '';
  let typed = false;
  const on = (d: Buffer) => {
    screen += d;
    if (!typed && screen.includes(answer.after)) {
      typed = true;
      setTimeout(() => child.stdin.write(answer.type), 100);
    }
  };
  child.stdout.on('data', on);
  child.stderr.on('data', on);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

describe('on a terminal', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  it('account add reads the secret without echo', async () => {
    const g = w.sim.state.addGrok();
    const r = await onTerminal(w.args('account', 'add', 'grok', '--name', 'g'), { after: '(hidden)', type: `sso=${g.sso}; sso-rw=${g.ssoRw}\r` });
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain('added grok account g');
    expect(r.screen).not.toContain(g.sso);
    expect(r.screen).not.toContain(g.ssoRw);
    expect(w.home.read('g').credentials).toEqual({ sso: g.sso, ssoRw: g.ssoRw });
  });

  it('account remove asks, and only "y" removes', async () => {
    w.grok('g');
    const no = await onTerminal(w.args('account', 'remove', 'g'), { after: '[y/N]', type: 'n\r' });
    expect(no.code).toBe(0);
    expect(no.screen).toContain('not removed');
    expect(existsSync(w.home.file('g'))).toBe(true);
    const yes = await onTerminal(w.args('account', 'remove', 'g'), { after: '[y/N]', type: 'y\r' });
    expect(yes.code).toBe(0);
    expect(existsSync(w.home.file('g'))).toBe(false);
  });

  it('an idle tick says so on a terminal (and nothing under cron)', async () => {
    w.grok('g');
    // the first tick plans in full; the second is answered from the plan cache by the fast path
    for (const run of [1, 2]) {
      const r = await onTerminal(w.args('tick'), { after: 'never', type: '' });
      expect(r.code, `run ${run}`).toBe(0);
      expect(r.screen, `run ${run}`).toContain('[tick] 0 accounts refreshed, 0 failed, 1 not due');
      expect(r.screen, 'a terminal needs no timestamps').not.toMatch(/\d{4}-\d\d-\d\dT\d\d:/);
    }
    expect(existsSync(join(w.home.dir, 'cache', 'plan.json'))).toBe(true);
    const piped = await runCli(w.args('tick'), { env: { LOG_LEVEL: 'info' } });
    expect(piped.code).toBe(0);
    expect(piped.stderr, 'nothing under cron, even at LOG_LEVEL=info').toBe('');
  });

  it('status draws a table on a terminal', async () => {
    w.grok('g', { fields: { quota: { checkedAt: Date.now(), remainingQueries: 95, heavyRemainingQueries: 18 } } });
    const r = await onTerminal(w.args('status'), { after: 'never', type: '' });
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(/┌.*┐/);
    expect(r.screen).toMatch(/│ g\s+│ grok\s+│ active/);
    expect(r.screen).not.toMatch(/\x1b\[3\dm/); // NO_COLOR
  });

  it('status fits an 80-column terminal, dropping the least needed columns and saying so; --wide shows them all', async () => {
    w.anthropic('a-long-account-name', { fields: { lastFailure: { at: Date.now(), reason: 'x'.repeat(60) }, quota: { checkedAt: Date.now(), fiveHour: { utilization: 12, resetsAt: Date.now() + 3_600_000 }, sevenDay: { utilization: 30, resetsAt: Date.now() + 86_400_000 } } } });
    const fit = await onTerminal(w.args('status', '--all'), { after: 'never', type: '' }, { COLUMNS: '80' });
    const lines = fit.screen.split(/\r?\n/).filter((l) => /[┌│└]/.test(l));
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(fit.screen).toMatch(/\(hidden to fit 80 columns: .*other windows, last failure; --wide shows every column\)/);
    expect(fit.screen).toMatch(/│ a-long-account-name\s+│/);
    const wide = await onTerminal(w.args('status', '--all', '--wide'), { after: 'never', type: '' }, { COLUMNS: '80' });
    expect(wide.screen).toContain('last failure');
    expect(wide.screen).not.toContain('hidden to fit');
  });
});
