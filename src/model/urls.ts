/**
 * Checks of the URLs an account or the config may hold (proxies, endpoints), and the one way a value is
 * quoted in an error message. Shared by config and account-file validation.
 */
import { redactUrl, redactUserinfo } from '../util/secrets.js';

export const PROXY_SCHEMES = ['http:', 'https:', 'socks5:', 'socks5h:'];

/** A value as it is quoted in an error: JSON, cut to 60 characters, never with a URL's userinfo. */
export function show(v: unknown): string {
  const s = JSON.stringify(v);
  // the same redaction as every other URL we print: no password, no query value (a pool's key=…)
  const raw = s === undefined ? String(v) : s;
  const text = raw.includes('://') ? redactUrl(raw) : redactUserinfo(raw);
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}

/** Checks a proxy URL; returns a problem text or null. */
export function proxyProblem(v: string): string | null {
  if (v === 'direct') return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `not a URL (got ${show(v)}); use http://, https://, socks5:// or socks5h://host:port`;
  }
  if (!PROXY_SCHEMES.includes(u.protocol)) return `unsupported proxy scheme "${u.protocol}"; use http, https, socks5 or socks5h`;
  if (!u.hostname) return 'the proxy URL has no host';
  return null;
}

export function urlProblem(v: string): string | null {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `expected an http(s) URL, got ${show(v)}`;
    return null;
  } catch {
    return `not a URL (got ${show(v)})`;
  }
}
