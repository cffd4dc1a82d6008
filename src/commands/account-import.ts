import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { detect } from '../accounts/formats.js';
import { missingCodexId, upsert, type UpsertResult } from '../accounts/upsert.js';
import { EXIT_FAILED, EXIT_OK } from '../errors.js';
import { MAX_FILE_BYTES } from '../store/store.js';
import { registerSecret } from '../util/secrets.js';
import { openContext, printJson, type GlobalOptions } from './context.js';

export interface ImportOptions {
  from?: string[];
  dryRun?: boolean;
  link?: boolean;
  json?: boolean;
}

/** The official CLIs' files, looked for when no --from is given. */
export function defaultSources(): string[] {
  const home = homedir();
  return [join(home, '.claude', '.credentials.json'), join(home, '.codex', 'auth.json')];
}

/** Files named, and every regular file in a directory named. */
function expand(paths: string[], errors: { file: string; error: string }[]): string[] {
  const out: string[] = [];
  for (const p of paths.map((x) => resolve(x))) {
    try {
      const st = statSync(p);
      if (st.isDirectory()) {
        for (const name of readdirSync(p).sort()) {
          const f = join(p, name);
          if (statSync(f).isFile()) out.push(f);
        }
      } else out.push(p);
    } catch (e) {
      errors.push({ file: p, error: `cannot read it (${(e as NodeJS.ErrnoException).code ?? e})` });
    }
  }
  return out;
}

export async function accountImport(g: GlobalOptions, o: ImportOptions): Promise<number> {
  const { store, log } = await openContext(g, { json: o.json });
  const link = o.link !== false;
  const errors: { file: string; error: string }[] = [];
  const explicit = o.from?.length ? o.from : null;
  const files = explicit ? expand(explicit, errors) : defaultSources().filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
  if (!explicit && !files.length) log.info(`nothing to import: neither ${defaultSources().join(' nor ')} exists; name files with --from PATH`);

  const loaded = store.loadAll();
  const existing = loaded.accounts.map((l) => l.account);
  const results: (UpsertResult & { file: string; format: string })[] = [];
  let warnedDetached = false;
  for (const file of files) {
    let text: string;
    try {
      if (statSync(file).size > MAX_FILE_BYTES) throw Object.assign(new Error(), { code: 'over 1 MiB' });
      text = readFileSync(file, 'utf8');
    } catch (e) {
      errors.push({ file, error: `cannot read it (${(e as NodeJS.ErrnoException).code ?? e})` });
      continue;
    }
    const d = detect(text, file);
    if ('error' in d) {
      errors.push({ file, error: d.error });
      continue;
    }
    for (const c of d.candidates) {
      for (const v of Object.values(c.credentials)) registerSecret(v);
      if (c.link && !link && !warnedDetached) {
        warnedDetached = true;
        log.warn(
          `--no-link: ${file} is also used by the official CLI. Both copies hold the same refresh token; whichever ` +
            'refreshes first invalidates the other, and the official CLI will be logged out. Prefer a linked import.',
        );
      }
      try {
        const r = await upsert(store, existing, c, { link, dryRun: o.dryRun });
        results.push({ ...r, file, format: d.format });
        const missing = missingCodexId(c, r.id);
        if (missing && r.action === 'added') log.warn(missing);
      } catch (e) {
        errors.push({ file, error: (e as Error).message });
      }
    }
  }
  for (const r of results) {
    const verb = o.dryRun ? (r.action === 'added' ? 'would add' : r.action === 'updated' ? 'would update' : 'unchanged') : r.action;
    log.info(`${verb}: ${r.id} (${r.provider}) from ${r.file}${r.linked ? ' [linked]' : ''}`);
  }
  for (const e of errors) log.error(`${e.file}: ${e.error}; skipped`);
  if (o.json) printJson({ dryRun: !!o.dryRun, imported: results.map(({ id, provider, action, linked, file, format }) => ({ id, provider, action, linked, file, format })), errors });
  return errors.length ? EXIT_FAILED : EXIT_OK;
}
