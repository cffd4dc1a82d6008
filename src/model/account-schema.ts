import { ACCOUNT_DEFAULTS, ID_PATTERN, PROVIDERS, SOURCE_FORMATS, WINDOW_METHODS, type Account, type LinkedSource, type Provider, type WindowMethod } from './types.js';
import { proxyProblem, urlProblem } from './urls.js';

/**
 * Validates one parsed account file. The raw object is kept by the store (unknown fields survive a write);
 * this returns the typed view with defaults filled in, or the first problem as {field, message}.
 */
export interface SchemaProblem {
  field: string;
  message: string;
}

type Raw = Record<string, unknown>;

class Problem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function obj(raw: unknown, field: string): Raw {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Problem(field, `expected an object, got ${typeName(raw)}`);
  return raw as Raw;
}
function str(o: Raw, key: string, path: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): string | null {
  const v = o[key];
  if (v === undefined || v === null) {
    if (opts.optional) return null;
    throw new Problem(path + key, 'is missing');
  }
  if (typeof v !== 'string') throw new Problem(path + key, `expected a string, got ${typeName(v)}`);
  if (opts.nonEmpty && v.length === 0) throw new Problem(path + key, 'must not be empty');
  return v;
}
function num(o: Raw, key: string, path = '', opts: { int?: boolean; min?: number } = {}): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Problem(path + key, `expected a number, got ${typeName(v)}`);
  if (opts.int && !Number.isInteger(v)) throw new Problem(path + key, `expected a whole number, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new Problem(path + key, `must be at least ${opts.min}, got ${v}`);
  return v;
}
function bool(o: Raw, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new Problem(key, `expected true or false, got ${typeName(v)}`);
  return v;
}

function credentials(provider: Provider, raw: unknown): Account['credentials'] {
  const c = obj(raw, 'credentials');
  const p = 'credentials.';
  if (provider === 'grok') return { sso: str(c, 'sso', p, { nonEmpty: true })!, ssoRw: str(c, 'ssoRw', p, { optional: true }) };
  const base = {
    accessToken: str(c, 'accessToken', p, { optional: true }) ?? '',
    refreshToken: str(c, 'refreshToken', p, { optional: true }) ?? '',
    expiresAt: num(c, 'expiresAt', p),
  };
  if (!base.accessToken && !base.refreshToken) throw new Problem('credentials', 'needs an accessToken or a refreshToken');
  if (provider === 'codex') return { ...base, idToken: str(c, 'idToken', p, { optional: true }), accountId: str(c, 'accountId', p, { optional: true }) };
  return base;
}

function failure(raw: unknown): Account['lastFailure'] {
  if (raw === undefined || raw === null) return null;
  const f = obj(raw, 'lastFailure');
  const at = num(f, 'at', 'lastFailure.');
  if (at === null) throw new Problem('lastFailure.at', 'is missing');
  return { at, reason: str(f, 'reason', 'lastFailure.', { optional: true }) ?? '' };
}

function source(raw: unknown): LinkedSource | null {
  if (raw === undefined || raw === null) return null;
  const o = obj(raw, 'source');
  const format = str(o, 'format', 'source.')!;
  if (!(SOURCE_FORMATS as readonly string[]).includes(format)) throw new Problem('source.format', `unknown format "${format}"; expected ${SOURCE_FORMATS.join(' or ')}`);
  const path = str(o, 'path', 'source.', { nonEmpty: true })!;
  if (!path.startsWith('/')) throw new Problem('source.path', 'must be an absolute path');
  return { format: format as LinkedSource['format'], path };
}

function windowMethod(raw: unknown, field: string): WindowMethod | null {
  if (raw === undefined || raw === null) return null;
  if (!(WINDOW_METHODS as readonly unknown[]).includes(raw)) throw new Problem(field, `expected ${WINDOW_METHODS.join(' or ')}, got ${typeName(raw)}`);
  return raw as WindowMethod;
}

function windowRefusal(raw: unknown): Account['window'] {
  if (raw === undefined || raw === null) return null;
  const w = obj(raw, 'window');
  const refusedAt = num(w, 'refusedAt', 'window.');
  if (refusedAt === null) throw new Problem('window.refusedAt', 'is missing');
  return { refusedAt, reason: str(w, 'reason', 'window.', { optional: true }) ?? '', method: windowMethod(w.method, 'window.method') ?? 'message' };
}

function quota(raw: unknown): Account['quota'] {
  if (raw === undefined || raw === null) return null;
  const q = obj(raw, 'quota');
  num(q, 'checkedAt', 'quota.');
  return { ...(q as object), checkedAt: (q.checkedAt as number | undefined) ?? null } as Account['quota'];
}

export function parseAccount(raw: unknown, fileId: string): { account: Account } | { problem: SchemaProblem } {
  try {
    const o = obj(raw, '(top level)');
    if (o.version !== undefined && o.version !== 1) throw new Problem('version', `unsupported version ${JSON.stringify(o.version)}; this refresher reads version 1`);
    const id = str(o, 'id', '', { nonEmpty: true })!;
    if (!ID_PATTERN.test(id)) throw new Problem('id', `"${id}" is not a valid id ([a-z0-9][a-z0-9._-]{0,63})`);
    if (id !== fileId) throw new Problem('id', `"${id}" differs from the file name "${fileId}.json"; rename the file or fix the id`);
    const provider = str(o, 'provider', '')!;
    if (!(PROVIDERS as readonly string[]).includes(provider)) throw new Problem('provider', `unknown provider "${provider}"; expected anthropic, codex or grok`);
    const status = o.status ?? ACCOUNT_DEFAULTS.status;
    if (status !== 'active' && status !== 'expired') throw new Problem('status', `expected "active" or "expired", got ${JSON.stringify(status)}`);
    const proxy = str(o, 'proxy', '', { optional: true });
    if (proxy !== null) {
      const p = proxyProblem(proxy);
      if (p) throw new Problem('proxy', p);
    }
    const endpoint = str(o, 'endpoint', '', { optional: true });
    if (endpoint !== null) {
      const p = urlProblem(endpoint);
      if (p) throw new Problem('endpoint', p);
    }
    const account = {
      version: 1,
      id,
      provider: provider as Provider,
      label: str(o, 'label', '', { optional: true }),
      email: str(o, 'email', '', { optional: true }),
      credentials: credentials(provider as Provider, o.credentials),
      autoRefresh: bool(o, 'autoRefresh', ACCOUNT_DEFAULTS.autoRefresh),
      paused: bool(o, 'paused', ACCOUNT_DEFAULTS.paused),
      priority: num(o, 'priority', '', { int: true }) ?? ACCOUNT_DEFAULTS.priority,
      status,
      failedCount: num(o, 'failedCount', '', { int: true, min: 0 }) ?? ACCOUNT_DEFAULTS.failedCount,
      lastFailure: failure(o.lastFailure),
      lastUsedAt: num(o, 'lastUsedAt'),
      lastRefreshAt: num(o, 'lastRefreshAt'),
      rateLimitReset: num(o, 'rateLimitReset'),
      quota: quota(o.quota),
      proxy,
      endpoint: endpoint?.replace(/\/+$/, '') ?? null,
      identity: str(o, 'identity', '', { optional: true }),
      source: source(o.source),
      setupToken: bool(o, 'setupToken', ACCOUNT_DEFAULTS.setupToken),
      windowMethod: windowMethod(o.windowMethod, 'windowMethod'),
      window: windowRefusal(o.window),
      cooldownUntil: num(o, 'cooldownUntil'),
    } as Account;
    return { account };
  } catch (e) {
    if (e instanceof Problem) return { problem: { field: e.field, message: e.message } };
    throw e;
  }
}

/** Every secret in an account, for the output scrubber. */
export function secretsOf(a: Account): string[] {
  const c = a.credentials as unknown as Record<string, unknown>;
  return ['accessToken', 'refreshToken', 'idToken', 'sso', 'ssoRw'].map((k) => c[k]).filter((v): v is string => typeof v === 'string');
}
