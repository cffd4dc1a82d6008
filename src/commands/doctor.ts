import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { attentionList } from '../core/attention.js';
import { EXIT_FAILED, EXIT_OK } from '../errors.js';
import { createLogger, writeOut } from '../log.js';
import type { Account } from '../model/types.js';
import { chooseProxy } from '../net/proxy.js';
import { windowMethodOf } from '../providers/window-method.js';
import { resolveHome } from '../store/home.js';
import { describeProblem, AccountStore } from '../store/store.js';
import { redact, redactUrl } from '../util/secrets.js';
import { formatSpan } from '../util/time.js';
import { printJson, type GlobalOptions } from './context.js';

/**
 * `refresher doctor`: every way this installation could fail to keep its accounts alive, checked; each check
 * says ok, or the problem and the exact command that fixes it. `--fix` applies only the safe fixes: file
 * modes, and locks whose owner is gone. Exit 1 when anything needs fixing.
 */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** a safe fix that --fix may apply */
  apply?: () => void;
}

const pass = (name: string, detail: string): Check => ({ name, ok: true, detail });
const fail = (name: string, detail: string, fix: string, apply?: () => void): Check => ({ name, ok: false, detail, fix, apply });

function modeCheck(name: string, path: string, want: number): Check | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return null;
  const mode = st.mode & 0o777;
  const loose = want === 0o700 || want === 0o600 ? mode & 0o077 : mode & 0o022;
  if (!loose) return pass(name, `${path} is ${mode.toString(8)}`);
  return fail(name, `${path} is mode ${mode.toString(8)}`, `chmod ${want.toString(8)} ${path}`, () => chmodSync(path, want));
}

function fileChecks(store: AccountStore, configFile: string): Check[] {
  const out: Check[] = [];
  const push = (c: Check | null) => c && out.push(c);
  push(modeCheck('home mode', store.home, 0o700));
  push(modeCheck('accounts directory mode', store.dir, 0o700));
  push(modeCheck('config.yaml mode', configFile, 0o600));
  for (const id of store.listIds()) push(modeCheck(`${id}.json mode`, store.fileOf(id), 0o600));
  const loaded = store.loadAll();
  for (const p of loaded.problems) out.push(fail(`${p.id}.json`, describeProblem(p), `\${EDITOR:-vi} ${p.file}   (or move it away: mv ${p.file} ~/${p.id}.json.broken, then add the account again)`));
  if (!loaded.problems.length) out.push(pass('account files', `${loaded.accounts.length} account file(s) read`));
  const leftovers = [...store.scan().leftovers.values()].flat();
  out.push(
    leftovers.length
      ? fail('leftover temp files', `${leftovers.join(', ')} (left by killed writes)`, 'refresher tick   (it adopts or removes them under each account\'s lock)')
      : pass('leftover temp files', 'none'),
  );
  const recovery = [...store.pendingRecovery().entries()];
  out.push(
    recovery.length
      ? fail('tokens in recovery/', recovery.map(([id, f]) => `${id}: ${f}`).join('; '), `make ${store.dir} writable, then: refresher tick   (it restores them)`)
      : pass('tokens in recovery/', 'none waiting'),
  );
  return out;
}

async function lockChecks(store: AccountStore): Promise<Check[]> {
  const { readOwner, staleness } = await import('../store/lock.js');
  let names: string[];
  try {
    names = readdirSync(store.lockDir).filter((n) => n.endsWith('.lock'));
  } catch {
    return [pass('locks', 'none held')];
  }
  const out: Check[] = [];
  for (const n of names) {
    const path = join(store.lockDir, n);
    const stale = await staleness(path);
    const owner = await readOwner(path);
    const who = owner ? `pid ${owner.pid} on ${owner.host}` : 'no owner recorded';
    if (stale) out.push(fail(`lock ${n}`, `stale: ${stale.why}`, `rm -r ${path}   (or: refresher doctor --fix)`, () => rmSync(path, { recursive: true, force: true })));
    else out.push(pass(`lock ${n}`, `held by ${who}`));
  }
  return out.length ? out : [pass('locks', 'none held')];
}

/** The period of the installed schedule, in minutes, and where it was found; null when none is installed. */
export function installedPeriod(): { minutes: number; where: string } | null {
  const units = [join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'systemd/user/refresher-tick.timer'), '/etc/systemd/system/refresher-tick.timer'];
  for (const f of units) {
    try {
      const cal = /^OnCalendar=(.*)$/m.exec(readFileSync(f, 'utf8'))?.[1]?.trim();
      if (!cal) continue;
      const m = /\*:\*:00$/.test(cal) ? 1 : Number(/\*:00\/(\d+):00$/.exec(cal)?.[1] ?? NaN) || Number(/00\/(\d+):00:00$/.exec(cal)?.[1] ?? NaN) * 60 || (/\*:00:00$/.test(cal) ? 60 : NaN);
      if (Number.isFinite(m)) return { minutes: m, where: f };
    } catch {
      /* not installed there */
    }
  }
  const cron = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  const line = cron.status === 0 ? cron.stdout.split('\n').find((l) => /refresher\S* tick/.test(l) && !l.trimStart().startsWith('#')) : undefined;
  if (line) {
    const min = line.trim().split(/\s+/)[0]!;
    const m = min === '*' ? 1 : /^\*\/(\d+)$/.test(min) ? Number(min.slice(2)) : 60;
    return { minutes: m, where: 'crontab' };
  }
  return null;
}

