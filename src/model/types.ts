/** The domain: what an account is, what can be done to one, and what the planner decides. No I/O here. */

/** What an account id (and its file name) may be. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const PROVIDERS = ['anthropic', 'codex', 'grok'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const ACTIONS = ['token', 'window', 'quota'] as const;

/**
 * How an anthropic usage window is started: `message`, refresher's own smallest request; `claude-cli`, the
 * user's installed Claude Code, run headless with the account's token.
 */
export const WINDOW_METHODS = ['message', 'claude-cli'] as const;
export type WindowMethod = (typeof WINDOW_METHODS)[number];

/** A window start the provider refused by its policy: not planned again with that method until a person acts. */
export interface WindowRefusal {
  refusedAt: number;
  reason: string;
  method: WindowMethod;
}
export type ActionKind = (typeof ACTIONS)[number];

export interface OAuthCredentials {
  accessToken: string;
  refreshToken: string;
  /** epoch ms; null when unknown */
  expiresAt: number | null;
}
export interface CodexCredentials extends OAuthCredentials {
  idToken: string | null;
  accountId: string | null;
}
export interface GrokCredentials {
  sso: string;
  ssoRw: string | null;
}

export interface Failure {
  at: number;
  reason: string;
}

/** Quota snapshots; times are epoch ms. Every field may be null: upstreams omit them freely. */
export interface UsageWindow {
  utilization?: number | null;
  usedPercent?: number | null;
  resetsAt?: number | null;
  resetAt?: number | null;
}
export interface Quota {
  checkedAt: number | null;
  /** grok: per model, with the window the counts are for (seconds; 7200 when the answer has none) */
  remainingQueries?: number | null;
  totalQueries?: number | null;
  windowSizeSeconds?: number | null;
  heavyRemainingQueries?: number | null;
  heavyTotalQueries?: number | null;
  heavyWindowSizeSeconds?: number | null;
  /** anthropic (utilization 0-100) and codex (usedPercent): named by what they are, never by position */
  fiveHour?: UsageWindow | null;
  sevenDay?: UsageWindow | null;
  /** codex: the weekly window (10,080 minutes) */
  weekly?: UsageWindow | null;
  /** every other window the service reports: anthropic by its name (seven_day_opus, extra_usage, …), codex by its minutes (`90m`) */
  windows?: Record<string, UsageWindow> | null;
  /** written before 0.2 for codex; read for display only */
  primary?: UsageWindow | null;
  secondary?: UsageWindow | null;
}

interface AccountBase {
  version: 1;
  id: string;
  label: string | null;
  email: string | null;
  autoRefresh: boolean;
  paused: boolean;
  priority: number;
  status: 'active' | 'expired';
  failedCount: number;
  lastFailure: Failure | null;
  lastUsedAt: number | null;
  lastRefreshAt: number | null;
  /** when the current usage window resets, epoch ms */
  rateLimitReset: number | null;
  quota: Quota | null;
  /** a proxy URL, "direct", or null = use the config */
  proxy: string | null;
  /** a custom API base URL, or null = providers.<p>.api_base */
  endpoint: string | null;
  /** what makes an imported account the same account on re-import (provider + email, account id or cookie hash) */
  identity: string | null;
  /** a linked import: the official CLI's file that shares these tokens (adopted from and written back to) */
  source: LinkedSource | null;
  /**
   * anthropic: the access token is a setup token (`claude setup-token`, about a year, no refresh token). It is
   * never refreshed; it can only be replaced.
   */
  setupToken: boolean;
  /** anthropic: the window method for this account, or null = providers.anthropic.window_method */
  windowMethod: WindowMethod | null;
  /** anthropic: the provider refused to start a window (see WindowRefusal), or null */
  window: WindowRefusal | null;
  /** serve: not chosen before this time (epoch ms; a 429's reset), or null */
  cooldownUntil: number | null;
  /**
   * Never stored: set by the store when <home>/recovery/ holds newer tokens for this account than its file
   * (the path of that recovery file). Such an account must not be refreshed from its stale file.
   */
  recovery?: string | null;
}

export const SOURCE_FORMATS = ['claude-credentials', 'codex-auth'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];
export interface LinkedSource {
  format: SourceFormat;
  path: string;
}

export type AnthropicAccount = AccountBase & { provider: 'anthropic'; credentials: OAuthCredentials };
export type CodexAccount = AccountBase & { provider: 'codex'; credentials: CodexCredentials };
export type GrokAccount = AccountBase & { provider: 'grok'; credentials: GrokCredentials };
export type Account = AnthropicAccount | CodexAccount | GrokAccount;

/** What an action changes. Credentials are merged field by field; everything else replaces. */
export type AccountPatch = Partial<Omit<AccountBase, 'id' | 'version' | 'source' | 'recovery'>> & {
  source?: LinkedSource | null;
  credentials?: Partial<OAuthCredentials & CodexCredentials & GrokCredentials>;
};

export interface PlannedAction {
  account: string;
  action: ActionKind;
  reason: string;
}

export interface NextDue {
  action: ActionKind;
  at: number;
  reason: string;
}

export interface AccountPlan {
  id: string;
  actions: PlannedAction[];
  /** set when the account is skipped as a whole */
  skip: string | null;
  /** the earliest action that is or will become due; null when skipped or nothing can become due */
  next: NextDue | null;
  /**
   * when the earliest action becomes due, as the file alone says (-Infinity = it always was); unlike
   * `next.at`, it never depends on `now`, so it is what the plan cache may remember. Null = never.
   */
  dueAt: number | null;
}

export interface Plan {
  now: number;
  accounts: AccountPlan[];
  actions: PlannedAction[];
  skipped: { account: string; reason: string }[];
}

/** Every optional field of an account file at its default: what a new account starts with. */
export const ACCOUNT_DEFAULTS = {
  label: null,
  email: null,
  autoRefresh: true,
  paused: false,
  priority: 0,
  status: 'active',
  failedCount: 0,
  lastFailure: null,
  lastUsedAt: null,
  lastRefreshAt: null,
  rateLimitReset: null,
  quota: null,
  proxy: null,
  endpoint: null,
  identity: null,
  source: null,
  setupToken: false,
  windowMethod: null,
  window: null,
  cooldownUntil: null,
} as const satisfies Partial<Account>;

export function isOAuth(a: Account): a is AnthropicAccount | CodexAccount {
  return a.provider !== 'grok';
}
