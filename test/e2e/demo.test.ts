import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runCli } from '../support/cli.js';

describe('refresher demo', () => {
  it('runs a real tick against the simulator and cleans up', async () => {
    const r = await runCli(['demo'], { env: { LOG_LEVEL: 'info' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('== status before ==');
    expect(r.stdout).toContain('== status after ==');
    expect(r.stderr).toMatch(/\[tick\] token refreshed for work-max/);
    expect(r.stderr).toMatch(/\[tick\] window started for work-max, resets/);
    expect(r.stderr).toMatch(/\[tick\] quota updated for grok-1: normal 95\/140, heavy 18\/20/);
    expect(r.stderr).toMatch(/\[tick\] 3 accounts refreshed, 0 failed, 1 not due, 1 skipped/);
    const after = r.stdout.split('== status after ==')[1]!;
    expect(after).toMatch(/grok-1\s+grok\s+active\s+-\s+-\s+normal 95\/140, heavy 18\/20 per 2h/);
    expect(after).toMatch(/work-max\s+anthropic\s+active\s+in 7h59m\s+in 4h59m/);
    const home = /temporary home (\S+)/.exec(r.stdout)![1]!;
    expect(existsSync(home)).toBe(false);
  });

  it('piped into head -1: exit 0, no stack trace, and the temporary home is gone', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'refresher-demo-pipe-'));
    try {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" demo | head -1; exit \${PIPESTATUS[0]}`], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^refresher demo: simulator at /);
      expect(r.stderr).not.toContain('EPIPE');
      expect(readdirSync(tmp).filter((n) => n.startsWith('refresher-'))).toEqual([]); // (Node 24 keeps its compile cache there)
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
