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

async function remaining(ctx: ProviderContext, modelName: string): Promise<number | Outcome> {
  const base = ctx.account.endpoint ?? ctx.cfg.providers.grok.apiBase;
  const res = await ctx.http.request(
    {
      method: 'POST',
      url: `${base}/rest/rate-limits`,
      headers: { ...json, cookie: cookie(ctx) },
      body: JSON.stringify({ requestKind: 'DEFAULT', modelName }),
    },
    { proxy: ctx.proxy },
  );
  if (res.status !== 200) return failure(res);
  const body = parseJsonObject(res);
  const n = num(body?.remainingQueries);
  return n === null ? badJson('rate-limits', res) : n;
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
  const normal = await remaining(ctx, g.normalModel);
  if (typeof normal !== 'number') return normal;
  const heavy = await remaining(ctx, g.heavyModel);
  if (typeof heavy !== 'number') return heavy;
  return {
    kind: 'ok',
    patch: { quota: { checkedAt: ctx.now(), remainingQueries: normal, heavyRemainingQueries: heavy } },
    message: `Updated ${ctx.account.id}: normal=${normal}, heavy=${heavy}`,
  };
}

export const grok: ProviderAdapter = { quota };
