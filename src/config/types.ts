import { DEFAULT_MODEL_MAP, type ModelMap } from './models.js';
export interface AnthropicSettings {
  apiBase: string;
  tokenUrl: string;
  clientId: string;
  authorizeUrl: string;
  redirectUri: string;
  autoRefresh: boolean;
  windowModel: string;
  windowFallbackModel: string | null;
  windowMaxTokens: number;
  /** how a window is started; an account's windowMethod overrides it */
  windowMethod: 'message' | 'claude-cli';
  /** the Claude Code binary for window_method claude-cli */
  claudePath: string;
}
export interface CodexSettings {
  apiBase: string;
  tokenUrl: string;
  clientId: string;
  authorizeUrl: string;
}
export interface GrokSettings {
  apiBase: string;
  autoRefreshTokens: boolean;
  normalModel: string;
  heavyModel: string;
  /** sent as requestKind only when set: current clients send none */
  requestKind: string | null;
}

export interface ServeSettings {
  host: string;
  port: number;
  /** accounts tried for one request */
  maxAttempts: number;
  /** largest request body accepted (bytes); a larger one gets 413 */
  maxBodyBytes: number;
  /** a file of client keys, one per line; required to bind off loopback */
  apiKeysFile: string | null;
  /** how long to wait for an upstream's response headers, and for the next chunk of a body */
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** Anthropic Messages clients on codex accounts: never, when no anthropic account can serve, or always */
  codexForClaude: 'off' | 'fallback' | 'always';
  /** which codex model and effort answers a Claude model name */
  models: ModelMap;
  /** every account of a provider cooling down for longer than this is a notification */
  notifyAfterMs: number;
}

/** Where a notification goes: a webhook (POST, in a receiver's format) or a command (the message on stdin). */
export type NotifyChannel =
  | { kind: 'webhook'; url: string; format: 'text' | 'json' | 'slack' | 'discord'; proxy: string | null }
  | { kind: 'command'; argv: string[] };

export interface Config {
  /** where the config came from, for messages; null = defaults only */
  source: string | null;
  /** identifies the config file's content (inode, size, times) and the program version, for caches */
  fingerprint: string;
  refreshBeforeExpiryMs: number;
  quotaRefreshAfterUseMs: number;
  maxFailures: number;
  /** first wait after max_failures failures; doubles with each further failure */
  failureBackoffMs: number;
  /** the longest wait between tries of a failing account */
  failureCooldownMs: number;
  /** how often a tick repeats the line that names the accounts that need a person */
  remindEveryMs: number;
  /** after this long a tick starts nothing new and reports what it left undone */
  tickBudgetMs: number;
  retryStatusCodes: number[];
  maxRetries: number;
  requestDelayMs: number;
  concurrency: number;
  timeoutMs: number;
  maxRetryWaitMs: number;
  proxyUrl: string | null;
  proxyPoolUrl: string | null;
  proxyPoolIntervalS: number;
  providers: { anthropic: AnthropicSettings; codex: CodexSettings; grok: GrokSettings };
  serve: ServeSettings;
  /** where a person is told when an account needs them (empty: only the tick's output) */
  notify: NotifyChannel[];
  /** a notification not delivered by then is dropped (with a warning) */
  notifyGiveUpMs: number;
}

export function defaultConfig(): Config {
  return {
    source: null,
    fingerprint: 'defaults',
    refreshBeforeExpiryMs: 15 * 60_000,
    quotaRefreshAfterUseMs: 60 * 60_000,
    maxFailures: 3,
    failureBackoffMs: 5 * 60_000,
    failureCooldownMs: 60 * 60_000,
    remindEveryMs: 24 * 60 * 60_000,
    tickBudgetMs: 10 * 60_000,
    // 401 is not here: a dead token answers 401 every time (add it for an upstream whose 401s are flaky)
    retryStatusCodes: [429],
    maxRetries: 3,
    requestDelayMs: 1000,
    concurrency: 4,
    timeoutMs: 30_000,
    maxRetryWaitMs: 30_000,
    proxyUrl: null,
    proxyPoolUrl: null,
    proxyPoolIntervalS: 300,
    serve: {
      host: '127.0.0.1',
      port: 8787,
      maxAttempts: 3,
      maxBodyBytes: 32 * 1024 * 1024,
      apiKeysFile: null,
      headersTimeoutMs: 120_000,
      idleTimeoutMs: 300_000,
      codexForClaude: 'off',
      models: structuredClone(DEFAULT_MODEL_MAP),
      notifyAfterMs: 15 * 60_000,
    },
    notify: [],
    notifyGiveUpMs: 3 * 86_400_000,
    providers: {
      anthropic: {
        apiBase: 'https://api.anthropic.com',
        tokenUrl: 'https://platform.claude.com/v1/oauth/token',
        clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
        authorizeUrl: 'https://claude.ai/oauth/authorize',
        redirectUri: 'https://platform.claude.com/oauth/code/callback',
        autoRefresh: true,
        windowModel: 'claude-haiku-4-5',
        windowFallbackModel: 'claude-sonnet-4-5',
        windowMaxTokens: 10,
        windowMethod: 'message',
        claudePath: 'claude',
      },
      codex: {
        apiBase: 'https://chatgpt.com/backend-api',
        tokenUrl: 'https://auth.openai.com/oauth/token',
        clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
        authorizeUrl: 'https://auth.openai.com/oauth/authorize',
      },
      grok: {
        apiBase: 'https://grok.com',
        autoRefreshTokens: true,
        normalModel: 'auto',
        heavyModel: 'heavy',
        requestKind: null,
      },
    },
  };
}
