import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `--home DIR`, else $REFRESHER_HOME, else $XDG_DATA_HOME/refresher, else ~/.local/share/refresher. */
export function resolveHome(flag?: string): string {
  if (flag) return resolve(flag);
  if (process.env.REFRESHER_HOME) return resolve(process.env.REFRESHER_HOME);
  if (process.env.XDG_DATA_HOME) return join(resolve(process.env.XDG_DATA_HOME), 'refresher');
  return join(homedir(), '.local', 'share', 'refresher');
}

export { ID_PATTERN } from '../model/types.js';
