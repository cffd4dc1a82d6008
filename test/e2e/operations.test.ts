import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, parseJson, runCli, startCli, waitForStderr } from '../support/cli.js';
import { World } from '../support/fixtures.js';
import { deadPid } from '../support/hostile.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Operations and the first hour (issue 11).
describe('operations', () => {
  let w: World;
  let scratch: string;
  beforeEach(async () => {
    w = await new World().start();
    scratch = mkdtempSync(join(tmpdir(), 'refresher-ops-'));
  });
  afterEach(async () => {
    await w.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('an unbuilt checkout says to build first, with exit 2', () => {
    mkdirSync(join(scratch, 'bin'));
    copyFileSync(BIN, join(scratch, 'bin', 'refresher'));
    const r = spawnSync(process.execPath, [join(scratch, 'bin', 'refresher'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('this checkout is not built; run `npm run build` first');
  });

  it('schedule systemd: units that systemd-analyze accepts; --install never overwrites a different unit without --force', async () => {
    const printed = await runCli(w.args('schedule', 'systemd', '--user', '--every', '5m'));
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^# refresher-tick\.service\n\[Unit\]/);
    expect(printed.stdout).toContain(`Environment=REFRESHER_HOME=${w.home.dir}`);
    expect(printed.stdout).toContain(`ExecStart=${process.execPath} ${BIN} tick`);
    expect(printed.stdout).toMatch(/# refresher-tick\.timer\n[\s\S]*OnCalendar=\*-\*-\* \*:00\/5:00\nPersistent=true\nRandomizedDelaySec=10/);
    expect(printed.stdout).toContain('loginctl enable-linger');
    // a user manager has no network-online.target, and a user unit has no User=
    expect(printed.stdout).not.toContain('network-online.target');
    expect(printed.stdout).not.toContain('User=');
    const dir = join(scratch, 'units');
    const first = await runCli(w.args('schedule', 'systemd', '--install', '--dir', dir));
    expect(first.stdout).toContain(`written: ${dir}/refresher-tick.service`);
    // a system unit runs as the user who made it, not as root on that user's home
    const system = readFileSync(join(dir, 'refresher-tick.service'), 'utf8');
    expect(system).toContain(`\nUser=${userInfo().username}\n`);
    expect(system).toContain('After=network-online.target');
    if (has('systemd-analyze')) {
      const v = spawnSync('systemd-analyze', ['verify', join(dir, 'refresher-tick.service'), join(dir, 'refresher-tick.timer')], { encoding: 'utf8' });
      expect(v.status, v.stderr).toBe(0);
    }
    expect((await runCli(w.args('schedule', 'systemd', '--install', '--dir', dir))).stdout).toContain('unchanged: ');
    const other = await runCli(w.args('schedule', 'systemd', '--install', '--dir', dir, '--every', '2m'));
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('exists and differs; pass --force to replace it');
    expect((await runCli(w.args('schedule', 'systemd', '--install', '--dir', dir, '--every', '2m', '--force'))).code).toBe(0);
    expect((await runCli(w.args('schedule', 'systemd', '--every', '7m'))).code).toBe(2);
  });

  it('schedule systemd --serve: a service systemd-analyze accepts, whose ExecStart serves until SIGTERM and then exits 0', async () => {
    w.anthropic('a1');
    w.home.writeConfig(w.sim.configYaml('serve:\n  port: 0\n'));
    const dir = join(scratch, 'units');
    const r = await runCli(w.args('schedule', 'systemd', '--user', '--serve', '--install', '--dir', dir));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('enable --now refresher-tick.timer refresher-serve.service');
    const unit = readFileSync(join(dir, 'refresher-serve.service'), 'utf8');
    expect(unit).toContain('WantedBy=default.target');
    expect(unit).toContain('Restart=on-failure');
    if (has('systemd-analyze')) {
      const v = spawnSync('systemd-analyze', ['verify', join(dir, 'refresher-serve.service')], { encoding: 'utf8' });
      expect(v.status, v.stderr).toBe(0);
    }
    // Run the unit's own command line with the unit's environment, as systemd would.
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ');
    const env = Object.fromEntries([...unit.matchAll(/^Environment=([^=]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const child = spawn(exec[0]!, exec.slice(1), { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const deadline = Date.now() + 15_000;
    while (!/listening on (http:\/\/\S+)/.test(stderr) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const url = /listening on (http:\/\/\S+)/.exec(stderr)![1]!;
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok', accounts: { total: 1, available: 1 } });
    child.kill('SIGTERM');
    const code = await new Promise((res) => child.on('exit', res));
    expect(code).toBe(0);
    const cron = await runCli(w.args('schedule', 'cron', '--serve'));
    expect(cron.code).toBe(2);
    expect(cron.stderr).toContain('use `refresher schedule systemd --serve`');
  });

  it('schedule cron: the line works under sh -c exactly as cron runs it, with a log directory that does not exist yet', async () => {
    w.grok('g', { fields: { quota: null } });
    const stateHome = join(scratch, 'state-not-there-yet');
    const r = await runCli(w.args('schedule', 'cron'), { env: { XDG_STATE_HOME: stateHome } });
    const line = r.stdout.split('\n')[1]!;
    expect(line).toMatch(/^\* \* \* \* \* /);
    const command = line.split(' ').slice(5).join(' ');
    // cron's environment: almost nothing
    // (never spawnSync here: the simulator answers from this process's event loop)
    const cron = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], { env: { HOME: scratch, PATH: '/usr/bin:/bin', SHELL: '/bin/sh' } });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', (status) => resolve({ status, stdout }));
    });
    expect(cron.status).toBe(0);
    expect(readFileSync(join(stateHome, 'refresher', 'tick.log'), 'utf8')).toMatch(/quota updated for g/);
    expect(cron.stdout).toMatch(/quota updated for g/); // and cron mails it
    expect(w.home.read('g').quota.remainingQueries).toBe(95);
  });

  it('schedule cron --install: adds the line to the crontab, never replaces another without --force', async () => {
    // A stand-in for crontab(1) that keeps the table in a file: a test must not edit this user's real crontab.
    const bin = join(scratch, 'bin');
    mkdirSync(bin);
    const table = join(scratch, 'crontab.txt');
    writeFileSync(table, '# m h dom mon dow command\n0 3 * * * /usr/bin/backup\n');
    writeFileSync(join(bin, 'crontab'), `#!/bin/sh\nif [ "$1" = "-l" ]; then cat ${table}; else cat > ${table}; fi\n`, { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const first = await runCli(w.args('schedule', 'cron', '--install'), { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('written: the crontab line');
    const lines = readFileSync(table, 'utf8').trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['# m h dom mon dow command', '0 3 * * * /usr/bin/backup']);
    expect(lines[2]).toMatch(/^\* \* \* \* \* mkdir -p .* tick 2>&1 \| tee -a /);
    expect((await runCli(w.args('schedule', 'cron', '--install'), { env })).stdout).toContain('unchanged');
    const other = await runCli(w.args('schedule', 'cron', '--install', '--every', '5m'), { env });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('the crontab already runs refresher tick with another line; pass --force to replace it');
    expect((await runCli(w.args('schedule', 'cron', '--install', '--every', '5m', '--force'), { env })).code).toBe(0);
    const after = readFileSync(table, 'utf8').trim().split('\n');
    expect(after).toHaveLength(3);
    expect(after[2]).toMatch(/^\*\/5 \* \* \* \* /);
  });

  it('status --format prometheus: what promtool accepts, written atomically with --output', async () => {
    w.anthropic('a1');
    w.grok('g', { fields: { quota: { checkedAt: Date.now(), remainingQueries: 7, heavyRemainingQueries: 2 } } });
    w.codex('c', { fields: { status: 'expired' } });
    await runCli(w.args('tick'));
    const r = await runCli(w.args('status', '--format', 'prometheus'));
    expect(r.code).toBe(1); // c needs a person
    expect(r.stdout).toContain('refresher_account_state{account="c",provider="codex",state="expired"} 1');
    expect(r.stdout).toContain('refresher_remaining_queries{account="g",provider="grok",model="normal"} 7');
    expect(r.stdout).toMatch(/refresher_token_expiry_timestamp_seconds\{account="a1",provider="anthropic"\} \d+/);
    expect(r.stdout).toMatch(/refresher_last_tick_timestamp_seconds \d+/);
    expect(r.stdout).toContain('refresher_needs_person{account="c",provider="codex"} 1');
    if (has('promtool')) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: r.stdout, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    }
    const file = join(scratch, 'refresher.prom');
    expect((await runCli(w.args('status', '--format', 'prometheus', '--output', file))).stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(r.stdout); // the same document
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it('doctor: every problem with its fix, exit 1; --fix mends modes and dead locks; then all is well', async () => {
    w.grok('g');
    chmodSync(w.home.file('g'), 0o644);
    chmodSync(w.home.dir, 0o755);
    mkdirSync(join(w.home.dir, 'locks', 'g.lock'), { recursive: true });
    writeFileSync(join(w.home.dir, 'locks', 'g.lock', 'owner.json'), JSON.stringify({ host: hostname(), pid: deadPid(), start: null, token: 't', at: 0 }));
    const env = { XDG_CONFIG_HOME: scratch };
    execFileSync(process.execPath, [BIN, '--home', w.home.dir, 'schedule', 'systemd', '--every', '30m', '--install', '--dir', join(scratch, 'systemd', 'user')], { env: { ...process.env, ...env } });
    const r = await runCli(w.args('doctor', '--json'), { env });
    expect(r.code).toBe(1);
    const doc = parseJson(r);
    const bad = Object.fromEntries(doc.checks.filter((c: any) => !c.ok).map((c: any) => [c.name, c.fix]));
    expect(bad).toMatchObject({ 'home mode': `chmod 700 ${w.home.dir}`, 'g.json mode': `chmod 600 ${w.home.file('g')}`, 'lock g.lock': expect.stringContaining('rm -r') });
    expect(doc.checks.find((c: any) => c.name === 'schedule')).toMatchObject({ ok: false, detail: expect.stringContaining('less than twice the period') });
    const fixed = await runCli(w.args('doctor', '--fix', '--offline'), { env: { ...env, LOG_LEVEL: 'info' } });
    expect(fixed.stderr).toContain(`fixed: home mode (chmod 700 ${w.home.dir})`);
    expect(statSync(w.home.file('g')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(w.home.dir, 'locks', 'g.lock'))).toBe(false);
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nrefresh_before_expiry: 1h\n'));
    const net = parseJson(await runCli(w.args('doctor', '--json'), { env }));
    expect(net.checks.filter((c: any) => !c.ok)).toEqual([]);
    expect(net.checks.find((c: any) => c.name.startsWith('reach 127.0.0.1'))).toMatchObject({ ok: true, detail: expect.stringMatching(/clock within/) });
  });

  it('a config.yaml others can write is refused everywhere, and doctor says how to fix it', async () => {
    w.grok('g');
    chmodSync(join(w.home.dir, 'config.yaml'), 0o666);
    const r = await runCli(w.args('status'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`is mode 666: writable by group or others, who could send your refresh tokens elsewhere. Run: chmod 600 ${join(w.home.dir, 'config.yaml')}`);
    expect((await runCli(w.args('tick'))).code).toBe(2);
    const d = parseJson(await runCli(w.args('doctor', '--json', '--offline')));
    expect(d.checks.find((c: any) => c.name === 'config.yaml mode')).toMatchObject({ ok: false, fix: `chmod 600 ${join(w.home.dir, 'config.yaml')}` });
  });

  it('logs: timestamps when piped, none in the journal; --quiet; an unknown LOG_LEVEL is named; control characters escaped', async () => {
    w.grok('g', { fields: { quota: null, label: 'evil\u001b[31mred' } });
    const piped = await runCli(w.args('tick'), { env: { LOG_LEVEL: 'info' } });
    expect(piped.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[tick\] quota updated for g/m);
    const journal = await runCli(w.args('tick', '--dry-run'), { env: { LOG_LEVEL: 'info', JOURNAL_STREAM: '8:1234' } });
    expect(journal.stderr).toMatch(/^\[tick\] dry run/m);
    expect((await runCli(w.args('--quiet', 'tick', '--dry-run'), { env: { LOG_LEVEL: 'info' } })).stderr).toBe('');
    expect((await runCli(w.args('tick', '--dry-run'), { env: { LOG_LEVEL: 'loud' } })).stderr).toContain('warning: LOG_LEVEL=loud is not one of debug, info, warn, error');
    const table = await runCli(w.args('status', '--all'));
    expect(table.stdout).not.toContain('\u001b');
    const list = await runCli(w.args('account', 'list'));
    expect(list.stdout + list.stderr).not.toContain('\u001b');
  });

  it('--json: a usage or config error is also a JSON document on stdout', async () => {
    const r = await runCli(w.args('tick', '--json', '--now', '2030-01-01T00:00:00Z'));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 2, message: expect.stringContaining('--now is only for looking') } });
    const u = await runCli(w.args('status', '--json', '--bogus'));
    expect(u.code).toBe(2);
    expect(JSON.parse(u.stdout).error.code).toBe(2);
  });

  it('demo --keep: the simulator stays up for more commands until Ctrl-C', async () => {
    const h = startCli(['demo', '--keep']);
    const [, home] = await waitForStderr({ stderr: () => h.stdoutSoFar() }, /export REFRESHER_HOME=(\S+)/, 30_000);
    const s = await runCli(['status', '--json'], { env: { REFRESHER_HOME: home } });
    expect(parseJson(s).map((a: any) => a.id)).toContain('work-max');
    const t = await runCli(['refresh', 'team-pro', '--quota', '--json'], { env: { REFRESHER_HOME: home } });
    expect(parseJson(t).actions).toMatchObject([{ action: 'quota', ok: true }]);
    h.child.kill('SIGINT');
    const r = await h.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('simulator stopped');
    rmSync(home!, { recursive: true, force: true });
  });
});