function scheduleCheck(cfg: Config): Check {
  const p = installedPeriod();
  if (!p) return fail('schedule', 'no refresher-tick timer or crontab line found: nothing runs `refresher tick`', 'refresher schedule systemd --user --install   (or: refresher schedule cron --install)');
  const need = 2 * p.minutes * 60_000;
  if (cfg.refreshBeforeExpiryMs < need) {
    return fail('schedule', `refresh_before_expiry is ${formatSpan(cfg.refreshBeforeExpiryMs)}, less than twice the period of ${p.where} (${p.minutes}m): one missed run lets a token expire`, `set refresh_before_expiry: ${p.minutes * 2}m (or more) in config.yaml, or run tick more often`);
  }
  return pass('schedule', `every ${p.minutes}m (${p.where}); refresh_before_expiry ${formatSpan(cfg.refreshBeforeExpiryMs)}`);
}

function linkedChecks(accounts: readonly Account[]): Check[] {
  return accounts
    .filter((a) => a.source)
    .map((a) => {
      try {
        accessSync(a.source!.path, constants.R_OK | constants.W_OK);
        return pass(`${a.id} linked file`, `${a.source!.path} is readable and writable`);
      } catch (e) {
        return fail(`${a.id} linked file`, `${a.source!.path}: ${(e as NodeJS.ErrnoException).code}`, `make ${a.source!.path} readable and writable by this user, or: refresher account import`);
      }
    });
}

function claudeCheck(accounts: readonly Account[], cfg: Config): Check[] {
  if (!accounts.some((a) => a.provider === 'anthropic' && windowMethodOf(a, cfg) === 'claude-cli')) return [];
  const r = spawnSync(cfg.providers.anthropic.claudePath, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status === 0) return [pass('claude binary', `${cfg.providers.anthropic.claudePath}: ${r.stdout.trim().split('\n')[0]}`)];
  return [fail('claude binary', `${cfg.providers.anthropic.claudePath} does not run (${r.error ? (r.error as NodeJS.ErrnoException).code : `exit ${r.status}`})`, 'npm install -g @anthropic-ai/claude-code, or set providers.anthropic.claude_path')];
}

/** Each upstream host an account would talk to, with the proxy it would use. */
function routes(accounts: readonly Account[], cfg: Config): Map<string, { proxy: string | null; url: string }> {
  const out = new Map<string, { proxy: string | null; url: string }>();
  for (const a of accounts) {
    const proxy = chooseProxy(a, cfg).url;
    const urls = [a.endpoint ?? cfg.providers[a.provider].apiBase];
    if (a.provider === 'anthropic') urls.push(cfg.providers.anthropic.tokenUrl);
    if (a.provider === 'codex') urls.push(cfg.providers.codex.tokenUrl);
    for (const u of urls) out.set(`${proxy ?? 'direct'} ${new URL(u).origin}`, { proxy, url: new URL(u).origin + '/' });
  }
  return out;
}

async function networkChecks(accounts: readonly Account[], cfg: Config): Promise<Check[]> {
  const { sendOnce, NetworkError } = await import('../net/http.js');
  const { userAgent } = await import('../version.js');
  const out: Check[] = [];
  for (const { proxy, url } of routes(accounts, cfg).values()) {
    const via = proxy ? ` via ${redactUrl(proxy)}` : '';
    const name = `reach ${new URL(url).host}${via}`;
    try {
      const res = await sendOnce({ method: 'GET', url, headers: { 'user-agent': userAgent() } }, { timeoutMs: cfg.timeoutMs, proxy });
      const date = Date.parse(res.headers.date ?? '');
      const skew = Number.isNaN(date) ? null : Date.now() - date;
      if (skew !== null && Math.abs(skew) > 60_000) {
        out.push(fail(name, `this clock is ${formatSpan(skew)} ${skew > 0 ? 'ahead of' : 'behind'} the upstream's Date header: expiry times will be wrong`, 'sync the clock (timedatectl set-ntp true, or chrony/ntpd)'));
      } else out.push(pass(name, `HTTP ${res.status}${skew === null ? '' : `, clock within ${formatSpan(skew)}`}`));
    } catch (e) {
      const msg = e instanceof NetworkError ? e.message : (e as Error).message;
      out.push(fail(name, msg, proxy ? `check the proxy ${redactUrl(proxy)} (or: refresher account set ID --proxy …)` : 'check this machine\'s network and DNS'));
    }
  }
  const { closeDispatchers } = await import('../net/dispatcher.js');
  await closeDispatchers();
  return out;
}

