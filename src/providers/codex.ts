import type { CodexAccount, Quota, UsageWindow } from '../model/types.js';
import { iso } from '../util/time.js';
import { badJson, httpFailure, isObject, isPermanentTokenFailure, json, num, parseJsonObject, toMs, tokenFailure } from './common.js';
import { codexIdentity } from './jwt.js';
import type { Outcome, ProviderAdapter, ProviderContext } from './types.js';

function creds(ctx: ProviderContext) {
  return (ctx.account as CodexAccount).credentials;
}

async function token(ctx: ProviderContext): Promise<Outcome> {
  const p = ctx.cfg.providers.codex;
  const c = creds(ctx);
  const res = await ctx.http.request(
    {
      method: 'POST',
      url: p.tokenUrl,
      headers: json,
      body: JSON.stringify({ client_id: p.clientId, grant_type: 'refresh_token', refresh_token: c.refreshToken }),
    },
    // a token endpoint's 401 is an answer about the token, never worth asking again
    { proxy: ctx.proxy, final: (r) => r.status === 401 || isPermanentTokenFailure(r) },
  );
  if (res.status !== 200) return tokenFailure(res);
  const body = parseJsonObject(res);
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
  // The old refresh token is spent: without a new access token, this answer saved nothing.
  if (!body || !str(body.access_token)) {
    const bad = badJson('token endpoint', res);
    // A new refresh token without an access token is still the only live one: keep it.
    return str(body?.refresh_token) ? { ...bad, patch: { credentials: { refreshToken: str(body!.refresh_token)! } } } as Outcome : bad;
  }
  const accessToken = str(body.access_token)!;
  const idToken = str(body.id_token) ?? c.idToken;
  const who = codexIdentity(accessToken, idToken);
  const expiresIn = num(body.expires_in);
  const expiresAt = who.expiresAt ?? (expiresIn !== null ? ctx.now() + expiresIn * 1000 : c.expiresAt);
  return {
    kind: 'ok',
    patch: {
      credentials: {
        accessToken,
        refreshToken: str(body.refresh_token) ?? c.refreshToken,
        idToken,
        accountId: who.accountId ?? c.accountId,
        expiresAt,
      },
      ...(who.email && !ctx.account.email ? { email: who.email } : {}),
    },
    message: `token refreshed for ${ctx.account.id}, expires ${expiresAt ? iso(expiresAt) : 'at an unknown time'}`,
  };
}

/** The five-hour and weekly windows, by their length in minutes (which of them is `primary` has changed upstream). */
export const FIVE_HOUR_MINUTES = 300;
export const WEEKLY_MINUTES = 10_080;

/** Sorts windows by their length into the quota's named slots; unknown lengths are kept under their minutes. */
export function windowsByLength(list: { minutes: number | null; window: UsageWindow }[]): Pick<Quota, 'fiveHour' | 'weekly' | 'windows'> {
  const out: Pick<Quota, 'fiveHour' | 'weekly' | 'windows'> = { fiveHour: null, weekly: null };
  for (const { minutes, window } of list) {
    if (minutes === FIVE_HOUR_MINUTES) out.fiveHour = window;
    else if (minutes === WEEKLY_MINUTES) out.weekly = window;
    else if (minutes !== null) out.windows = { ...out.windows, [`${minutes}m`]: window };
  }
  return out;
}

function usageWindow(v: any): { minutes: number | null; window: UsageWindow } | null {
  if (!v || typeof v !== 'object') return null;
  const seconds = num(v.limit_window_seconds);
  return { minutes: seconds === null ? null : Math.round(seconds / 60), window: { usedPercent: num(v.used_percent), resetAt: toMs(v.reset_at) } };
}

async function quota(ctx: ProviderContext): Promise<Outcome> {
  const c = creds(ctx);
  const base = ctx.account.endpoint ?? ctx.cfg.providers.codex.apiBase;
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${c.accessToken}` };
  if (c.accountId) headers['chatgpt-account-id'] = c.accountId;
  const res = await ctx.http.request({ method: 'GET', url: `${base}/wham/usage`, headers }, { proxy: ctx.proxy });
  if (res.status !== 200) return httpFailure('wham/usage', res);
  const body = parseJsonObject(res);
  if (!body || !isObject(body.rate_limit)) return badJson('wham/usage', res);
  const rl = body.rate_limit;
  const found = [usageWindow(rl.primary_window), usageWindow(rl.secondary_window)].filter((w) => w !== null);
  const q: Quota = { checkedAt: ctx.now(), ...windowsByLength(found) };
  const pct = (w: UsageWindow | null | undefined) => (w?.usedPercent == null ? '?' : `${Math.round(w.usedPercent)}%`);
  return {
    kind: 'ok',
    // rateLimitReset is the five-hour window's reset, wherever the service put that window.
    patch: { quota: q, ...(q.fiveHour?.resetAt ? { rateLimitReset: q.fiveHour.resetAt } : {}) },
    message: `quota updated for ${ctx.account.id}: 5h ${pct(q.fiveHour)}, weekly ${pct(q.weekly)}`,
  };
}

export const codex: ProviderAdapter = { token, quota };
