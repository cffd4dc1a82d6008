import { readFileSync, statSync } from 'node:fs';
import { ExitError, EXIT_USAGE } from '../errors.js';
import { statFingerprint, writeCache } from '../store/cache.js';
import { cjs } from '../util/cjs.js';
import { cachedConfig, CONFIG_CACHE, configFileOf, configKey, defaultsFor } from './cached.js';
import type { Config } from './types.js';
import { validateConfig } from './validate.js';

/**
 * A config with problems stops every command, so its owner must hear of it: when the notify channels (and the
 * keys delivery uses) are themselves fine, they are kept on the error, to tell a person that the runs stopped.
 */
export class ConfigError extends ExitError {
  constructor(
    readonly salvaged: Config | null,
    message: string,
  ) {
    super(EXIT_USAGE, message);
  }
}

function salvageNotify(partial: Config, problems: string[]): Config | null {
  const delivery = /^(notify\b|notify_give_up|timeout_ms|proxy_url|remind_every)/;
  if (!partial.notify.length || problems.some((p) => delivery.test(p))) return null;
  return partial;
}

/**
 * `--config FILE`, else `<home>/config.yaml`. A missing default file means defaults; a missing explicit
 * file is an error. Parsing YAML costs more than an idle tick does, so the validated result is cached
 * under <home>/cache and reused while the file's inode, size and times are unchanged.
 */
export async function loadConfig(home: string, explicit?: string): Promise<Config> {
  const quick = cachedConfig(home, explicit);
  if (quick) return quick;
  const file = configFileOf(home, explicit);
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) {
    if (!explicit) return defaultsFor(file);
    throw new ExitError(EXIT_USAGE, `config ${file}: cannot read it (no such file)`);
  }
  // The config decides where refresh tokens are sent: like ssh with a loose key, refuse one others can change.
  if (st.mode & 0o022) {
    throw new ExitError(EXIT_USAGE, `config ${file} is mode ${(st.mode & 0o777).toString(8)}: writable by group or others, who could send your refresh tokens elsewhere. Run: chmod 600 ${file}`);
  }
  const key = configKey(file, st);

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ExitError(EXIT_USAGE, `config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const { parse } = cjs(await import('yaml'));
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new ExitError(EXIT_USAGE, `config ${file}: not valid YAML: ${msg}`);
  }
  const { config, problems } = validateConfig(doc);
  if (problems.length) {
    throw new ConfigError(
      salvageNotify(config, problems),
      `config ${file} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n` +
        problems.map((p) => `  ${p}`).join('\n') +
        `\nSee accounts.example.yaml for every key and its default.`,
    );
  }
  config.source = file;
  config.fingerprint = key;
  // Only a home that exists gets a cache: reading a config must not create directories elsewhere.
  if (statFingerprint(home) !== null) writeCache(home, CONFIG_CACHE, { key, config });
  return config;
}
