/**
 * Last line of defence: every secret the process has loaded is registered here, and every line we print is
 * scrubbed. Code should never put a secret in a message in the first place; this catches the case where an
 * upstream echoes one back in an error body.
 */
const secrets = new Set<string>();

export function registerSecret(value: unknown): void {
  // Short strings would scrub ordinary words; real tokens and cookies are long.
  if (typeof value === 'string' && value.length >= 8) secrets.add(value);
}

export function redact(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** `socks5://user:pass@host:1080` -> `socks5://user:***@host:1080`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/)([^:@/]*):([^@/]*)@/i, '$1$2:***@');
}
