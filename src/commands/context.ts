import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createLogger, type Logger, writeOut } from '../log.js';
import { resolveHome } from '../store/home.js';
import { AccountStore } from '../store/store.js';
import { jsonArrayPieces } from '../render/json.js';
import { redact } from '../util/secrets.js';
import { parseNow } from '../util/time.js';
import { usageError } from '../errors.js';

/** Options every command takes (set on the program, read through optsWithGlobals). */
export interface GlobalOptions {
  home?: string;
  config?: string;
  /** only warnings and errors */
  quiet?: boolean;
}

export interface Context {
  home: string;
  store: AccountStore;
  cfg: Config;
  log: Logger;
}

/** `existing`: the command reads accounts, so the home must exist (exit 2 naming the path otherwise). */
export async function openContext(g: GlobalOptions, opts: { json?: boolean; existing?: boolean; buffered?: boolean } = {}): Promise<Context> {
  const home = resolveHome(g.home);
  const log = createLogger({ ...opts, quiet: g.quiet });
  const store = new AccountStore(home);
  if (opts.existing) {
    const problem = store.homeProblem();
    if (problem) throw usageError(problem);
  }
  const cfg = await loadConfig(home, g.config);
  return { home, store, cfg, log };
}

/** `--now` pretends a time: fine for looking, never for doing (it would write pretend times into files). */
export function lookOnly(nowFlag: string | undefined, what: string): void {
  if (nowFlag !== undefined) throw usageError(`--now is only for looking: use it with ${what}, which write nothing`);
}

/** A clock for the run: `--now` fixes the start, and time still moves from there. */
export function clockFrom(nowFlag: string | undefined): () => number {
  if (!nowFlag) return () => Date.now();
  const base = parseNow(nowFlag);
  // the pretend clock starts on its first reading, which is exactly --now (a tick prints that `now`)
  let started: number | undefined;
  return () => {
    const t = Date.now();
    started ??= t;
    return base + (t - started);
  };
}

/** The one way a command writes a document to stdout; scrubbed like every log line. A long list goes in pieces. */
export function printJson(doc: unknown): void {
  if (!Array.isArray(doc)) {
    writeOut(redact(JSON.stringify(doc, null, 2)) + '\n');
    return;
  }
  printJsonTexts(doc.map((x) => JSON.stringify(x, null, 2)));
}

/** A list whose elements are already JSON text (`JSON.stringify(x, null, 2)`): printed, and scrubbed, as printJson would. */
export function printJsonTexts(texts: readonly string[]): void {
  for (const piece of jsonArrayPieces(texts, undefined, (t) => t)) writeOut(redact(piece));
}
