import { parseDuration } from '../util/time.js';
import { proxyProblem, show, urlProblem } from '../model/urls.js';
import { defaultConfig, type Config, type NotifyChannel } from './types.js';
import { EFFORTS, type Effort, type ModelMap } from './models.js';

/**
 * One rule per YAML key. Validation walks the whole document and reports every problem as a dot-path,
 * so a user fixes the file in one go instead of one error per run.
 */
type Kind = 'duration' | 'int' | 'bool' | 'string' | 'url' | 'proxy' | 'status-list';
interface Rule {
  kind: Kind;
  /** for strings: the only values allowed */
  choices?: readonly string[];
  nullable?: boolean;
  min?: number;
  max?: number;
  set: (c: Config, v: any) => void;
}

const TOP: Record<string, Rule> = {
  refresh_before_expiry: { kind: 'duration', set: (c, v) => (c.refreshBeforeExpiryMs = v) },
  quota_refresh_after_use: { kind: 'duration', set: (c, v) => (c.quotaRefreshAfterUseMs = v) },
  max_failures: { kind: 'int', min: 1, set: (c, v) => (c.maxFailures = v) },
  failure_backoff: { kind: 'duration', set: (c, v) => (c.failureBackoffMs = v) },
  failure_cooldown: { kind: 'duration', set: (c, v) => (c.failureCooldownMs = v) },
  remind_every: { kind: 'duration', set: (c, v) => (c.remindEveryMs = v) },
  tick_budget: { kind: 'duration', set: (c, v) => (c.tickBudgetMs = v) },
  retry_status_codes: { kind: 'status-list', set: (c, v) => (c.retryStatusCodes = v) },
  max_retries: { kind: 'int', min: 0, max: 10, set: (c, v) => (c.maxRetries = v) },
  request_delay_ms: { kind: 'int', min: 0, set: (c, v) => (c.requestDelayMs = v) },
  concurrency: { kind: 'int', min: 1, max: 256, set: (c, v) => (c.concurrency = v) },
  timeout_ms: { kind: 'int', min: 100, set: (c, v) => (c.timeoutMs = v) },
  max_retry_wait: { kind: 'duration', set: (c, v) => (c.maxRetryWaitMs = v) },
  proxy_url: { kind: 'proxy', nullable: true, set: (c, v) => (c.proxyUrl = v) },
  proxy_pool_url: { kind: 'url', nullable: true, set: (c, v) => (c.proxyPoolUrl = v) },
  proxy_pool_interval: { kind: 'int', min: 1, set: (c, v) => (c.proxyPoolIntervalS = v) },
  notify_give_up: { kind: 'duration', set: (c, v) => (c.notifyGiveUpMs = v) },
};

const PROVIDER_RULES: Record<string, Record<string, Rule>> = {
  anthropic: {
    api_base: { kind: 'url', set: (c, v) => (c.providers.anthropic.apiBase = v) },
    token_url: { kind: 'url', set: (c, v) => (c.providers.anthropic.tokenUrl = v) },
    client_id: { kind: 'string', set: (c, v) => (c.providers.anthropic.clientId = v) },
    authorize_url: { kind: 'url', set: (c, v) => (c.providers.anthropic.authorizeUrl = v) },
    redirect_uri: { kind: 'url', set: (c, v) => (c.providers.anthropic.redirectUri = v) },
    auto_refresh: { kind: 'bool', set: (c, v) => (c.providers.anthropic.autoRefresh = v) },
    window_model: { kind: 'string', set: (c, v) => (c.providers.anthropic.windowModel = v) },
    window_fallback_model: {
      kind: 'string',
      nullable: true,
      set: (c, v) => (c.providers.anthropic.windowFallbackModel = v),
    },
    window_max_tokens: { kind: 'int', min: 1, max: 4096, set: (c, v) => (c.providers.anthropic.windowMaxTokens = v) },
    window_method: { kind: 'string', choices: ['message', 'claude-cli'], set: (c, v) => (c.providers.anthropic.windowMethod = v) },
    claude_path: { kind: 'string', set: (c, v) => (c.providers.anthropic.claudePath = v) },
  },
  codex: {
    api_base: { kind: 'url', set: (c, v) => (c.providers.codex.apiBase = v) },
    token_url: { kind: 'url', set: (c, v) => (c.providers.codex.tokenUrl = v) },
    client_id: { kind: 'string', set: (c, v) => (c.providers.codex.clientId = v) },
    authorize_url: { kind: 'url', set: (c, v) => (c.providers.codex.authorizeUrl = v) },
  },
  grok: {
    api_base: { kind: 'url', set: (c, v) => (c.providers.grok.apiBase = v) },
    auto_refresh_tokens: { kind: 'bool', set: (c, v) => (c.providers.grok.autoRefreshTokens = v) },
    normal_model: { kind: 'string', set: (c, v) => (c.providers.grok.normalModel = v) },
    heavy_model: { kind: 'string', set: (c, v) => (c.providers.grok.heavyModel = v) },
    request_kind: { kind: 'string', nullable: true, set: (c, v) => (c.providers.grok.requestKind = v) },
  },
};

