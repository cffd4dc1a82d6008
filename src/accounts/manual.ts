import { usageError } from '../errors.js';
import type { Provider } from '../model/types.js';
import { codexIdentity } from '../providers/jwt.js';
import { parseGrokCookies, ssoHash, type Candidate } from './formats.js';

/**
 * `account add <provider> --name ID` from pasted secrets. Error messages describe what is missing and never
 * repeat the input.
 */
/** `claude setup-token` tokens last about a year; without a stated expiry, that is assumed. */
export const SETUP_TOKEN_LIFETIME_MS = 365 * 86_400_000;

export function manualCandidate(provider: Provider, text: string, id: string, o: { setupToken?: boolean; now?: number } = {}): Candidate {
  const trimmed = text.trim();
  if (!trimmed) throw usageError('no secrets on stdin (or in --secrets-file)');
  let obj: Record<string, any> | null = null;
  if (trimmed.startsWith('{')) {
    try {
      obj = JSON.parse(trimmed);
    } catch {
      throw usageError('the input starts with "{" but is not valid JSON');
    }
  }
  if (provider === 'grok') {
    const cookies = parseGrokCookies(obj ?? trimmed);
    if (!cookies) throw usageError('grok needs an sso cookie: JSON {"sso": "…", "ssoRw": "…"}, a cookie line "sso=…; sso-rw=…", or the bare sso value');
    const h = ssoHash(cookies.sso);
    return { provider, format: 'manual', identity: `grok:sso:${h}`, suggestedId: id, email: null, label: null, credentials: cookies, state: {}, link: null };
  }
  // `claude setup-token` prints the token alone: taken as it is with --setup-token
  const bare = !obj && /^\S+$/.test(trimmed);
  if (provider === 'anthropic' && bare && o.setupToken) obj = { accessToken: trimmed };
  if (!obj && provider === 'anthropic' && bare && trimmed.startsWith('sk-ant-oat')) {
    throw usageError('this looks like a token alone, as `claude setup-token` prints it: add it with --setup-token (a setup token lasts about a year and cannot be refreshed)');
  }
  if (!obj) throw usageError(`${provider} needs JSON {"accessToken": "…", "refreshToken": "…", "expiresAt": <epoch ms>}${provider === 'anthropic' ? ', or a token alone with --setup-token' : ''}`);
  const pick = (...keys: string[]) => keys.map((k) => obj![k]).find((v) => typeof v === 'string' && v.length > 0) as string | undefined;
  const accessToken = pick('accessToken', 'access_token') ?? '';
  const refreshToken = pick('refreshToken', 'refresh_token') ?? '';
  if (!refreshToken && !accessToken) throw usageError(`${provider} needs at least a refreshToken (and usually an accessToken) in the JSON`);
  const exp = obj.expiresAt ?? obj.expires_at;
  // A guess turned into null would be planned as "expiry unknown": refuse it and say what is expected.
  if (exp !== undefined && exp !== null && (typeof exp !== 'number' || !Number.isFinite(exp))) {
    throw usageError(`expiresAt must be a number (epoch ms), got ${typeof exp === 'string' ? 'a string' : typeof exp}; leave it out if you do not know it`);
  }
  let expiresAt: number | null = typeof exp === 'number' ? exp : null;
  if (provider === 'anthropic') {
    if (!refreshToken && !o.setupToken) {
      throw usageError(
        'an access token without a refresh token cannot be refreshed: it stops working when it expires. ' +
          'Paste the refreshToken too, or, for a token from `claude setup-token` (it lasts about a year), add it with --setup-token',
      );
    }
    if (o.setupToken && refreshToken) throw usageError('--setup-token is for an access token alone; this one has a refreshToken, so leave --setup-token out');
    if (o.setupToken) expiresAt ??= (o.now ?? Date.now()) + SETUP_TOKEN_LIFETIME_MS;
    const email = pick('email') ?? null;
    return {
      provider,
      format: 'manual',
      identity: email ? `anthropic:${email}` : `anthropic:name:${id}`,
      suggestedId: id,
      email,
      label: null,
      credentials: { accessToken, refreshToken, expiresAt },
      state: o.setupToken ? { setupToken: true } : {},
      link: null,
    };
  }
  const idToken = pick('idToken', 'id_token') ?? null;
  const who = codexIdentity(accessToken, idToken);
  expiresAt ??= who.expiresAt;
  const accountId = pick('accountId', 'account_id') ?? who.accountId;
  return {
    provider,
    format: 'manual',
    identity: `codex:${who.email ?? accountId ?? `name:${id}`}`,
    suggestedId: id,
    email: who.email,
    label: null,
    credentials: { accessToken, refreshToken, expiresAt, idToken, accountId },
    state: {},
    link: null,
  };
}
