import { writeOut } from '../log.js';
import { EXIT_FAILED, EXIT_OK, usageError } from '../errors.js';
import { prometheusText } from '../render/metrics.js';
import { lastTick } from '../store/plan-cache.js';
import { attentionList } from '../core/attention.js';
import { planTick } from '../core/planner.js';
import type { Account, AccountPlan, Quota } from '../model/types.js';
import { describeProxy } from '../net/proxy.js';
import { currentPoolProxy } from '../store/pool-cache.js';
import { describeProblem, problemsExitCode } from '../store/store.js';
import { clockFrom, openContext, printJson, type GlobalOptions } from './context.js';
import { terminalWidth, renderTable, type Cell } from '../render/table.js';
import { statusRows } from '../render/views.js';
import { formatSpan, relative } from '../util/time.js';

export interface StatusOptions {
  json?: boolean;
  format?: string;
  output?: string;
  now?: string;
  all?: boolean;
  /** every column, however wide the terminal */
  wide?: boolean;
  color?: boolean;
}

function quotaText(a: Account): string {
  const q: Quota | null = a.quota;
  if (!q || q.checkedAt === null) return '-';
  const pct = (v: number | null | undefined) => (v == null ? '?' : `${Math.round(v)}%`);
  if (a.provider !== 'grok' && !q.fiveHour && !q.sevenDay && !q.weekly && !q.primary && !q.secondary) return '-';
  const count = (left: number | null | undefined, total: number | null | undefined) => `${left ?? '?'}${total != null ? `/${total}` : ''}`;
  switch (a.provider) {
    case 'grok': {
      const per = q.windowSizeSeconds ? ` per ${formatSpan(q.windowSizeSeconds * 1000)}` : '';
      return `normal ${count(q.remainingQueries, q.totalQueries)}, heavy ${count(q.heavyRemainingQueries, q.heavyTotalQueries)}${per}`;
    }
    case 'anthropic':
      return `5h ${pct(q.fiveHour?.utilization)}, 7d ${pct(q.sevenDay?.utilization)}`;
    case 'codex':
      // Files written before windows were named by their length hold primary/secondary.
      return `5h ${pct((q.fiveHour ?? q.primary)?.usedPercent)}, wk ${pct((q.weekly ?? q.secondary)?.usedPercent)}`;
  }
}

/** Every other window the service reported (anthropic by name, codex by minutes), for `status --all`. */
function otherWindowsText(a: Account): string {
  const w = a.quota?.windows;
  if (!w) return '-';
  const pct = (v: number | null | undefined) => (v == null ? '?' : `${Math.round(v)}%`);
  return Object.entries(w)
    .map(([name, x]) => `${name} ${pct(x.utilization ?? x.usedPercent)}`)
    .join(', ');
}

function stateOf(a: Account, max: number): { text: string; tone: Cell['tone'] } {
  if (a.recovery) return { text: 'tokens in recovery', tone: 'bad' };
  if (a.status === 'expired') return { text: 'expired', tone: 'bad' };
  if (a.paused) return { text: 'paused', tone: 'dim' };
  // past max_failures the count is not a fraction of anything: say how many in a row
  if (a.failedCount >= max) return { text: `cooling down (${a.failedCount} failures in a row)`, tone: 'bad' };
  if (a.failedCount > 0) return { text: `failing ${a.failedCount}/${max}`, tone: 'warn' };
  return { text: 'active', tone: 'good' };
}

function nextText(p: AccountPlan, now: number): string {
  if (p.skip) return `- (${p.skip})`;
  if (!p.next) return '-';
  const when = p.next.at <= now ? 'now' : relative(p.next.at, now);
  return `${when}: ${p.next.reason}`;
}

