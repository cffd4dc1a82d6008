import { describeJsonError } from '../util/secrets.js';
import { createHash } from 'node:crypto';
import type { AccountPatch, LinkedSource, Provider, Quota } from '../model/types.js';
import { codexIdentity } from '../providers/jwt.js';

/**
 * The token files of other tools, recognised by their content, turned into account candidates. Pure: the
 * caller reads the file and decides what to write.
 */
export interface Candidate {
  provider: Provider;
  /** the format's name, for messages */
  format: string;
  /** same identity = same account on re-import */
  identity: string;
  /** the id to use for a new account, before making it unique */
  suggestedId: string;
  email: string | null;
  label: string | null;
  credentials: NonNullable<AccountPatch['credentials']>;
  /** state kept from the source (grok counters, status, failures) */
  state: AccountPatch;
  /** set for the official CLIs' files, whose tokens we share */
  link: LinkedSource | null;
}

export type Detected = { format: string; candidates: Candidate[] } | { error: string };

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function ssoHash(sso: string): string {
  return createHash('sha256').update(sso).digest('hex').slice(0, 16);
}

/** An id made from an email or a name: lower case, [a-z0-9._-], at most 64 characters. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/@/g, '-at-')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return (s || 'account').slice(0, 64);
}

/** `sso=…; sso-rw=…`, JSON `{sso, ssoRw|sso-rw|sso_rw}`, or a bare cookie value. */
export function parseGrokCookies(input: string | Obj): { sso: string; ssoRw: string | null } | null {
  if (isObj(input)) {
    const sso = str(input.sso) ?? str(input.token);
    if (!sso) return str(input.cookie) ? parseGrokCookies(input.cookie) : null;
    return { sso: sso.replace(/^sso=/, ''), ssoRw: str(input.ssoRw) ?? str(input['sso-rw']) ?? str(input.sso_rw) };
  }
  const text = input.trim();
  if (!text) return null;
  if (text.includes('=')) {
    const parts = Object.fromEntries(
      text
        .split(/;\s*/)
        .map((p) => p.trim().split(/=(.*)/s))
        .filter((kv) => kv.length >= 2)
        .map(([k, v]) => [k!.trim(), (v ?? '').trim()]),
    );
    return parts.sso ? { sso: parts.sso, ssoRw: parts['sso-rw'] || null } : null;
  }
  return /^\S+$/.test(text) ? { sso: text, ssoRw: null } : null;
}

function grokCandidate(format: string, cookies: { sso: string; ssoRw: string | null }, st: Obj, label: string | null): Candidate {
  const h = ssoHash(cookies.sso);
  const queries = (v: unknown) => {
    const n = num(v);
    return n === null || n < 0 ? null : n; // -1 = unknown in grok tools
  };
  const remaining = queries(st.remainingQueries);
  const heavy = queries(st.heavyremainingQueries ?? st.heavyRemainingQueries);
  const state: AccountPatch = {};
  if (remaining !== null || heavy !== null) {
    const quota: Quota = { checkedAt: null, remainingQueries: remaining, heavyRemainingQueries: heavy };
    state.quota = quota;
  }
  if (st.status === 'expired') state.status = 'expired';
  if (num(st.failedCount) !== null) state.failedCount = Math.max(0, Math.floor(st.failedCount));
  const failedAt = num(st.lastFailureTime);
  if (failedAt !== null) state.lastFailure = { at: failedAt, reason: str(st.lastFailureReason) ?? 'imported' };
  return {
    provider: 'grok',
    format,
    identity: `grok:sso:${h}`,
    suggestedId: `grok-${h.slice(0, 8)}`,
    email: null,
    label,
    credentials: { sso: cookies.sso, ssoRw: cookies.ssoRw },
    state,
    link: null,
  };
}

function claudeCredentials(o: Obj, path: string): Candidate[] {
  const c = o.claudeAiOauth;
  if (!isObj(c) || !str(c.refreshToken)) throw new Error('claudeAiOauth has no refreshToken');
  return [
    {
      provider: 'anthropic',
      format: 'Claude Code .credentials.json',
      identity: `anthropic:path:${path}`,
      suggestedId: 'claude-code',
      email: null,
      label: str(c.subscriptionType) ? `Claude Code (${c.subscriptionType})` : 'Claude Code',
      credentials: { accessToken: str(c.accessToken) ?? '', refreshToken: c.refreshToken, expiresAt: num(c.expiresAt) },
      state: {},
      link: { format: 'claude-credentials', path },
    },
  ];
}

