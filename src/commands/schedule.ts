import { writeOut } from '../log.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_FAILED, EXIT_OK, usageError } from '../errors.js';
import { resolveHome } from '../store/home.js';
import { parseDuration } from '../util/time.js';
import type { GlobalOptions } from './context.js';

/**
 * `refresher schedule systemd|cron`: the units or the crontab line that run `tick` (and, with systemd
 * `--serve`, the service that keeps `serve` running), with absolute paths to
 * node, this script and the home (a timer or cron has none of the shell's PATH or environment). Printed under
 * a comment naming each file, so the output can be saved as it is; `--install` writes them, never over a
 * different one without `--force`, and says what it wrote.
 */
export interface ScheduleOptions {
  every?: string;
  user?: boolean;
  install?: boolean;
  force?: boolean;
  /** where the systemd units go (default: /etc/systemd/system, or ~/.config/systemd/user with --user) */
  dir?: string;
  /** systemd: also a service that keeps `refresher serve` running */
  serve?: boolean;
}

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/refresher');
const q = (s: string) => (/^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** `1m`, `5m`, `1h`: whole minutes that divide an hour, or whole hours that divide a day. */
export function period(every: string): { minutes: number; calendar: string; cron: string } {
  const ms = parseDuration(every);
  const m = ms === null ? NaN : ms / 60_000;
  if (Number.isInteger(m) && m >= 1 && m < 60 && 60 % m === 0) {
    return { minutes: m, calendar: m === 1 ? '*-*-* *:*:00' : `*-*-* *:00/${m}:00`, cron: m === 1 ? '* * * * *' : `*/${m} * * * *` };
  }
  const h = m / 60;
  if (Number.isInteger(h) && h >= 1 && 24 % h === 0) {
    return { minutes: m, calendar: h === 1 ? '*-*-* *:00:00' : `*-*-* 00/${h}:00:00`, cron: h === 1 ? '0 * * * *' : `0 */${h} * * *` };
  }
  throw usageError(`--every ${every}: use whole minutes that divide an hour (1m, 2m, 5m, 10m, 15m, 30m) or hours that divide a day (1h, 2h, …)`);
}

/** A unit file from its sections, in order: `[Name]`, its lines, a blank line. */
const unitFile = (sections: [string, string[]][]) => sections.map(([name, lines]) => [`[${name}]`, ...lines, ''].join('\n')).join('\n');

/** What the services share: after the network, REFRESHER_HOME, node and this script by absolute path. */
// A system unit runs as the user who made it (not root on that user's home); a user manager has no
// network-online.target, so user units do not ask for it.
const serviceOf = (what: string, home: string, command: string, type: string, more: string[], user: boolean): [string, string[]][] => [
  ['Unit', [`Description=refresher ${command}: ${what}`, ...(user ? [] : ['After=network-online.target', 'Wants=network-online.target'])]],
  ['Service', [`Type=${type}`, ...(user ? [] : [`User=${userInfo().username}`]), `Environment=REFRESHER_HOME=${home}`, `ExecStart=${process.execPath} ${SCRIPT} ${command}`, ...more]],
];

export function systemdUnits(home: string, every: string, user: boolean): { name: string; text: string }[] {
  const p = period(every);
  // tick finishes what is in flight on SIGTERM; give it the time its budget allows.
  const service = serviceOf('keep LLM subscription accounts usable', home, 'tick', 'oneshot', ['TimeoutStopSec=60'], user);
  const timer: [string, string[]][] = [
    ['Unit', [`Description=Run refresher tick every ${every}`]],
    // Missed runs (the machine was off or asleep) run at once on the next boot or wake.
    ['Timer', [`OnCalendar=${p.calendar}`, 'Persistent=true', 'RandomizedDelaySec=10', 'AccuracySec=1s']],
    ['Install', ['WantedBy=timers.target']],
  ];
  return [
    { name: 'refresher-tick.service', text: unitFile(service) },
    { name: 'refresher-tick.timer', text: unitFile(timer) },
  ];
}

/** A service that keeps `refresher serve` running: restarted if it fails, given the time to finish its streams. */
export function serveUnit(home: string, user: boolean): { name: string; text: string } {
  // serve lets the streams in flight finish for up to 10 s after SIGTERM, then writes what it learned.
  const service = serviceOf('a local proxy over the LLM subscription accounts', home, 'serve', 'simple', ['Restart=on-failure', 'RestartSec=5', 'TimeoutStopSec=20'], user);
  return { name: 'refresher-serve.service', text: unitFile([...service, ['Install', [`WantedBy=${user ? 'default.target' : 'multi-user.target'}`]]]) };
}

/** The crontab line. Output goes both to cron's mail (so a person hears) and to a log whose directory it makes. */
export function cronLine(home: string, every: string): string {
  const p = period(every);
  const logDir = join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'refresher');
  const cmd = `mkdir -p ${q(logDir)} && REFRESHER_HOME=${q(home)} ${q(process.execPath)} ${q(SCRIPT)} tick 2>&1 | tee -a ${q(join(logDir, 'tick.log'))}`;
  return `${p.cron} ${cmd}`;
}

