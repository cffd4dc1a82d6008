import { readFileSync } from 'node:fs';
import { EXIT_OK, usageError } from '../errors.js';
import { registerSecret } from '../util/secrets.js';
import { openContext, type GlobalOptions } from './context.js';

/**
 * `refresher serve`: the local forwarding proxy over the accounts. Binds 127.0.0.1 unless client keys are
 * configured; keys come from a file, never from argv. SIGTERM, SIGINT or SIGHUP: stop accepting, let streams
 * finish for up to 10 s, write what was learned, exit 0.
 */
export interface ServeCliOptions {
  host?: string;
  port?: string;
  apiKeyFile?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function readKeys(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`client keys ${file}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
  }
  const keys = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!keys.length) throw usageError(`client keys ${file}: no key in it (one per line)`);
  for (const k of keys) {
    if (k.length < 16) throw usageError(`client keys ${file}: every key must be at least 16 characters`);
    registerSecret(k);
  }
  return keys;
}

export async function serve(g: GlobalOptions, o: ServeCliOptions): Promise<number> {
  // a proxy parses responses for hours: let V8 optimize undici's parser (see dispatcher.ts)
  (await import('../net/dispatcher.js')).parseForLongRun();
  const ctx = await openContext(g, { existing: true, buffered: true });
  const { cfg, log, store } = ctx;
  const host = o.host ?? cfg.serve.host;
  const port = o.port === undefined ? cfg.serve.port : Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port: expected 0-65535, got "${o.port}"`);
  const keyFile = o.apiKeyFile ?? cfg.serve.apiKeysFile;
  const keys = keyFile ? readKeys(keyFile) : [];
  if (!LOOPBACK.has(host) && !keys.length) {
    throw usageError(`refusing to listen on ${host} without client keys: anyone who can reach it would use your accounts. Give --api-key-file FILE (or serve.api_keys_file), or keep 127.0.0.1`);
  }
  const { ServeServer } = await import('../serve/server.js');
  const server = new ServeServer({ store, cfg, log, host, port, keys });
  const url = await server.listen();
  log.info(`[serve] listening on ${url} (${keys.length ? `${keys.length} client key(s)` : 'loopback only, no client keys'}); point the clients here with \`refresher connect claude\` and \`refresher connect codex\``);
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      log.warn(`[serve] ${sig}: no new requests; finishing the ones in flight (up to 10 s)`);
      resolve();
    };
    process.once('SIGINT', stop).once('SIGTERM', stop).once('SIGHUP', stop);
  });
  await server.close(10_000);
  return EXIT_OK;
}