export async function status(g: GlobalOptions, o: StatusOptions): Promise<number> {
  const format = o.json ? 'json' : (o.format ?? 'table');
  if (!['table', 'json', 'prometheus'].includes(format)) throw usageError(`--format: expected table, json or prometheus, got "${format}"`);
  if (o.output && format !== 'prometheus') throw usageError('--output is for --format prometheus (the textfile collector reads a file)');
  const { store, cfg, log } = await openContext(g, { json: format !== 'table', existing: true });
  const now = clockFrom(o.now)();
  const loaded = store.loadAll();
  for (const w of loaded.warnings) log.warn(w);
  const accounts = loaded.accounts.map((l) => l.account);
  const plan = planTick(accounts, cfg, now);
  // lock.ts reads /proc when it loads: only on the paths that look at locks, never an idle tick
  const holders = (await import('../store/lock.js')).liveHolders(store.lockDir);
  const attention = new Map(attentionList(accounts, cfg, now, holders).map((x) => [x.account, x]));
  // Exit 1 while any account needs a person, so that a monitor running `status` sees it.
  const exitCode = Math.max(problemsExitCode(loaded.problems), attention.size ? EXIT_FAILED : EXIT_OK);
  const byId = new Map(loaded.accounts.map((l) => [l.account.id, l.account]));
  const pool = currentPoolProxy(store, cfg, now);

  if (format === 'prometheus') {
    const { Outbox } = await import('../store/outbox.js');
    const text = prometheusText(accounts, cfg, [...attention.values()], loaded.problems.length, lastTick(store), cfg.notify.length ? new Outbox(store).counts() : undefined);
    if (o.output) {
      // Atomic, so that node_exporter never reads half a file; 0644, as node_exporter runs as its own user.
      const { writeFileAtomic } = await import('../store/atomic.js');
      await writeFileAtomic(o.output, text, 0o644);
    } else writeOut(text);
    return exitCode;
  }

  if (format === 'json') {
    const rows: object[] = statusRows(accounts, cfg, now, pool, holders, { plan, attention });
    for (const pr of loaded.problems) rows.push({ id: pr.id, file: pr.file, status: 'error', error: describeProblem(pr) });
    printJson(rows);
    return exitCode;
  }

  const header = ['id', 'provider', 'state', 'token expires', 'window resets', 'quota', 'last used', 'failures', 'next due'];
  if (o.all) header.push('proxy', 'priority', 'other windows', 'last failure');
  const rows: Cell[][] = plan.accounts.map((p) => {
    const a = byId.get(p.id)!;
    const st = stateOf(a, cfg.maxFailures);
    const exp = 'expiresAt' in a.credentials ? a.credentials.expiresAt : null;
    const row: Cell[] = [
      { text: a.id },
      { text: a.provider },
      { text: st.text, tone: st.tone },
      { text: exp === null ? '-' : `${a.setupToken ? 'setup token, expires ' : ''}${relative(exp, now)}`, tone: exp !== null && exp <= now ? 'warn' : undefined },
      { text: a.window ? `refused (${a.window.method})` : a.rateLimitReset === null ? '-' : relative(a.rateLimitReset, now), tone: a.window ? 'bad' : undefined },
      { text: quotaText(a) },
      { text: a.lastUsedAt === null ? '-' : relative(a.lastUsedAt, now) },
      { text: String(a.failedCount), tone: a.failedCount ? 'warn' : undefined },
      { text: nextText(p, now), tone: p.skip ? 'dim' : undefined },
    ];
    if (o.all) row.push({ text: describeProxy(a, cfg, pool) }, { text: String(a.priority) }, { text: otherWindowsText(a) }, { text: a.lastFailure?.reason ?? '-' });
    return row;
  });
  // A broken file gets a row, and its error a line of its own under the table: in a column it would stretch
  // every row.
  for (const pr of loaded.problems) {
    const row: Cell[] = [{ text: pr.id }, { text: '?' }, { text: 'error', tone: 'bad' }];
    while (row.length < header.length) row.push({ text: '' });
    rows.push(row);
  }
  if (!rows.length) {
    log.info(`no accounts in ${store.dir}; add one with \`refresher account add\`, or try \`refresher demo\``);
    return EXIT_OK;
  }
  const useColor = o.color !== false && !process.env.NO_COLOR && process.stdout.isTTY === true;
  // On a terminal the table fits its width (the least needed columns go first); piped, every column stays.
  const dropOrder = ['other windows', 'last failure', 'proxy', 'priority', 'last used', 'failures', 'window resets', 'token expires', 'provider'];
  const fit = o.wide ? undefined : { width: terminalWidth(), dropOrder };
  writeOut(await renderTable(header, rows, { tty: process.stdout.isTTY === true, color: useColor, fit }));
  if (loaded.problems.length) {
    writeOut(`\n${loaded.problems.map((pr) => `${pr.id}: ${describeProblem(pr)}\n`).join('')}`);
  }
  if (attention.size) {
    const lines = [...attention.values()].map((x) => `  ${x.account}: ${x.reason}\n    run: ${x.fix}\n`);
    writeOut(`\n${attention.size} account${attention.size === 1 ? ' needs' : 's need'} a person:\n${lines.join('')}`);
  }
  return exitCode;
}
