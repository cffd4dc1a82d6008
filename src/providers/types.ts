import type { Config } from '../config/types.js';
import type { Account, AccountPatch, ActionKind } from '../model/types.js';
import type { Logger } from '../log.js';
import type { HttpClient } from '../net/client.js';

export interface ProviderContext {
  account: Account;
  cfg: Config;
  http: Pick<HttpClient, 'request'>;
  /** the effective proxy for this account, null = direct */
  proxy: string | null;
  now: () => number;
  log: Logger;
}

/**
 * What an action came to. The runner turns it into the account's new state:
 * - ok: the patch, plus failedCount 0 and lastRefreshAt
 * - permanent: status `expired` (needs a new login); `reason` says what to do
 * - transient: failedCount + 1 and lastFailure
 * - network: the path failed (proxy, DNS, a block of the IP); reported, not counted against the account
 * - refused: the provider's policy said no; the patch records it, failedCount stays
 */
export type Outcome =
  | { kind: 'ok'; patch: AccountPatch; message: string }
  | { kind: 'permanent'; reason: string; patch?: AccountPatch }
  | { kind: 'transient'; reason: string; patch?: AccountPatch }
  | { kind: 'network'; reason: string; blocked?: boolean }
  /** the provider's policy refused the action (a window start drawn from extra usage): not a failure, not retried */
  | { kind: 'refused'; reason: string; patch: AccountPatch };

export type ActionFn = (ctx: ProviderContext) => Promise<Outcome>;

/** One adapter per provider; an action it lacks does not apply to that provider. */
export type ProviderAdapter = Partial<Record<ActionKind, ActionFn>>;
