import { writeOut } from '../log.js';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect, currentUrl, disconnect, SettingsError, type Remembered } from '../accounts/claude-settings.js';
import { EXIT_OK, usageError } from '../errors.js';
import { openContext, printJson, type GlobalOptions } from './context.js';

/**
 * `refresher connect claude [--off|--status] [--url URL]`: point Claude Code at `refresher serve` through
 * env.ANTHROPIC_BASE_URL in its settings.json, and back, exactly as it was. `connect codex` is in
 * connect-codex.ts.
 */
export interface ConnectOptions {
  off?: boolean;
  status?: boolean;
  url?: string;
  json?: boolean;
}

export function claudeSettingsPath(): string {
  return join(process.env.CLAUDE_CONFIG_DIR ?? join(homedir(), '.claude'), 'settings.json');
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : null);

/**
 * What a client's file said before the first connect, kept in refresher's home until --off. A second connect
 * keeps the first one's memory (only its URL follows): --off must give back what was there before refresher.
 */
export function connectMemory<T extends { url: string }>(path: string) {
  return {
    read(): T | null {
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as T;
      } catch {
        return null;
      }
    },
    async keep(before: T | null, first: T, url: string): Promise<void> {
      const { writeFileAtomic } = await import('../store/atomic.js');
      if (!before) {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        await writeFileAtomic(path, JSON.stringify(first));
      } else if (before.url !== url) await writeFileAtomic(path, JSON.stringify({ ...before, url }));
    },
    forget: () => rmSync(path, { force: true }),
  };
}

export async function serving(url: string): Promise<boolean> {
  try {
    const { sendOnce } = await import('../net/http.js');
    const res = await sendOnce({ method: 'GET', url: `${url.replace(/\/+$/, '')}/health` }, { timeoutMs: 2000, proxy: null });
    return res.status === 200 && /"status":\s*"ok"/.test(res.text);
  } catch {
    return false;
  } finally {
    const { closeDispatchers } = await import('../net/dispatcher.js');
    await closeDispatchers();
  }
}

export async function connectCommand(g: GlobalOptions, target: string, o: ConnectOptions): Promise<number> {
  const { store, cfg, log } = await openContext(g, { json: o.json });
  const host = ['0.0.0.0', '::'].includes(cfg.serve.host) ? '127.0.0.1' : cfg.serve.host;
  const url = (o.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${cfg.serve.port}`).replace(/\/+$/, '');
  if (o.url && !/^https?:\/\/[^/]+/.test(o.url)) throw usageError(`--url: expected http://host:port, got "${o.url}"`);
  const out = (s: string) => writeOut(s + '\n');
  if (target === 'codex') {
    const { connectCodex } = await import('./connect-codex.js');
    return connectCodex(o, { memory: join(store.home, 'connect', 'codex.json'), url, log, out, serving });
  }
  if (target !== 'claude') throw usageError(`connect ${target}: expected claude or codex`);
  const path = claudeSettingsPath();
  const memory = connectMemory<Remembered>(join(store.home, 'connect', 'claude.json'));
  const remembered = memory.read;
  const { writeFileAtomic } = await import('../store/atomic.js');
  const modeOf = (p: string) => statSync(p).mode & 0o777;
  try {
    if (o.status) {
      const now = currentUrl(read(path), path);
      const r = remembered();
      const mode = now === null ? 'direct' : r && now === r.url ? 'refresher' : 'elsewhere';
      const up = now ? await serving(now) : false;
      if (o.json) printJson({ mode, url: now, settings: path, serving: up });
      else if (mode === 'direct') out(`direct: ${path} sets no ANTHROPIC_BASE_URL; Claude Code talks to Anthropic itself`);
      else out(`${mode === 'refresher' ? 'through refresher' : 'pointed elsewhere'}: ANTHROPIC_BASE_URL=${now} (${path}); ${up ? 'refresher serve answers there' : 'nothing answers /health there'}`);
      return EXIT_OK;
    }
    if (o.off) {
      const r = remembered();
      const text = read(path);
      if (!r) {
        out(`nothing to undo: refresher has not connected Claude Code (${path} is as you left it)`);
        return EXIT_OK;
      }
      if (text !== null) {
        const next = disconnect(text, path, r);
        if (next === null) rmSync(path);
        else await writeFileAtomic(path, next, modeOf(path));
      }
      memory.forget();
      const now = r.created ? null : r.originalValue;
      out(`${now ? `Claude Code points at ${now} again` : 'Claude Code is direct again'}: ${path} ${text === null ? 'was already gone' : r.created ? 'removed (refresher had created it)' : 'restored'}`);
      return EXIT_OK;
    }
    const text = read(path);
    const next = connect(text, path, url);
    if (text === null) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const before = remembered();
    const was = currentUrl(text, path);
    if (!before && was !== null && was !== url) log.warn(`${path}: ANTHROPIC_BASE_URL was ${was}; refresher replaces it while connected (\`refresher connect claude --off\` puts it back)`);
    await memory.keep(before, next.remember, url);
    await writeFileAtomic(path, next.text, text === null ? 0o600 : modeOf(path));
    out(`Claude Code now goes through refresher: ANTHROPIC_BASE_URL=${url} in ${path} (undo: refresher connect claude --off)`);
    if (!(await serving(url))) log.warn(`nothing answers ${url}/health yet: start it with \`refresher serve\` (or keep it running with a systemd user service)`);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof SettingsError) throw usageError(e.message);
    throw e;
  }
}
