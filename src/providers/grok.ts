import type { GrokAccount } from '../model/types.js';
import type { HttpResponse } from '../net/http.js';
import { badJson, httpFailure, json, num, parseJsonObject } from './common.js';
import type { Outcome, ProviderAdapter, ProviderContext } from './types.js';

function cookie(ctx: ProviderContext): string {
  const c = (ctx.account as GrokAccount).credentials;
  return c.ssoRw ? `sso=${c.sso}; sso-rw=${c.ssoRw}` : `sso=${c.sso}`;
}

/** A non-200 answer from rate-limits, classified. */
function failure(res: HttpResponse): Outcome {
  const body = parseJsonObject(res);
  if (body && (body.code === 7 || /user is blocked/i.test(String(body.message ?? '')))) {
    return { kind: 'permanent', reason: 'grok says the user is blocked (code 7): add a fresh sso cookie with `refresher account add grok`' };
  }
  return httpFailure('rate-limits', res);
}

interface Limits {
  remaining: number;
  total: number | null;
  windowS: number;
}

/** A missing window means the service's default. */
const DEFAULT_WINDOW_S = 7200;

async function limits(ctx: ProviderContext, modelName: string): Promise<Limits | Outcome> {
  const g = ctx.cfg.providers.grok;
  const base = ctx.account.endpoint ?? g.apiBase;
  const res = await ctx.http.request(
    {
      method: 'POST',
      url: `${base}/rest/rate-limits`,
      headers: { ...json, cookie: cookie(ctx) },
      body: JSON.stringify(g.requestKind ? { requestKind: g.requestKind, modelName } : { modelName }),
    },
    // Asking can itself use quota: two requests per due account, never a retry.
    { proxy: ctx.proxy, final: () => true },
  );
  if (res.status !== 200) return failure(res);
  const body = parseJsonObject(res);
  const remaining = num(body?.remainingQueries);
  if (remaining === null) return badJson('rate-limits', res);
  return { remaining, total: num(body?.totalQueries), windowS: num(body?.windowSizeSeconds) ?? DEFAULT_WINDOW_S };
}

/** Tokens are printable ASCII; anything else cannot go in a Cookie header (a copy-paste accident). */
const UNSENDABLE = /[^\x21-\x7e]|;/;

async function quota(ctx: ProviderContext): Promise<Outcome> {
  const g = ctx.cfg.providers.grok;
  const c = (ctx.account as GrokAccount).credentials;
  if (UNSENDABLE.test(c.sso) || (c.ssoRw !== null && UNSENDABLE.test(c.ssoRw))) {
    return {
      kind: 'permanent',
      reason: `the sso cookie holds characters that cannot be sent in a Cookie header; add it again: refresher account add grok --name ${ctx.account.id} --force`,
    };
  }
  const normal = await limits(ctx, g.normalModel);
  if ('kind' in normal) return normal;
  const heavy = await limits(ctx, g.heavyModel);
  if ('kind' in heavy) return heavy;
  return {
    kind: 'ok',
    patch: {
      quota: {
        checkedAt: ctx.now(),
        remainingQueries: normal.remaining,
        totalQueries: normal.total,
        windowSizeSeconds: normal.windowS,
        heavyRemainingQueries: heavy.remaining,
        heavyTotalQueries: heavy.total,
        heavyWindowSizeSeconds: heavy.windowS,
      },
    },
    message: `quota updated for ${ctx.account.id}: normal ${normal.remaining}${normal.total !== null ? `/${normal.total}` : ''}, heavy ${heavy.remaining}${heavy.total !== null ? `/${heavy.total}` : ''}`,
  };
}

export const grok: ProviderAdapter = { quota };