function codexAuth(o: Obj, path: string): Candidate[] {
  const t = o.tokens;
  if (!isObj(t) || !str(t.refresh_token)) throw new Error('tokens has no refresh_token');
  const who = codexIdentity(str(t.access_token), str(t.id_token));
  const accountId = str(t.account_id) ?? who.accountId;
  const key = who.email ?? accountId ?? `path:${path}`;
  return [
    {
      provider: 'codex',
      format: 'Codex CLI auth.json',
      identity: `codex:${key}`,
      suggestedId: who.email ? slug(who.email) : 'codex',
      email: who.email,
      label: who.plan ? `Codex CLI (${who.plan})` : 'Codex CLI',
      credentials: { accessToken: str(t.access_token) ?? '', refreshToken: t.refresh_token, idToken: str(t.id_token), accountId, expiresAt: who.expiresAt },
      state: {},
      link: { format: 'codex-auth', path },
    },
  ];
}

function cliProxy(o: Obj): Candidate[] {
  const provider: Provider = o.type === 'claude' ? 'anthropic' : 'codex';
  const email = str(o.email);
  const expired = str(o.expired) ? Date.parse(o.expired) : NaN;
  const access = str(o.access_token) ?? '';
  const who = provider === 'codex' ? codexIdentity(access, str(o.id_token)) : null;
  const credentials: Candidate['credentials'] = {
    accessToken: access,
    refreshToken: str(o.refresh_token) ?? '',
    expiresAt: Number.isNaN(expired) ? (who?.expiresAt ?? null) : expired,
  };
  if (provider === 'codex') Object.assign(credentials, { idToken: str(o.id_token), accountId: str(o.account_id) ?? who?.accountId ?? null });
  const key = email ?? who?.accountId;
  if (!key) throw new Error('a CLIProxyAPI file needs an email');
  return [{ provider, format: `CLIProxyAPI ${o.type} auth file`, identity: `${provider}:${key}`, suggestedId: slug(email ?? key), email, label: null, credentials, state: {}, link: null }];
}

function grok2api(o: Obj): Candidate[] {
  const out: Candidate[] = [];
  for (const [kind, label] of [
    ['ssoNormal', null],
    ['ssoSuper', 'grok super'],
  ] as const) {
    const map = o[kind];
    if (map === undefined || map === null) continue;
    if (!isObj(map)) throw new Error(`${kind} is not a map of sso -> state`);
    for (const [key, st] of Object.entries(map)) {
      const cookies = parseGrokCookies(key);
      if (cookies) out.push(grokCandidate('grok2api token.json', cookies, isObj(st) ? st : {}, label));
    }
  }
  return out;
}

/** Recognises a file by its content. `path` must be absolute (it becomes the link). */
export function detect(text: string, path: string): Detected {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    return { error: describeJsonError(e) };
  }
  if (!isObj(o)) return { error: 'not a JSON object' };
  try {
    if (isObj(o.claudeAiOauth)) return { format: 'Claude Code .credentials.json', candidates: claudeCredentials(o, path) };
    if (isObj(o.tokens) && ('auth_mode' in o || 'OPENAI_API_KEY' in o || str(o.tokens.refresh_token))) return { format: 'Codex CLI auth.json', candidates: codexAuth(o, path) };
    if ('ssoNormal' in o || 'ssoSuper' in o) return { format: 'grok2api token.json', candidates: grok2api(o) };
    if ((o.type === 'claude' || o.type === 'codex') && (str(o.access_token) || str(o.refresh_token))) return { format: `CLIProxyAPI ${o.type} auth file`, candidates: cliProxy(o) };
    const cookies = parseGrokCookies(o);
    if (cookies && ('remainingQueries' in o || 'heavyremainingQueries' in o || 'status' in o || 'sso' in o)) {
      return { format: 'grok token file', candidates: [grokCandidate('grok token file', cookies, o, null)] };
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
  return { error: 'not a format refresher knows (Claude Code, Codex CLI, grok2api, grok token file, CLIProxyAPI)' };
}
