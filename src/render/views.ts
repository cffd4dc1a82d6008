import type { Config } from '../config/types.js';
import type { Account } from '../model/types.js';
import { describeProxy } from '../net/proxy.js';

/** An account's settings as `account list --json` and `status --json` show them: no credentials, proxy redacted. */
export function settingsView(a: Account, cfg: Config, poolAnswer: string | null) {
  return {
    id: a.id,
    provider: a.provider,
    label: a.label,
    email: a.email,
    status: a.status,
    paused: a.paused,
    autoRefresh: a.autoRefresh,
    priority: a.priority,
    proxy: describeProxy(a, cfg, poolAnswer),
    endpoint: a.endpoint,
    source: a.source,
  };
}
