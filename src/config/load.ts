import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitError, EXIT_USAGE } from '../errors.js';
import { defaultConfig, type Config } from './types.js';
import { validateConfig } from './validate.js';
import { cjs } from '../util/cjs.js';

/**
 * `--config FILE`, else `<home>/config.yaml`. A missing default file means defaults; a missing explicit
 * file is an error. The YAML parser is imported only when there is a file, to keep idle ticks fast.
 */
export async function loadConfig(home: string, explicit?: string): Promise<Config> {
  const file = explicit ?? join(home, 'config.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return defaultConfig();
    throw new ExitError(EXIT_USAGE, `config ${file}: cannot read it (${code ?? String(e)})`);
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
    throw new ExitError(
      EXIT_USAGE,
      `config ${file} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n` +
        problems.map((p) => `  ${p}`).join('\n') +
        `\nSee accounts.example.yaml for every key and its default.`,
    );
  }
  config.source = file;
  return config;
}