function check(rule: Rule, v: unknown): { value?: unknown; problem?: string } {
  if (v === null) return rule.nullable ? { value: null } : { problem: 'must not be null' };
  switch (rule.kind) {
    case 'duration': {
      const ms = parseDuration(v);
      return ms === null ? { problem: `expected a duration like 90s, 15m, 1h or seconds, got ${show(v)}` } : { value: ms };
    }
    case 'int': {
      if (typeof v !== 'number' || !Number.isInteger(v)) return { problem: `expected a whole number, got ${show(v)}` };
      if (rule.min !== undefined && v < rule.min) return { problem: `must be at least ${rule.min}, got ${v}` };
      if (rule.max !== undefined && v > rule.max) return { problem: `must be at most ${rule.max}, got ${v}` };
      return { value: v };
    }
    case 'bool':
      return typeof v === 'boolean' ? { value: v } : { problem: `expected true or false, got ${show(v)}` };
    case 'string':
      if (typeof v !== 'string' || !v.length) return { problem: `expected a non-empty string, got ${show(v)}` };
      return !rule.choices || rule.choices.includes(v) ? { value: v } : { problem: `expected ${rule.choices.join(' or ')}, got ${show(v)}` };
    case 'url': {
      if (typeof v !== 'string') return { problem: `expected a URL, got ${show(v)}` };
      const p = urlProblem(v);
      return p ? { problem: p } : { value: v.replace(/\/+$/, '') };
    }
    case 'proxy': {
      if (typeof v !== 'string') return { problem: `expected a proxy URL, got ${show(v)}` };
      const p = proxyProblem(v);
      return p ? { problem: p } : { value: v };
    }
    case 'status-list': {
      if (!Array.isArray(v)) return { problem: `expected a list of HTTP status codes, got ${show(v)}` };
      const bad = v.filter((x) => !(Number.isInteger(x) && x >= 100 && x <= 599));
      return bad.length ? { problem: `not HTTP status codes: ${bad.map(show).join(', ')}` } : { value: v };
    }
  }
}