function writeUnit(path: string, text: string, force: boolean): 'written' | 'unchanged' {
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    if (old === text) return 'unchanged';
    if (!force) throw usageError(`${path} exists and differs; pass --force to replace it`);
  }
  mkdirSync(dirname(path), { recursive: true });
  // Unit files are not secret: 0644, as systemd expects; written beside the old one, then renamed.
  writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
  return 'written';
}

export async function schedule(g: GlobalOptions, kind: string, o: ScheduleOptions): Promise<number> {
  const home = resolveHome(g.home);
  const every = o.every ?? '1m';
  const out = (s: string) => writeOut(s + '\n');
  if (kind === 'systemd') {
    const units = [...systemdUnits(home, every, !!o.user), ...(o.serve ? [serveUnit(home, !!o.user)] : [])];
    const enable = o.serve ? 'refresher-tick.timer refresher-serve.service' : 'refresher-tick.timer';
    const dir = o.dir ?? (o.user ? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'systemd', 'user') : '/etc/systemd/system');
    const ctl = o.user ? 'systemctl --user' : 'systemctl';
    if (!o.install) {
      for (const u of units) out(`# ${u.name}\n${u.text}`);
      out(`# then: ${ctl} daemon-reload && ${ctl} enable --now ${enable}`);
      if (o.user) out(`# user timers stop at logout unless lingering is on: loginctl enable-linger ${process.env.USER ?? '$USER'}`);
      return EXIT_OK;
    }
    for (const u of units) out(`${writeUnit(join(dir, u.name), u.text, !!o.force)}: ${join(dir, u.name)}`);
    out(`now run: ${ctl} daemon-reload && ${ctl} enable --now ${enable}`);
    if (o.user) out(`and, so that the timer runs when you are logged out: loginctl enable-linger ${process.env.USER ?? '$USER'}`);
    return EXIT_OK;
  }
  if (kind === 'cron') {
    if (o.serve) throw usageError('--serve: serve runs for as long as it is needed, which cron cannot look after; use `refresher schedule systemd --serve`');
    const line = cronLine(home, every);
    if (!o.install) {
      out('# crontab line (crontab -e)');
      out(line);
      return EXIT_OK;
    }
    const current = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
    if (current.error) throw usageError(`cannot run crontab (${(current.error as NodeJS.ErrnoException).code}); install cron, or add the line by hand:\n${line}`);
    const lines = current.status === 0 ? current.stdout.split('\n').filter((l) => l !== '') : [];
    const ours = lines.filter((l) => l.includes(`${SCRIPT} tick`) || / refresher tick/.test(l));
    if (ours.includes(line)) {
      out('unchanged: the crontab already has this line');
      return EXIT_OK;
    }
    if (ours.length && !o.force) throw usageError(`the crontab already runs refresher tick with another line; pass --force to replace it:\n${ours.join('\n')}`);
    const next = [...lines.filter((l) => !ours.includes(l)), line].join('\n') + '\n';
    const put = spawnSync('crontab', ['-'], { input: next, encoding: 'utf8' });
    if (put.status !== 0) {
      process.stderr.write(`refresher: crontab refused the new table: ${put.stderr}`);
      return EXIT_FAILED;
    }
    out(`written: the crontab line\n${line}`);
    return EXIT_OK;
  }
  throw usageError(`schedule ${kind}: expected systemd or cron`);
}
