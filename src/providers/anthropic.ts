import { usageFromHeaders } from './rate-limits.js';
import { windowMethodOf } from './window-method.js';
import type { AnthropicAccount, Quota, UsageWindow, WindowRefusal } from '../model/types.js';
import type { HttpResponse } from '../net/http.js';
import { iso } from '../util/time.js';
import { badJson, httpFailure, isObject, isPermanentTokenFailure, json, num, parseJsonObject, toMs, tokenFailure } from './common.js';
import type { Outcome, ProviderAdapter, ProviderContext } from './types.js';

/** The seed's short prompts: each costs a handful of tokens. */
export const WINDOW_PROMPTS = [
  'Write a hello world program in Python',
  'What is 2+2?',
  'Tell me a programmer joke',
  'What is the capital of France?',
  'Explain recursion in one sentence',
];

const FIVE_HOURS = 5 * 3_600_000;

function base(ctx: ProviderContext): string {
  return ctx.account.endpoint ?? ctx.cfg.providers.anthropic.apiBase;
}

function creds(ctx: ProviderContext) {
  return (ctx.account as AnthropicAccount).credentials;
}

function authHeaders(ctx: ProviderContext): Record<string, string> {
  return {
    ...json,
    authorization: `Bearer ${creds(ctx).accessToken}`,
    'anthropic-version': '2023-06-01',
    'anthropic-beta': 'oauth-2025-04-20',
  };
}

/** The new window's reset from the unified rate-limit headers, in ms (the one header reader, rate-limits.ts). */
export function windowReset(res: HttpResponse): number | null {
  return usageFromHeaders('anthropic', res.headers).reset;
}

async function token(ctx: ProviderContext): Promise<Outcome> {
  const p = ctx.cfg.providers.anthropic;
  const c = creds(ctx);
  const res = await ctx.http.request(
    {
      method: 'POST',
      url: p.tokenUrl,
      headers: json,
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: c.refreshToken, client_id: p.clientId }),
    },
    // a token endpoint's 401 is an answer about the token, never worth asking again
    { proxy: ctx.proxy, final: (r) => r.status === 401 || isPermanentTokenFailure(r) },
  );
  if (res.status !== 200) return tokenFailure(res);
  const body = parseJsonObject(res);
  if (!body || typeof body.access_token !== 'string' || !body.access_token) return badJson('token endpoint', res);
  // Trust expires_in; when it is missing, assume the short end of what has been reported (1 h).
  const expiresIn = num(body.expires_in) ?? 3600;
  const expiresAt = ctx.now() + expiresIn * 1000;
  const email = typeof body.account?.email_address === 'string' ? body.account.email_address : undefined;
  return {
    kind: 'ok',
    patch: {
      credentials: {
        accessToken: body.access_token,
        // Rotation: the old refresh token is dead once a new one is issued. Keep the old one only if none came.
        refreshToken: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : c.refreshToken,
        expiresAt,
      },
      ...(email && !ctx.account.email ? { email } : {}),
    },
    message: `token refreshed for ${ctx.account.id}, expires ${iso(expiresAt)}`,
  };
}

/** The third-party policy's words (anthropics/claude-code#45048): the request draws from extra usage, not the plan. */
const EXTRA_USAGE = /third-party apps now draw from your extra usage|draws? from your extra usage/i;

/**
 * Was this answer the provider's policy refusing to count the request against the plan? A 400 that says the
 * request draws from extra usage, or any answer whose unified rate-limit headers say overage is in use.
 */
export function policyRefusal(res: HttpResponse): string | null {
  for (const [k, v] of Object.entries(res.headers)) {
    if (k.startsWith('anthropic-ratelimit-unified-') && /overage-in-use/i.test(v)) return `${k}: overage-in-use (the request was drawn from extra usage)`;
  }
  if (res.status !== 400) return null;
  const body = parseJsonObject(res);
  const message = typeof body?.error?.message === 'string' ? body.error.message : '';
  return EXTRA_USAGE.test(message) ? 'HTTP 400: third-party apps draw from extra usage, not the plan' : null;
}

/** The window stays un-started, and is not asked for again this way until a person acts. */
export function refused(ctx: ProviderContext, reason: string, method: WindowRefusal['method']): Outcome {
  return {
    kind: 'refused',
    reason: `window not started: ${reason}`,
    patch: { window: { refusedAt: ctx.now(), reason, method } },
  };
}

