import { manualCandidate } from '../accounts/manual.js';
import { readLine, readSecretText } from '../accounts/secret-input.js';
import { missingCodexId, upsert } from '../accounts/upsert.js';
import { proxyProblem } from '../model/urls.js';
import { PROVIDERS, type Provider } from '../model/types.js';
import { EXIT_OK, usageError } from '../errors.js';
import { writeErr } from '../log.js';
import { openContext, printJson, type GlobalOptions } from './context.js';

export interface AddOptions {
  login?: boolean;
  name?: string;
  port?: string;
  browser?: boolean;
  timeout?: string;
  secretsFile?: string;
  force?: boolean;
  label?: string;
  proxy?: string;
  setupToken?: boolean;
  json?: boolean;
}

export function parseProvider(p: string): Provider {
  if (!(PROVIDERS as readonly string[]).includes(p)) throw usageError(`unknown provider "${p}"; expected ${PROVIDERS.join(', ')}`);
  return p as Provider;
}

/** `account add <provider> --login` (OAuth with PKCE) or `account add <provider> --name ID` (secrets on stdin). */
export async function accountAdd(g: GlobalOptions, providerArg: string, o: AddOptions): Promise<number> {
  const provider = parseProvider(providerArg);
  if (o.setupToken && (provider !== 'anthropic' || o.login)) throw usageError('--setup-token is for `account add anthropic --name ID` with the token on stdin');
  if (o.proxy && o.proxy !== 'direct' && proxyProblem(o.proxy)) throw usageError(`--proxy: ${proxyProblem(o.proxy)}`);
  const { store, cfg, log } = await openContext(g, { json: o.json });
  const loaded = store.loadAll();
  for (const p of loaded.problems) log.warn(`${p.file}: skipped while checking for duplicates (${p.message})`);
  const existing = loaded.accounts.map((l) => l.account);

  let candidate;
  if (o.login) {
    if (provider === 'grok') throw usageError('grok has no OAuth login; pipe the sso cookie instead: refresher account add grok --name ID < sso.txt');
    const { clientFromConfig } = await import('../net/client.js');
    const ctx = {
      cfg,
      http: clientFromConfig(cfg),
      proxy: o.proxy === 'direct' ? null : (o.proxy ?? cfg.proxyUrl),
      say: (t: string) => writeErr(t + '\n'),
      now: () => Date.now(),
    };
    const login = await import('../providers/login.js');
    try {
      candidate =
        provider === 'anthropic'
          ? await login.anthropicLogin(ctx, () => readLine('Code: '))
          : await login.codexLogin(ctx, {
              port: o.port === undefined ? 1455 : Number(o.port),
              openBrowser: o.browser !== false,
              timeoutMs: (o.timeout === undefined ? 300 : Number(o.timeout)) * 1000,
            });
    } finally {
      const { closeDispatchers } = await import('../net/dispatcher.js');
      await closeDispatchers();
    }
  } else {
    if (!o.name) throw usageError(`--name ID is required without --login (e.g. refresher account add ${provider} --name work < secrets.json)`);
    const text = await readSecretText({ secretsFile: o.secretsFile, prompt: `Paste the ${provider === 'grok' ? 'sso cookie' : 'token JSON'} (hidden), then Enter: ` });
    candidate = manualCandidate(provider, text, o.name, { setupToken: o.setupToken });
  }
  if (o.label) candidate.label = o.label;
  const result = await upsert(store, existing, candidate, { link: false, name: o.name, force: o.force });
  if (o.proxy) {
    const release = await store.lock(result.id);
    try {
      await store.update(result.id, { proxy: o.proxy });
    } finally {
      await release();
    }
  }
  const missing = missingCodexId(candidate, result.id);
  if (missing) log.warn(missing);
  const who = candidate.email ? ` (${candidate.email})` : '';
  log.info(`${result.action === 'added' ? 'added' : result.action === 'updated' ? 'updated' : 'already up to date:'} ${provider} account ${result.id}${who}`);
  if (o.json) printJson(result);
  return EXIT_OK;
}
