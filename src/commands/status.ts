import { EXIT_FAILED, EXIT_OK, usageError } from '../errors.js';
import { prometheusText } from '../render/metrics.js';
import { lastTick } from '../store/plan-cache.js';
import { attentionList, type Attention, type Holder } from '../core/attention.js';
import { planTick } from '../core/planner.js';
import { writeOut, type Logger } from '../log.js';
import { currentPoolProxy } from '../store/pool-cache.js';
import { loadForStatus, printOrder, readStatusCache, saveStatusCache, STATUS_DIR_STAMP, statusCacheKey, type CachedRow, type StatusLoad } from '../store/status-cache.js';
import { inArray, TEXT_SEP, type RowTexts } from '../store/status-texts.js';
import { rememberStamp, settled, stampHolds } from '../store/dir-stamp.js';
import { quickStat } from '../store/quick-stat.js';
import { describeProblem, problemsExitCode, type AccountStore } from '../store/store.js';
import { clockFrom, openContext, type GlobalOptions } from './context.js';
import { plainTablePieces, renderTable, terminalWidth, type Cell } from '../render/table.js';
import { seedAttention, seedCells, seedTexts, statusHeader, tableSeed, type TableSeed } from '../render/status-table.js';
import { rowStableUntil, statusRows, type StatusRow } from '../render/views.js';
import { redact } from '../util/secrets.js';
import type { Config } from '../config/types.js';
import type { AccountPlan } from '../model/types.js';

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

/**
 * One row of the answer: made in this run (`row`), or remembered by the status cache (its text or its seed read
 * from the cache at `index` as it is printed).
 */
interface Line {
  id: string;
  priority: number;
  row: StatusRow | null;
  /** the row's JSON as it stands in the printed array */
  text: string | null;
  needsPerson: boolean;
  /** its place in the cache (-1: made in this run) */
  index: number;
}

export async function status(g: GlobalOptions, o: StatusOptions): Promise<number> {
  const format = o.json ? 'json' : (o.format ?? 'table');
  if (!['table', 'json', 'prometheus'].includes(format)) throw usageError(`--format: expected table, json or prometheus, got "${format}"`);
  if (o.output && format !== 'prometheus') throw usageError('--output is for --format prometheus (the textfile collector reads a file)');
  const { store, cfg, log } = await openContext(g, { json: format !== 'table', existing: true });
  const now = clockFrom(o.now)();
  // lock.ts reads /proc when it loads: only on the paths that look at locks, never an idle tick
  const holders = (await import('../store/lock.js')).liveHolders(store.lockDir);
  const pool = currentPoolProxy(store, cfg, now);
  if (format === 'prometheus') return prometheus(store, cfg, log, now, holders, o.output);

  const key = statusCacheKey(cfg.fingerprint, pool);
  // stat'ed before it is listed: a change after this makes the stamp differ next time
  const dir = quickStat(store.dir);
  const statedAt = Date.now();
  const cache = readStatusCache(store, key, format === 'json' ? 'text' : 'seed');
  // accounts/ unchanged since a listing of it was exactly the cache's rows: those are its files
  const unchanged = cache !== null && dir !== undefined && stampHolds(store.home, STATUS_DIR_STAMP, cache.token, dir);
  const ids = unchanged ? [...cache.ids].sort() : store.listIds();
  const loaded = loadForStatus(store, ids, cache, now, holders);
  for (const w of loaded.warnings) log.warn(w);
  const accounts = loaded.accounts.map((l) => l.account);
  const plan = planTick(accounts, cfg, now);
  const attention = new Map(attentionList(accounts, cfg, now, holders).map((x) => [x.account, x]));
  const fresh = statusRows(accounts, cfg, now, pool, holders, { plan, attention });
  const lines: Line[] = [
    ...fresh.map((row) => ({ id: row.id, priority: row.priority, row, text: null, needsPerson: row.attention !== null, index: -1 })),
    ...loaded.cached.map((i) => ({ id: cache!.ids[i]!, priority: cache!.priority(i), row: null, text: null, needsPerson: cache!.needsPerson(i), index: i })),
  ];
  // plan order (the planner's byPriority), whichever way each row came
  lines.sort(printOrder);
  // a row made in this run (a remembered one is read from the cache as it is printed)
  const textOf = (l: Line) => (l.text ??= inArray(JSON.stringify(l.row, null, 2)));

  // A pretend time (--now) writes nothing, not even a cache.
  const freshKept = o.now ? [] : keepable(loaded, plan.accounts, attention, holders, now);
  let saved: { token: string; rows: number } | null = null;
  if (!o.now && (freshKept.length || !cache || cache.ids.length !== loaded.cached.length)) {
    const byId = new Map(lines.map((l) => [l.id, l]));
    // scrubbed before it is stored, like everything printed
    for (const k of freshKept) {
      const l = byId.get(k.id)!;
      k.text = redact(textOf(l));
      k.seed = redact(JSON.stringify(tableSeed(l.row!, cfg.maxFailures)));
    }
    saved = saveStatusCache(store, key, cache, loaded.cached, freshKept);
  }
  // This run listed accounts/, and the cache as it now stands holds a row for every file in it.
  const current = saved ?? (cache && { token: cache.token, rows: cache.ids.length });
  if (!o.now && !unchanged && dir && current && current.rows === ids.length && settled(dir, statedAt)) rememberStamp(store.home, STATUS_DIR_STAMP, current.token, dir);

  // Exit 1 while any account needs a person, so that a monitor running `status` sees it.
  const needing = lines.filter((l) => l.needsPerson).length;
  const exitCode = Math.max(problemsExitCode(loaded.problems), needing ? EXIT_FAILED : EXIT_OK);

  if (format === 'json') {
    const problems = loaded.problems.map((pr) => inArray(JSON.stringify({ id: pr.id, file: pr.file, status: 'error', error: describeProblem(pr) }, null, 2)));
    try {
      for (const piece of jsonPieces([...lines, ...problems], textOf, cache?.texts ?? null)) writeOut(redact(piece));
    } finally {
      cache?.close();
    }
    return exitCode;
  }
  try {
    // awaited here: the file the seeds are read from closes after the table, not before
    return await table(lines, loaded.problems, cache?.seeds ?? null, { cfg, log, store, now, all: !!o.all, wide: !!o.wide, color: o.color !== false, exitCode });
  } finally {
    cache?.close();
  }
}

