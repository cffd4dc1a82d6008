import { statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fingerprint, readCache } from '../store/cache.js';
import { version } from '../version.js';
import { defaultConfig, type Config } from './types.js';

/** Where the validated config is remembered under <home>/cache (see loadConfig). */
export const CONFIG_CACHE = 'config.json';

export const configFileOf = (home: string, explicit?: string): string => explicit ?? join(home, 'config.yaml');

/** What a cached config is keyed by: the file's path and fingerprint, and the program version. */
export const configKey = (file: string, st: Stats): string => `${file}:${fingerprint(st).join(':')}:${version()}`;

export const defaultsFor = (file: string): Config => ({ ...defaultConfig(), fingerprint: `none:${file}:${version()}` });

/**
 * The config without parsing or validating anything: the defaults when there is no config file, or what the
 * last full load cached for this very file. Null whenever only a full load can answer (no cache, a changed
 * file, a file others can write, an explicit file that is missing): that load then says what is wrong.
 * The idle tick's bundle uses this alone, so YAML and the validator are never part of it.
 */
export function cachedConfig(home: string, explicit?: string): Config | null {
  const file = configFileOf(home, explicit);
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) return explicit ? null : defaultsFor(file);
  if (st.mode & 0o022) return null;
  const cached = readCache<{ key: string; config: Config }>(home, CONFIG_CACHE);
  return cached?.key === configKey(file, st) ? cached.config : null;
}
