/**
 * Last line of defence: every secret the process has loaded is registered here, and every line we print is
 * scrubbed. Code should never put a secret in a message in the first place; this catches the case where an
 * upstream echoes one back in an error body, whole or in part.
 *
 * Any run of FRAGMENT (12) characters of a known secret is scrubbed. Tokens and cookies are made of
 * [A-Za-z0-9._~+/-], so a fragment always lies inside one run of those characters. Every 12-character
 * stretch of a secret contains one of its 6-character chunks that start at a multiple of 6, so an index of
 * those chunks (exact numeric keys, built lazily when something is printed) finds every candidate, and each
 * is extended both ways to the longest common stretch. Scrubbing stays linear in the text however many
 * accounts are loaded.
 */
export const FRAGMENT = 12;
const CHUNK = FRAGMENT / 2;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/-';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;
/** offsets inside a secret fit in 16 bits of an index entry */
const MAX_SECRET = 65_536;

const secrets: string[] = [];
const known = new Set<string>();
/** chunk code -> entries (secret index * MAX_SECRET + offset) */
const chunks = new Map<number, number | number[]>();
let indexed = 0;

/** The 6 characters at `at` as one exact number (base 67 < 2^53), or -1 if one is not a token character. */
function chunkCode(s: string, at: number): number {
  let code = 0;
  for (let k = 0; k < CHUNK; k++) {
    const c = s.charCodeAt(at + k);
    const d = c < 128 ? DIGIT[c]! : -1;
    if (d < 0) return -1;
    code = code * ALPHABET.length + d;
  }
  return code;
}

export function registerSecret(value: unknown): void {
  // Short strings would scrub ordinary words; real tokens and cookies are long.
  if (typeof value !== 'string' || value.length < FRAGMENT || value.length >= MAX_SECRET || known.has(value)) return;
  known.add(value);
  secrets.push(value);
}

function indexNew(): void {
  if (indexed < secrets.length && !maybe.length) maybe = new Uint8Array(MAYBE_BITS / 8);
  for (; indexed < secrets.length; indexed++) {
    const s = secrets[indexed]!;
    for (let off = 0; off + CHUNK <= s.length; off += CHUNK) {
      const code = chunkCode(s, off);
      if (code < 0) continue;
      const entry = indexed * MAX_SECRET + off;
      const bit = bitOf(code);
      maybe[bit >>> 3]! |= 1 << (bit & 7);
      const prev = chunks.get(code);
      if (prev === undefined) chunks.set(code, entry);
      else if (typeof prev === 'number') chunks.set(code, [prev, entry]);
      else prev.push(entry);
    }
  }
}

/**
 * One bit per chunk code (mod 2^24): most positions of a printed text share no chunk with any secret, and a bit
 * test is far cheaper than a Map lookup. A set bit only says "look in the index".
 */
const MAYBE_BITS = 1 << 24;
// allocated with the index (2 MiB), not when the module loads: an idle tick never prints a secret-bearing line
let maybe = new Uint8Array(0);
const bitOf = (code: number) => code % MAYBE_BITS;
const HIGH = ALPHABET.length ** (CHUNK - 1);

/**
 * Marks the characters of the run `t[from, to)` (token characters only, at least FRAGMENT of them) that belong to
 * a stretch of at least FRAGMENT shared with a secret; indexes are relative to `from`.
 */
function mask(t: string, from: number, to: number): Uint8Array | null {
  let marked: Uint8Array | null = null;
  const len = to - from;
  // The chunk code rolls along the run (every character of a run is a token character): one step per position.
  let code = chunkCode(t, from);
  for (let i = 0; i + CHUNK <= len; i++) {
    if (i > 0) code = (code - DIGIT[t.charCodeAt(from + i - 1)]! * HIGH) * ALPHABET.length + DIGIT[t.charCodeAt(from + i + CHUNK - 1)]!;
    const bit = bitOf(code);
    if (!(maybe[bit >>> 3]! & (1 << (bit & 7)))) continue;
    const found = chunks.get(code);
    if (found === undefined) continue;
    for (const entry of typeof found === 'number' ? [found] : found) {
      const s = secrets[Math.floor(entry / MAX_SECRET)]!;
      const off = entry % MAX_SECRET;
      let a = 0;
      while (a < i && a < off && t.charCodeAt(from + i - a - 1) === s.charCodeAt(off - a - 1)) a++;
      let b = CHUNK;
      while (i + b < len && off + b < s.length && t.charCodeAt(from + i + b) === s.charCodeAt(off + b)) b++;
      if (a + b < FRAGMENT) continue;
      marked ??= new Uint8Array(len);
      marked.fill(1, i - a, i + b);
    }
  }
  return marked;
}

/** The run `t[from, to)` with each marked stretch replaced by `***`. */
function scrubbed(t: string, from: number, marked: Uint8Array): string {
  let out = '';
  for (let i = 0; i < marked.length; i++) {
    if (!marked[i]) out += t[from + i];
    else if (i === 0 || !marked[i - 1]) out += '***';
  }
  return out;
}

const isToken = (c: number) => c < 128 && DIGIT[c]! >= 0;

/**
 * One pass over the text, finding each run of token characters in place: no regular expression, and no string
 * made for a run unless part of it is a secret (a `status --json` over 10,000 accounts is 7 MB of text).
 */
function scrubText(t: string): string {
  let parts: string[] | null = null;
  let copied = 0;
  const n = t.length;
  let i = 0;
  while (i < n) {
    if (!isToken(t.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isToken(t.charCodeAt(i))) i++;
    if (i - start < FRAGMENT) continue;
    const marked = mask(t, start, i);
    if (!marked) continue;
    (parts ??= []).push(t.slice(copied, start), scrubbed(t, start, marked));
    copied = i;
  }
  return parts ? parts.join('') + t.slice(copied) : t;
}

export function redact(text: string): string {
  const safe = text.includes('@') ? redactUserinfo(text) : text;
  if (secrets.length === 0) return safe;
  indexNew();
  return scrubText(safe);
}

/** `socks5://user:pass@host:1080` -> `socks5://user:***@host:1080`; query values (pool keys) -> ***. */
export function redactUrl(url: string): string {
  return redactUserinfo(url).replace(/([?&][^=&#]+)=([^&#]*)/g, '$1=***');
}

/**
 * Anything URL-shaped in a text, parsed or not, keeps its user and loses its password (`socks5://me:***@h`);
 * a userinfo without a colon (a bare token) is hidden whole. Every printed line goes through it.
 */
export function redactUserinfo(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/\s@"':]*)(:[^/\s@"']*)?@/gi, (_, scheme: string, user: string, pass: string | undefined) =>
    pass === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
  );
}

/** Control characters (an ESC in a label, a CR in upstream text) shown as \xNN, so that they never reach a terminal raw. */
export function escapeControl(text: string, keepNewlines = false): string {
  const re = keepNewlines ? /[\x00-\x08\x0b-\x1f\x7f\x9b]/g : /[\x00-\x08\x0a-\x1f\x7f\x9b]/g;
  return text.replace(re, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
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