interface TableRun {
  cfg: Config;
  log: Logger;
  store: AccountStore;
  now: number;
  all: boolean;
  wide: boolean;
  color: boolean;
  exitCode: number;
}

/** `status` as a table: on a terminal fitted to its width, else every column as plain text. */
async function table(lines: readonly Line[], problems: StatusLoad['problems'], stored: RowTexts | null, r: TableRun): Promise<number> {
  const { cfg, now, all } = r;
  // The seeds of lines[from, to): the remembered ones read from the cache in runs of neighbours and parsed in one
  // go (one JSON.parse of many is faster than one per row), a chunk at a time (all 10,000 at once, with their
  // cells, would live through every collection).
  const seedsOf = (from: number, to: number): TableSeed[] => {
    const runs: string[] = [];
    for (let j = from; j < to; ) {
      const first = lines[j]!.index;
      if (first < 0) {
        j++;
        continue;
      }
      let k = j;
      while (k + 1 < to && lines[k + 1]!.index === lines[k]!.index + 1 && stored!.bytes(first, lines[k + 1]!.index) < RUN_BYTES) k++;
      runs.push(stored!.run(first, lines[k]!.index));
      j = k + 1;
    }
    const remembered = runs.length ? (JSON.parse(`[${runs.join(',')}]`) as TableSeed[]) : [];
    let next = 0;
    const out: TableSeed[] = [];
    for (let j = from; j < to; j++) out.push(lines[j]!.row ? tableSeed(lines[j]!.row!, cfg.maxFailures) : remembered[next++]!);
    if (next !== remembered.length) throw new Error('the status cache changed while it was read; run status again');
    return out;
  };
  const header = statusHeader(all);
  // A broken file gets a row, and its error a line of its own under the table: in a column it would stretch
  // every row.
  const broken = problems.map((pr): Cell[] => [{ text: pr.id }, { text: '?' }, { text: 'error', tone: 'bad' }, ...header.slice(3).map(() => ({ text: '' }))]);
  if (!lines.length && !broken.length) {
    r.log.info(`no accounts in ${r.store.dir}; add one with \`refresher account add\`, or try \`refresher demo\``);
    return EXIT_OK;
  }
  if (process.stdout.isTTY === true) {
    const cells: Cell[][] = [...seedsOf(0, lines.length).map((t) => seedCells(t, now, all)), ...broken];
    const useColor = r.color && !process.env.NO_COLOR;
    // On a terminal the table fits its width (the least needed columns go first); piped, every column stays.
    const dropOrder = ['other windows', 'last failure', 'proxy', 'priority', 'last used', 'failures', 'window resets', 'token expires', 'provider'];
    const fit = r.wide ? undefined : { width: terminalWidth(), dropOrder };
    writeOut(await renderTable(header, cells, { tty: true, color: useColor, fit }));
  } else {
    const brokenTexts = broken.map((row) => row.map((c) => c.text));
    const rowsAt = (from: number, to: number): string[][] => [
      ...seedsOf(from, Math.min(to, lines.length)).map((t) => seedTexts(t, now, all)),
      ...brokenTexts.slice(Math.max(0, from - lines.length), Math.max(0, to - lines.length)),
    ];
    for (const piece of plainTablePieces(header, lines.length + broken.length, rowsAt)) writeOut(piece);
  }
  if (problems.length) {
    writeOut(redact(`\n${problems.map((pr) => `${pr.id}: ${describeProblem(pr)}\n`).join('')}`));
  }
  // by id, which is the order the accounts are read in (scan sorts them), cached or not
  // (the lines that need a person are the ones whose seeds name one: both come from the same attention list)
  const needy = lines.flatMap((l, j) => (l.needsPerson ? [j] : []));
  const people = needy.flatMap((j) => seedsOf(j, j + 1).map(seedAttention)).filter((x): x is Attention => x !== null).sort((a, b) => (a.account < b.account ? -1 : 1));
  if (people.length) {
    const text = people.map((x) => `  ${x.account}: ${x.reason}\n    run: ${x.fix}\n`).join('');
    writeOut(redact(`\n${people.length} account${people.length === 1 ? ' needs' : 's need'} a person:\n${text}`));
  }
  return r.exitCode;
}

