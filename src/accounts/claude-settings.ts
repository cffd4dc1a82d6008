/**
 * The edit `refresher connect claude` makes to Claude Code's settings.json: `env.ANTHROPIC_BASE_URL`, and
 * nothing else. Pure functions over the file's text, so that every case is tested in memory: the rest of the
 * document is kept, its indentation too, and `--off` gives back the original bytes when nothing else changed.
 */
export const KEY = 'ANTHROPIC_BASE_URL';

/** What was there before the first connect, kept in refresher's home until --off. */
export interface Remembered {
  /** the file did not exist: refresher created it */
  created: boolean;
  /** the exact text before (null when created) */
  originalText: string | null;
  /** env.ANTHROPIC_BASE_URL before, or null when there was none */
  originalValue: string | null;
  /** the URL refresher set */
  url: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class SettingsError extends Error {}

function parse(text: string, path: string): Obj {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SettingsError(`${path} is not valid JSON; refresher leaves it as it is. Fix it (or move it away), then run this again`);
  }
  if (!isObj(doc)) throw new SettingsError(`${path} is not a JSON object; refresher leaves it as it is`);
  if (doc.env !== undefined && !isObj(doc.env)) throw new SettingsError(`${path}: "env" is not an object; refresher leaves the file as it is`);
  return doc;
}

function indentOf(text: string): string | number {
  const m = /\n([ \t]+)"/.exec(text);
  return m ? m[1]! : 2;
}

function serialize(doc: Obj, like: string | null): string {
  const text = JSON.stringify(doc, null, like === null ? 2 : indentOf(like));
  return like === null || like.endsWith('\n') ? text + '\n' : text;
}

/** The text with env.ANTHROPIC_BASE_URL set to url; what to remember (unless something is remembered already). */
export function connect(text: string | null, path: string, url: string): { text: string; remember: Remembered } {
  if (text === null) {
    return { text: serialize({ env: { [KEY]: url } }, null), remember: { created: true, originalText: null, originalValue: null, url } };
  }
  const doc = parse(text, path);
  const env = (doc.env ?? {}) as Obj;
  const before = typeof env[KEY] === 'string' ? (env[KEY] as string) : null;
  const next = { ...doc, env: { ...env, [KEY]: url } };
  return { text: serialize(next, text), remember: { created: false, originalText: text, originalValue: before, url } };
}

/**
 * The text after --off: the original bytes when nothing but our key changed; otherwise the current document
 * with the original value put back (or the key removed). Null: remove the file (refresher created it and it
 * holds nothing else).
 */
export function disconnect(text: string, path: string, r: Remembered): string | null {
  const doc = parse(text, path);
  const env = { ...((doc.env ?? {}) as Obj) };
  if (r.originalValue === null) delete env[KEY];
  else env[KEY] = r.originalValue;
  const restored: Obj = { ...doc, env };
  if (r.originalValue === null && !Object.keys(env).length && (r.created || !(r.originalText && 'env' in parse(r.originalText, path)))) delete restored.env;
  if (r.created && !Object.keys(restored).length) return null;
  if (r.originalText !== null && JSON.stringify(parse(r.originalText, path)) === JSON.stringify(restored)) return r.originalText;
  return serialize(restored, text);
}

/** Where Claude Code points now. */
export function currentUrl(text: string | null, path: string): string | null {
  if (text === null) return null;
  const doc = parse(text, path);
  const env = (doc.env ?? {}) as Obj;
  return typeof env[KEY] === 'string' ? (env[KEY] as string) : null;
}