function applyRules(rules: Record<string, Rule>, doc: Record<string, unknown>, path: string, cfg: Config, problems: string[]) {
  for (const [key, value] of Object.entries(doc)) {
    const rule = rules[key];
    if (!rule) continue;
    const r = check(rule, value);
    if (r.problem) problems.push(`${path}${key}: ${r.problem}`);
    else rule.set(cfg, r.value);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SERVE_RULES: Record<string, Rule> = {
  host: { kind: 'string', set: (c, v) => (c.serve.host = v) },
  port: { kind: 'int', min: 0, max: 65535, set: (c, v) => (c.serve.port = v) },
  max_attempts: { kind: 'int', min: 1, max: 20, set: (c, v) => (c.serve.maxAttempts = v) },
  max_body_mb: { kind: 'int', min: 1, max: 1024, set: (c, v) => (c.serve.maxBodyBytes = v * 1024 * 1024) },
  api_keys_file: { kind: 'string', nullable: true, set: (c, v) => (c.serve.apiKeysFile = v) },
  headers_timeout: { kind: 'duration', set: (c, v) => (c.serve.headersTimeoutMs = v) },
  idle_timeout: { kind: 'duration', set: (c, v) => (c.serve.idleTimeoutMs = v) },
  codex_for_claude: { kind: 'string', choices: ['off', 'fallback', 'always'], set: (c, v) => (c.serve.codexForClaude = v) },
  notify_after: { kind: 'duration', set: (c, v) => (c.serve.notifyAfterMs = v) },
};

const FORMATS = ['text', 'json', 'slack', 'discord'] as const;

/** notify: a list of {webhook, format?, proxy?} or {command: [argv]}; each problem as its own dot-path. */
export function validateNotify(doc: unknown, problems: string[]): NotifyChannel[] {
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) return problems.push('notify: expected a list of channels (- webhook: URL, or - command: [program, args…])'), [];
  const out: NotifyChannel[] = [];
  for (const [i, ch] of doc.entries()) {
    const at = `notify[${i}]`;
    if (!isObject(ch)) {
      problems.push(`${at}: expected { webhook: URL, format: text|json|slack|discord } or { command: [program, args…] }`);
      continue;
    }
    const before = problems.length;
    if ('webhook' in ch && 'command' in ch) problems.push(`${at}: one of webhook or command, not both`);
    else if ('webhook' in ch) {
      for (const k of Object.keys(ch)) if (!['webhook', 'format', 'proxy'].includes(k)) problems.push(`${at}.${k}: unknown key`);
      const url = typeof ch.webhook === 'string' ? ch.webhook : '';
      const p = typeof ch.webhook !== 'string' ? `expected a URL, got ${show(ch.webhook)}` : urlProblem(url);
      if (p) problems.push(`${at}.webhook: ${p}`);
      const format = ch.format ?? 'text';
      if (!FORMATS.includes(format as never)) problems.push(`${at}.format: expected ${FORMATS.join(', ')}, got ${show(format)}`);
      let proxy: string | null = null;
      if (ch.proxy !== undefined && ch.proxy !== null) {
        const pp = typeof ch.proxy === 'string' ? proxyProblem(ch.proxy) : `expected a proxy URL, got ${show(ch.proxy)}`;
        if (pp) problems.push(`${at}.proxy: ${pp}`);
        else proxy = ch.proxy as string;
      }
      if (problems.length === before) out.push({ kind: 'webhook', url, format: format as (typeof FORMATS)[number], proxy });
    } else if ('command' in ch) {
      for (const k of Object.keys(ch)) if (k !== 'command') problems.push(`${at}.${k}: unknown key`);
      const argv = ch.command;
      if (!Array.isArray(argv) || !argv.length || !argv.every((a) => typeof a === 'string') || !(argv[0] as string).length) problems.push(`${at}.command: expected a list like [/usr/bin/mail, -s, "refresher on %h", me@example.net] (the program first; no shell)`);
      else out.push({ kind: 'command', argv: argv as string[] });
    } else problems.push(`${at}: expected a webhook or a command key`);
  }
  return out;
}

/** serve.models: {opus|sonnet|haiku: {model, effort}}; each problem as its own dot-path */
function applyModels(doc: unknown, cfg: Config, problems: string[]): void {
  if (!isObject(doc)) return void problems.push('serve.models: expected a mapping of opus, sonnet and haiku');
  for (const [family, entry] of Object.entries(doc)) {
    const at = `serve.models.${family}`;
    if (!(family in cfg.serve.models)) {
      problems.push(`${at}: unknown model family; expected opus, sonnet or haiku`);
      continue;
    }
    if (!isObject(entry)) {
      problems.push(`${at}: expected { model: <codex model>, effort: <${EFFORTS.join('|')}> }`);
      continue;
    }
    const target = cfg.serve.models[family as keyof ModelMap];
    for (const k of Object.keys(entry)) if (k !== 'model' && k !== 'effort') problems.push(`${at}.${k}: unknown key`);
    if (entry.model !== undefined) {
      if (typeof entry.model === 'string' && entry.model) target.model = entry.model;
      else problems.push(`${at}.model: expected a codex model name like gpt-5.5, got ${show(entry.model)}`);
    }
    if (entry.effort !== undefined) {
      if (EFFORTS.includes(entry.effort as Effort)) target.effort = entry.effort as Effort;
      else problems.push(`${at}.effort: expected ${EFFORTS.join(', ')}, got ${show(entry.effort)}`);
    }
  }
}

/** Turns a parsed YAML document into a Config, or the complete list of problems. */
export function validateConfig(doc: unknown): { config: Config; problems: string[] } {
  const cfg = defaultConfig();
  const problems: string[] = [];
  if (doc === null || doc === undefined) return { config: cfg, problems };
  if (!isObject(doc)) return { config: cfg, problems: ['(top level): expected a mapping of keys'] };
  for (const key of Object.keys(doc)) {
    if (!(key in TOP) && key !== 'providers' && key !== 'serve' && key !== 'notify') problems.push(`${key}: unknown key`);
  }
  applyRules(TOP, doc, '', cfg, problems);
  cfg.notify = validateNotify(doc.notify, problems);
  const serve = doc.serve;
  if (serve !== undefined && serve !== null) {
    if (!isObject(serve)) problems.push('serve: expected a mapping');
    else {
      for (const key of Object.keys(serve)) if (!(key in SERVE_RULES) && key !== 'models') problems.push(`serve.${key}: unknown key`);
      applyRules(SERVE_RULES, serve, 'serve.', cfg, problems);
      if (serve.models !== undefined && serve.models !== null) applyModels(serve.models, cfg, problems);
    }
  }
  const providers = doc.providers;
  if (providers !== undefined && providers !== null) {
    if (!isObject(providers)) problems.push('providers: expected a mapping');
    else {
      for (const [name, section] of Object.entries(providers)) {
        const rules = PROVIDER_RULES[name];
        if (!rules) {
          problems.push(`providers.${name}: unknown provider; expected anthropic, codex or grok`);
          continue;
        }
        if (section === null) continue;
        if (!isObject(section)) {
          problems.push(`providers.${name}: expected a mapping`);
          continue;
        }
        for (const key of Object.keys(section)) {
          if (!(key in rules)) problems.push(`providers.${name}.${key}: unknown key`);
        }
        applyRules(rules, section, `providers.${name}.`, cfg, problems);
      }
    }
  }
  return { config: cfg, problems };
}