/** Where an executable named on a command line would be found, or null. */
function executable(program: string): string | null {
  const candidates = program.includes('/') ? [program] : (process.env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** The notify channels: each one sane (a command that runs, a webhook whose host answers), and the queue. */
async function notifyChecks(store: AccountStore, cfg: Config, offline: boolean): Promise<Check[]> {
  if (!cfg.notify.length) {
    return [pass('notify', 'no channels: a person hears of an account that needs them only through the tick\'s output (cron mail, the journal); see "Notifications" in the README')];
  }
  const { channelLabel } = await import('../notify/message.js');
  const out: Check[] = [];
  for (const ch of cfg.notify) {
    const name = `notify ${channelLabel(ch)}`;
    if (ch.kind === 'command') {
      const found = executable(ch.argv[0]!);
      out.push(found ? pass(name, `${found} is executable`) : fail(name, `${ch.argv[0]} is not an executable file${ch.argv[0]!.includes('/') ? '' : ' on PATH'}`, `install it, or give its full path in notify[].command; then: refresher notify test`));
    } else if (!offline) {
      // the origin only: a GET of the webhook's own URL could post, or show its secret path to a log
      const { sendOnce } = await import('../net/http.js');
      const { userAgent } = await import('../version.js');
      try {
        const res = await sendOnce({ method: 'GET', url: new URL(ch.url).origin + '/', headers: { 'user-agent': userAgent() } }, { timeoutMs: cfg.timeoutMs, proxy: ch.proxy ?? cfg.proxyUrl });
        out.push(pass(name, `its host answers (HTTP ${res.status}); \`refresher notify test\` sends a real message`));
      } catch (e) {
        out.push(fail(name, `its host does not answer: ${(e as Error).message.split(ch.url).join(channelLabel(ch))}`, 'check the URL and this machine\'s network (or the proxy); then: refresher notify test'));
      }
    }
  }
  const { Outbox } = await import('../store/outbox.js');
  const q = new Outbox(store).pending({ dropUnreadable: false });
  const failed = q.filter((e) => e.attempts > 0);
  if (failed.length) out.push(fail('notifications waiting', `${failed.length} could not be delivered yet (last: ${failed.at(-1)!.lastError})`, 'refresher notify test   (then the next tick delivers them)'));
  else out.push(pass('notifications waiting', q.length ? `${q.length} queued, none failed` : 'none'));
  return out;
}

export async function doctor(g: GlobalOptions, o: { json?: boolean; fix?: boolean; offline?: boolean }): Promise<number> {
  const home = resolveHome(g.home);
  const store = new AccountStore(home);
  const log = createLogger({ json: o.json, quiet: g.quiet });
  const configFile = g.config ?? join(home, 'config.yaml');
  const run = async (): Promise<Check[]> => {
    const homeProblem = store.homeProblem();
    if (homeProblem) return [fail('home', homeProblem, 'refresher account add …   (or point --home or REFRESHER_HOME at the right directory)')];
    const checks: Check[] = [pass('home', home)];
    let cfg: Config | null = null;
    try {
      cfg = await loadConfig(home, g.config);
      checks.push(pass('config', cfg.source ?? 'defaults (no config.yaml)'));
    } catch (e) {
      checks.push(fail('config', (e as Error).message, `fix ${configFile}; accounts.example.yaml lists every key`));
    }
    checks.push(...fileChecks(store, configFile), ...(await lockChecks(store)));
    if (!cfg) return checks;
    const accounts = store.loadAll().accounts.map((l) => l.account);
    checks.push(scheduleCheck(cfg), ...linkedChecks(accounts), ...claudeCheck(accounts, cfg));
    const { liveHolders } = await import('../store/lock.js');
    for (const x of attentionList(accounts, cfg, Date.now(), liveHolders(store.lockDir))) checks.push(fail(`${x.account} needs a person`, x.reason, x.fix));
    checks.push(...(await notifyChecks(store, cfg, !!o.offline)));
    if (!o.offline) checks.push(...(await networkChecks(accounts, cfg)));
    return checks;
  };
  let checks = await run();
  if (o.fix) {
    const fixable = checks.filter((c) => !c.ok && c.apply);
    for (const c of fixable) {
      c.apply!();
      log.info(`fixed: ${c.name} (${c.fix})`);
    }
    if (fixable.length) checks = await run();
  }
  const bad = checks.filter((c) => !c.ok);
  if (o.json) printJson({ ok: !bad.length, checks: checks.map(({ name, ok, detail, fix }) => ({ name, ok, detail, ...(fix ? { fix } : {}) })) });
  else {
    // Through the scrubber like every other output: details quote upstream and proxy errors.
    for (const c of checks) writeOut(redact(c.ok ? `ok    ${c.name}: ${c.detail}\n` : `FIX   ${c.name}: ${c.detail}\n      run: ${c.fix}\n`));
    writeOut(bad.length ? `\n${bad.length} thing${bad.length === 1 ? '' : 's'} to fix\n` : '\nall is well\n');
  }
  return bad.length ? EXIT_FAILED : EXIT_OK;
}