async function window(ctx: ProviderContext): Promise<Outcome> {
  const p = ctx.cfg.providers.anthropic;
  if (windowMethodOf(ctx.account, ctx.cfg) === 'claude-cli') {
    const { windowByClaudeCli } = await import('./claude-cli.js');
    return windowByClaudeCli(ctx, quota);
  }
  const models = [p.windowModel, ...(p.windowFallbackModel && p.windowFallbackModel !== p.windowModel ? [p.windowFallbackModel] : [])];
  const prompt = WINDOW_PROMPTS[Math.floor(Math.random() * WINDOW_PROMPTS.length)]!;
  let res: HttpResponse | undefined;
  for (const model of models) {
    res = await ctx.http.request(
      {
        method: 'POST',
        url: `${base(ctx)}/v1/messages`,
        headers: authHeaders(ctx),
        body: JSON.stringify({ model, max_tokens: p.windowMaxTokens, messages: [{ role: 'user', content: prompt }] }),
      },
      // A 429 that carries a reset means the window is already running: retrying would only burn quota.
      { proxy: ctx.proxy, final: (r) => r.status === 429 && windowReset(r) !== null },
    );
    if (res.status !== 404) break;
  }
  res = res!;
  const policy = policyRefusal(res);
  if (policy) return refused(ctx, policy, 'message');
  const reset = windowReset(res);
  const id = ctx.account.id;
  if (res.status === 200) {
    // Only a real message started a window: an HTML page or a truncated answer did not.
    const msg = parseJsonObject(res);
    if (!msg || msg.type !== 'message' || !Array.isArray(msg.content)) return badJson('messages', res);
    const at = reset ?? ctx.now() + FIVE_HOURS;
    const note = reset ? '' : ' (no reset header came back; assuming 5h)';
    return { kind: 'ok', patch: { rateLimitReset: at }, message: `window started for ${id}, resets ${iso(at)}${note}` };
  }
  if (res.status === 429 && reset) {
    return { kind: 'ok', patch: { rateLimitReset: reset }, message: `window already running for ${id} (rate limited), resets ${iso(reset)}` };
  }
  if (res.status === 401 && !(ctx.account as { credentials: { refreshToken: string } }).credentials.refreshToken) {
    // A setup token (or any token alone) cannot be refreshed: refused is dead, and its expiry stays what it was.
    return { kind: 'permanent', reason: `messages: HTTP 401, the ${ctx.account.setupToken ? 'setup token' : 'access token'} was refused (revoked or expired) and cannot be refreshed` };
  }
  if (res.status === 401) {
    // The access token was refused before it expired: make the next tick refresh it.
    return { kind: 'transient', reason: 'messages: HTTP 401, access token refused; the token will be refreshed next tick', patch: { credentials: { expiresAt: ctx.now() } } };
  }
  return httpFailure('messages', res);
}

function usageWindow(v: any): UsageWindow | null {
  if (!v || typeof v !== 'object') return null;
  return { utilization: num(v.utilization), resetsAt: toMs(v.resets_at) };
}

const isWindow = (v: unknown): v is Record<string, unknown> => isObject(v) && 'utilization' in v && ('resets_at' in v || 'resetsAt' in v);

/**
 * Every window the usage answer reports, by its name: seven_day_opus, seven_day_sonnet, seven_day_oauth_apps,
 * extra_usage and whatever comes next; a newer `limits[]` array is read too (named by its `name`, `type` or `id`).
 */
export function otherWindows(body: Record<string, any>): Record<string, UsageWindow> | null {
  const out: Record<string, UsageWindow> = {};
  for (const [k, v] of Object.entries(body)) if (k !== 'five_hour' && k !== 'seven_day' && isWindow(v)) out[k] = usageWindow(v)!;
  if (Array.isArray(body.limits)) {
    for (const l of body.limits) {
      const name = isObject(l) ? [l.name, l.type, l.id].find((x) => typeof x === 'string' && x) : undefined;
      if (name && isWindow(l) && !(name in out)) out[name] = { utilization: num(l.utilization), resetsAt: toMs(l.resets_at ?? l.resetsAt) };
    }
  }
  return Object.keys(out).length ? out : null;
}

async function quota(ctx: ProviderContext): Promise<Outcome> {
  const res = await ctx.http.request({ method: 'GET', url: `${base(ctx)}/api/oauth/usage`, headers: authHeaders(ctx) }, { proxy: ctx.proxy });
  if (res.status !== 200) return httpFailure('usage', res);
  const body = parseJsonObject(res);
  if (!body || !(isObject(body.five_hour) || isObject(body.seven_day) || Array.isArray(body.limits))) return badJson('usage', res);
  const windows = otherWindows(body);
  const q: Quota = {
    checkedAt: ctx.now(),
    fiveHour: usageWindow(body.five_hour) ?? windows?.five_hour ?? null,
    sevenDay: usageWindow(body.seven_day) ?? windows?.seven_day ?? null,
    windows,
  };
  const pct = (w: UsageWindow | null | undefined) => (w?.utilization == null ? '?' : `${Math.round(w.utilization)}%`);
  return { kind: 'ok', patch: { quota: q }, message: `quota updated for ${ctx.account.id}: 5h ${pct(q.fiveHour)}, 7d ${pct(q.sevenDay)}` };
}

export const anthropic: ProviderAdapter = { token, window, quota };