/** the longest run of remembered seeds read as one string: what the cache's reader holds at once */
const RUN_BYTES = 1 << 16;

/**
 * `status --json`: JSON.stringify of the rows as an array, with 2 spaces, in pieces of about 64 KB. Remembered
 * rows that are neighbours in the cache too come as one read of it. Each piece is scrubbed on its own, which is
 * scrubbing the whole: a piece ends at whitespace or at a text's closing brace before ",\n", and neither a token
 * run (no brace, comma or whitespace in it) nor a URL's userinfo (no whitespace, then an @) spans such a cut.
 */
function* jsonPieces(items: readonly (Line | string)[], textOf: (l: Line) => string, texts: RowTexts | null): Generator<string> {
  if (!items.length) {
    yield '[]\n';
    return;
  }
  const size = 1 << 16;
  const remembered = (x: Line | string | undefined): x is Line => typeof x === 'object' && x.row === null && texts !== null;
  let piece = '[\n  ';
  for (let i = 0; i < items.length; ) {
    const item = items[i]!;
    let text: string;
    if (remembered(item)) {
      let j = i;
      for (let next = items[j + 1]; remembered(next) && next.index === (items[j] as Line).index + 1 && texts!.bytes(item.index, next.index) < size; next = items[j + 1]) j++;
      text = texts!.run(item.index, (items[j] as Line).index);
      i = j + 1;
    } else {
      text = typeof item === 'string' ? item : textOf(item);
      i++;
    }
    const after = i < items.length ? TEXT_SEP : '\n]\n';
    // a long text is a piece of its own, not copied into another
    if (text.length >= size / 4) {
      yield piece;
      yield text;
      piece = after;
    } else piece += text + after;
    if (piece.length >= size) {
      yield piece;
      piece = '';
    }
  }
  if (piece) yield piece;
}

/** The accounts read in this run whose rows the status cache may keep (see rowStableUntil). */
function keepable(
  loaded: StatusLoad,
  plans: readonly AccountPlan[],
  attention: ReadonlyMap<string, Attention>,
  holders: ReadonlyMap<string, Holder>,
  now: number,
): CachedRow[] {
  const planOf = new Map(plans.map((p) => [p.id, p]));
  const out: CachedRow[] = [];
  for (const l of loaded.accounts) {
    const a = l.account;
    const until = rowStableUntil(a, planOf.get(a.id)!, holders.get(a.id));
    if (!l.fingerprint || (until !== null && !(until > now))) continue;
    // the text and seed are filled in by the caller, from the row it prints
    out.push({ id: a.id, priority: a.priority, until, needsPerson: attention.has(a.id), text: '', seed: '', fp: l.fingerprint });
  }
  return out;
}

/** `--format prometheus`: every account read (metrics need the accounts themselves, not their rows). */
async function prometheus(store: AccountStore, cfg: Config, log: Logger, now: number, holders: ReadonlyMap<string, Holder>, output?: string): Promise<number> {
  const loaded = store.loadAll();
  for (const w of loaded.warnings) log.warn(w);
  const accounts = loaded.accounts.map((l) => l.account);
  const attention = attentionList(accounts, cfg, now, holders);
  const exitCode = Math.max(problemsExitCode(loaded.problems), attention.length ? EXIT_FAILED : EXIT_OK);
  const { Outbox } = await import('../store/outbox.js');
  const text = prometheusText(accounts, cfg, attention, loaded.problems.length, lastTick(store), cfg.notify.length ? new Outbox(store).counts() : undefined);
  if (output) {
    // Atomic, so that node_exporter never reads half a file; 0644, as node_exporter runs as its own user.
    const { writeFileAtomic } = await import('../store/atomic.js');
    await writeFileAtomic(output, text, 0o644);
  } else writeOut(text);
  return exitCode;
}
