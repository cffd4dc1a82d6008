import { join, resolve } from 'node:path';

/** `--home DIR`, else $REFRESHER_HOME, else $XDG_DATA_HOME/refresher, else ~/.local/share/refresher. */
export function resolveHome(flag?: string): string {
  if (flag) return resolve(flag);
  if (process.env.REFRESHER_HOME) return resolve(process.env.REFRESHER_HOME);
  if (process.env.XDG_DATA_HOME) return join(resolve(process.env.XDG_DATA_HOME), 'refresher');
  return join(homeDir(), '.local', 'share', 'refresher');
}

/**
 * os.homedir(), which answers $HOME whenever it is set (libuv's uv_os_homedir). Loading node:os costs an idle tick
 * ~0.6 ms in a fresh process, so it is loaded only to ask the password database when $HOME is unset.
 */
export function homeDir(): string {
  return process.env.HOME ?? (process.getBuiltinModule('node:os') as typeof import('node:os')).homedir();
}

export { ID_PATTERN } from '../model/types.js';
