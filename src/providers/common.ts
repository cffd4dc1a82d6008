import type { HttpResponse } from '../net/http.js';
import { redact } from '../util/secrets.js';
import type { Outcome } from './types.js';

// the command that fixes it comes with the attention entry (it depends on how the account was added)
export const NEEDS_LOGIN = 'needs a new login';

export function parseJsonObject(res: HttpResponse): Record<string, any> | null {
  try {
    const v = JSON.parse(res.text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export function isHtml(res: HttpResponse): boolean {
  return /text\/html/i.test(res.headers['content-type'] ?? '') || /^\s*<(!doctype|html)/i.test(res.text);
}

/** The OAuth error code, wherever the upstream put it: `error` string, `error.code`, or a top-level `code`. */
export function oauthErrorCode(body: Record<string, any> | null): string | null {
  if (!body) return null;
  if (typeof body.error === 'string') return body.error;
  if (body.error && typeof body.error === 'object' && typeof body.error.code === 'string') return body.error.code;
  if (typeof body.code === 'string') return body.code;
  return null;
}

/** invalid_grant, refresh_token_*, or any 401 from the token endpoint: the refresh token is dead. */
export function isPermanentTokenFailure(res: HttpResponse): boolean {
  if (res.status === 401) return true;
  if (res.status < 400 || res.status >= 500) return false;
  const code = oauthErrorCode(parseJsonObject(res));
  return code === 'invalid_grant' || (code !== null && code.startsWith('refresh_token_'));
}

/** Upstream text for a message: scrubbed of every known secret first, then cut (a cut secret escapes the scrubber). */
function brief(text: unknown): string {
  return typeof text === 'string' ? redact(text.replace(/\s+/g, ' ')).slice(0, 120) : '';
}

/** A 403 with an HTML page (a Cloudflare-style block): the network path is blocked, not the account. */
export function blockedPath(what: string, res: HttpResponse): Outcome | null {
  if (res.status !== 403 || !isHtml(res)) return null;
  return { kind: 'network', blocked: true, reason: `${what}: HTTP 403 with an HTML page: the network path (IP or proxy) is blocked, not the account` };
}

/** A failed token response as an Outcome. Never includes the request or the raw body. */
export function tokenFailure(res: HttpResponse): Outcome {
  const blocked = blockedPath('token endpoint', res);
  if (blocked) return blocked;
  const body = parseJsonObject(res);
  const code = oauthErrorCode(body);
  const desc = brief(body?.error_description ?? body?.error?.message);
  const detail = `HTTP ${res.status}${code ? ` ${code}` : ''}${desc ? `: ${desc}` : ''}`;
  if (isPermanentTokenFailure(res)) return { kind: 'permanent', reason: `${NEEDS_LOGIN} (token endpoint said ${detail})` };
  return { kind: 'transient', reason: `token endpoint: ${detail}` };
}

/** Any other unexpected status: 5xx, 529, 4xx. */
export function httpFailure(what: string, res: HttpResponse): Outcome {
  const blocked = blockedPath(what, res);
  if (blocked) return blocked;
  const body = parseJsonObject(res);
  const msg = brief(body?.error?.message ?? body?.message ?? body?.error);
  return { kind: 'transient', reason: `${what}: HTTP ${res.status}${msg ? ` (${msg})` : ''}` };
}

/**
 * A 200 that is not the answer the action depends on (an HTML page from a captive portal or proxy, plain
 * text, truncated JSON): a transient failure that names what came, never the body itself.
 */
export function badJson(what: string, res: HttpResponse): Outcome {
  const type = (res.headers['content-type'] ?? 'no content type').split(';')[0]!.trim();
  const bytes = Buffer.byteLength(res.text);
  return { kind: 'transient', reason: `${what}: HTTP ${res.status} but not the answer expected (${type}, ${bytes} bytes)` };
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** ISO string or epoch seconds -> epoch ms. */
export function toMs(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e12 ? v * 1000 : v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

export const json = { 'content-type': 'application/json', accept: 'application/json' };

export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
