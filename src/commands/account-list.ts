import { writeOut } from '../log.js';
import { EXIT_OK } from '../errors.js';
import { currentPoolProxy } from '../store/pool-cache.js';
import { renderTable, type Cell } from '../render/table.js';
import { settingsView } from '../render/views.js';
import { describeProblem, problemsExitCode } from '../store/store.js';
import { openContext, printJson, type GlobalOptions } from './context.js';

/** `account list`: the settings of every account (status shows the timing). */
export async function accountList(g: GlobalOptions, o: { json?: boolean; color?: boolean }): Promise<number> {
  const { store, cfg, log } = await openContext(g, { json: o.json, existing: true });
  const loaded = store.loadAll();
  for (const w of loaded.warnings) log.warn(w);
  const pool = currentPoolProxy(store, cfg, Date.now());
  const rows = loaded.accounts.map(({ account: a }) => settingsView(a, cfg, pool));
  if (o.json) {
    printJson([...rows, ...loaded.problems.map((p) => ({ id: p.id, file: p.file, status: 'error', error: describeProblem(p) }))]);
    return problemsExitCode(loaded.problems);
  }
  if (!rows.length && !loaded.problems.length) {
    log.info(`no accounts in ${store.dir}; add one with \`refresher account add\` or \`refresher account import\``);
    return EXIT_OK;
  }
  const onOff = (b: boolean) => (b ? 'on' : 'off');
  const table: Cell[][] = rows.map((r) => [
    { text: r.id },
    { text: r.provider },
    { text: r.label ?? '-' },
    { text: r.status, tone: r.status === 'expired' ? 'bad' : undefined },
    { text: onOff(r.paused) },
    { text: onOff(r.autoRefresh) },
    { text: r.proxy },
    { text: String(r.priority) },
    { text: r.source ? `${r.source.format}: ${r.source.path}` : '-' },
  ]);
  // a file that cannot be read has no settings to show: its row says so, and what is wrong goes below the table
  for (const p of loaded.problems) table.push([{ text: p.id }, { text: '?' }, { text: '-' }, { text: 'error', tone: 'bad' }, { text: '-' }, { text: '-' }, { text: '-' }, { text: '-' }, { text: '-' }]);
  const tty = process.stdout.isTTY === true;
  writeOut(await renderTable(['id', 'provider', 'label', 'status', 'paused', 'auto-refresh', 'proxy', 'priority', 'linked to'], table, { tty, color: tty && o.color !== false && !process.env.NO_COLOR }));
  if (loaded.problems.length) writeOut(`\n${loaded.problems.map((p) => `${p.id}: ${describeProblem(p)}`).join('\n')}\n`);
  return problemsExitCode(loaded.problems);
}
