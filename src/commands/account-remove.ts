import { readLine } from '../accounts/secret-input.js';
import { EXIT_OK, usageError } from '../errors.js';
import { openContext, printJson, type GlobalOptions } from './context.js';

/** `account remove <id>`: asks on a terminal, needs --yes otherwise. Never touches a linked source file. */
export async function accountRemove(g: GlobalOptions, id: string, o: { yes?: boolean; json?: boolean }): Promise<number> {
  const { store, log } = await openContext(g, { json: o.json, existing: true });
  if (!store.listIds().includes(id)) throw usageError(`no account "${id}" in ${store.dir}; run \`refresher account list\``);
  const current = store.read(id);
  const what = 'account' in current ? `${current.account.provider} account ${id}` : `account file ${current.file} (unreadable)`;
  if (!o.yes) {
    if (!process.stdin.isTTY) throw usageError(`refusing to remove ${what} without confirmation; pass --yes`);
    const answer = await readLine(`Remove ${what}? This cannot be undone. [y/N] `);
    if (!/^y(es)?$/i.test(answer)) {
      log.info('not removed');
      return EXIT_OK;
    }
  }
  const release = await store.lock(id);
  try {
    store.remove(id);
  } finally {
    await release();
  }
  const linked = 'account' in current && current.account.source ? `; the linked ${current.account.source.path} was not touched` : '';
  log.info(`removed ${what}${linked}`);
  if (o.json) printJson({ id, removed: true });
  return EXIT_OK;
}
