import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CodexConfigError, connect, disconnect, whereItPoints, type CodexRemembered } from '../accounts/codex-config.js';
import { EXIT_OK, usageError } from '../errors.js';
import type { Logger } from '../log.js';
import { connectMemory, type ConnectOptions } from './connect.js';
import { printJson } from './context.js';

/**
 * `refresher connect codex [--off|--status]`: point the Codex CLI at `refresher serve` through a provider of our
 * own in $CODEX_HOME/config.toml (see accounts/codex-config.ts for why that form), and back, exactly as it was.
 */
export function codexConfigPath(): string {
  return join(process.env.CODEX_HOME || join(homedir(), '.codex'), 'config.toml');
}

export interface ConnectDeps {
  memory: string;
  url: string;
  log: Logger;
  out: (s: string) => void;
  serving: (url: string) => Promise<boolean>;
}

export async function connectCodex(o: ConnectOptions, d: ConnectDeps): Promise<number> {
  const { parse: tomlParse } = await import('smol-toml');
  const parse = (t: string) => tomlParse(t) as Record<string, unknown>;
  const { writeFileAtomic } = await import('../store/atomic.js');
  const path = codexConfigPath();
  const read = () => (existsSync(path) ? readFileSync(path, 'utf8') : null);
  const memory = connectMemory<CodexRemembered>(d.memory);
  const remembered = memory.read;
  try {
    if (o.status) {
      const r = remembered();
      const where = whereItPoints(parse, read(), path, r?.url ?? null);
      const root = where.mode === 'refresher' && where.url ? where.url.replace(/\/codex\/codex\/?$/, '') : null;
      const up = root ? await d.serving(root) : false;
      if (o.json) printJson({ mode: where.mode, url: where.url, config: path, serving: up });
      else d.out(where.mode === 'refresher' ? `${where.says}; ${up ? 'refresher serve answers there' : 'nothing answers /health there: start `refresher serve`'}` : where.says);
      return EXIT_OK;
    }
    if (o.off) {
      const r = remembered();
      const text = read();
      if (!r) {
        d.out(`nothing to undo: refresher has not connected the Codex CLI (${path} is as you left it)`);
        return EXIT_OK;
      }
      let next: string | null = null;
      if (text !== null) {
        next = disconnect(parse, text, path, r);
        if (next === null) rmSync(path);
        else if (next !== text) await writeFileAtomic(path, next, statSync(path).mode & 0o777);
      }
      memory.forget();
      const what = text === null ? 'was already gone' : next === null ? 'removed (refresher had created it)' : next === r.originalText ? 'restored byte for byte' : 'restored (your other changes since are kept)';
      d.out(`the Codex CLI no longer goes through refresher: ${path} ${what}. Now ${whereItPoints(parse, next, path, null).says}`);
      return EXIT_OK;
    }
    const text = read();
    const next = connect(parse, text, path, d.url);
    const before = remembered();
    if (!before) for (const r of next.replaced) d.log.warn(`${path}: ${r}; refresher replaces it while connected (\`refresher connect codex --off\` puts it back)`);
    if (text === null) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    await memory.keep(before, next.remember, d.url);
    await writeFileAtomic(path, next.text, text === null ? 0o600 : statSync(path).mode & 0o777);
    d.out(`the Codex CLI now goes through refresher: model_provider "refresher" at ${d.url}/codex/codex and chatgpt_base_url ${d.url}/codex in ${path} (undo: refresher connect codex --off)`);
    if (!(await d.serving(d.url))) d.log.warn(`nothing answers ${d.url}/health yet: start it with \`refresher serve\` (or keep it running with a systemd user service)`);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CodexConfigError) throw usageError(e.message);
    throw e;
  }
}
