/**
 * Last line of defence: every secret the process has loaded is registered here, and every line we print is
 * scrubbed. Code should never put a secret in a message in the first place; this catches the case where an
 * upstream echoes one back in an error body.
 *
 * Tokens and cookies are made of [A-Za-z0-9._~+/-], so a secret always lies inside one run of those
 * characters. Each run is checked whole (the usual case), then by an 8-character prefix index, which keeps
 * scrubbing linear in the text however many accounts are loaded.
 */
const PREFIX = 8;
const secrets = new Set<string>();
const byPrefix = new Map<string, string[]>();
const RUN = /[A-Za-z0-9._~+/-]{8,}/g;

export function registerSecret(value: unknown): void {
  // Short strings would scrub ordinary words; real tokens and cookies are long.
  if (typeof value !== 'string' || value.length < 12 || secrets.has(value)) return;
  secrets.add(value);
  const p = value.slice(0, PREFIX);
  const list = byPrefix.get(p);
  if (list) list.push(value);
  else byPrefix.set(p, [value]);
}

function scrubRun(run: string): string {
  if (secrets.has(run)) return '***';
  let out = '';
  let last = 0;
  for (let i = 0; i + PREFIX <= run.length; i++) {
    const list = byPrefix.get(run.slice(i, i + PREFIX));
    if (!list) continue;
    const hit = list.find((s) => run.startsWith(s, i));
    if (!hit) continue;
    out += run.slice(last, i) + '***';
    i += hit.length - 1;
    last = i + 1;
  }
  return last === 0 ? run : out + run.slice(last);
}

export function redact(text: string): string {
  if (secrets.size === 0) return text;
  return text.replace(RUN, scrubRun);
}

/** `socks5://user:pass@host:1080` -> `socks5://user:***@host:1080`; query values (pool keys) -> ***. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/)([^:@/]*):([^@/]*)@/i, '$1$2:***@').replace(/([?&][^=&#]+)=([^&#]*)/g, '$1=***');
}

/**
 * A JSON.parse error without the text it quotes: Node's message shows the document's first characters,
 * which in an account or token file are a secret.
 */
export function describeJsonError(e: unknown): string {
  const msg = e instanceof Error ? e.message : '';
  const pos = /position (\d+)/.exec(msg)?.[1];
  const what = /end of (JSON|data) input/i.test(msg) ? 'not valid JSON (it ends too early)' : 'not valid JSON';
  return pos ? `${what} at byte ${pos}` : what;
}
