import { proxyProblem, urlProblem } from '../model/urls.js';
import { WINDOW_METHODS, type AccountPatch, type WindowMethod } from '../model/types.js';
import { ExitError, EXIT_OK, EXIT_USAGE, usageError } from '../errors.js';
import { describeProblem, problemsExitCode } from '../store/store.js';
import { redactUrl } from '../util/secrets.js';
import { openContext, printJson, type GlobalOptions } from './context.js';

export interface SetOptions {
  autoRefresh?: string;
  paused?: string;
  proxy?: string;
  endpoint?: string;
  priority?: string;
  label?: string;
  lastUsed?: string;
  window?: string;
  windowMethod?: string;
  json?: boolean;
}

function onOff(flag: string, v: string): boolean {
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false') return false;
  throw usageError(`${flag}: expected on or off, got "${v}"`);
}

/** Every problem with the flags, at once; then the patch. */
export function setPatch(o: SetOptions): AccountPatch {
  const patch: AccountPatch = {};
  const problems: string[] = [];
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      problems.push((e as Error).message);
    }
  };
  if (o.autoRefresh !== undefined) attempt(() => (patch.autoRefresh = onOff('--auto-refresh', o.autoRefresh!)));
  if (o.paused !== undefined) attempt(() => (patch.paused = onOff('--paused', o.paused!)));
  if (o.proxy !== undefined) {
    const p = o.proxy === 'default' ? null : proxyProblem(o.proxy);
    if (p) problems.push(`--proxy: ${p} (or "direct", or "default" for the config's proxy)`);
    else patch.proxy = o.proxy === 'default' ? null : o.proxy;
  }
  if (o.endpoint !== undefined) {
    const p = o.endpoint === 'default' ? null : urlProblem(o.endpoint);
    if (p) problems.push(`--endpoint: ${p} (or "default" for providers.<provider>.api_base)`);
    else patch.endpoint = o.endpoint === 'default' ? null : o.endpoint.replace(/\/+$/, '');
  }
  if (o.priority !== undefined) {
    if (!/^-?\d+$/.test(o.priority)) problems.push(`--priority: expected a whole number, got "${o.priority}"`);
    else patch.priority = Number(o.priority);
  }
  if (o.label !== undefined) patch.label = o.label === '' ? null : o.label;
  if (o.lastUsed !== undefined) {
    // For tools that use the account outside refresher: quota is refreshed an hour after the last use.
    const at = o.lastUsed === 'now' ? Date.now() : /^\d+$/.test(o.lastUsed) ? Number(o.lastUsed) : Date.parse(o.lastUsed);
    if (Number.isNaN(at)) problems.push(`--last-used: expected now, ISO 8601 or epoch ms, got "${o.lastUsed}"`);
    else patch.lastUsedAt = at;
  }
  if (o.window !== undefined) {
    // on: forget a refusal, so that the window is planned again.
    if (o.window !== 'on') problems.push(`--window: expected on (to try starting windows again after a refusal), got "${o.window}"; to stop them, use --auto-refresh off or providers.anthropic.auto_refresh`);
    else patch.window = null;
  }
  if (o.windowMethod !== undefined) {
    if (o.windowMethod === 'default') patch.windowMethod = null;
    else if ((WINDOW_METHODS as readonly string[]).includes(o.windowMethod)) patch.windowMethod = o.windowMethod as WindowMethod;
    else problems.push(`--window-method: expected ${WINDOW_METHODS.join(', ')} or default, got "${o.windowMethod}"`);
  }
  if (problems.length) throw usageError(problems.join('\n'));
  if (!Object.keys(patch).length) throw usageError('nothing to set: give --auto-refresh, --paused, --proxy, --endpoint, --priority, --label, --last-used, --window or --window-method');
  return patch;
}

/** `account set <id>`: read-modify-write under the account's lock, so a running tick loses nothing. */
export async function accountSet(g: GlobalOptions, id: string, o: SetOptions): Promise<number> {
  const patch = setPatch(o);
  const { store, log } = await openContext(g, { json: o.json, existing: true });
  const current = store.read(id);
  if (!('account' in current)) throw new ExitError(store.listIds().includes(id) ? problemsExitCode([current]) : EXIT_USAGE, describeProblem(current));
  const release = await store.lock(id);
  let updated;
  try {
    updated = await store.update(id, patch);
  } finally {
    await release();
  }
  const shown = Object.fromEntries(
    Object.keys(patch).map((k) => {
      const v = (updated.account as unknown as Record<string, unknown>)[k];
      return [k, k === 'proxy' && typeof v === 'string' ? redactUrl(v) : v];
    }),
  );
  log.info(`${id}: ${Object.entries(shown).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`);
  if (o.json) printJson({ id, set: shown });
  return EXIT_OK;
}
