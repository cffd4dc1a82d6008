import type { Config } from '../config/types.js';
import type { Account, WindowMethod } from '../model/types.js';

/** The account's window method, or the config's (providers.anthropic.window_method). */
export function windowMethodOf(a: Account, cfg: Config): WindowMethod {
  return a.windowMethod ?? cfg.providers.anthropic.windowMethod;
}
