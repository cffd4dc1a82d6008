/**
 * The edit `refresher connect codex` makes to the Codex CLI's config.toml. Pure functions over the file's text
 * (the TOML parser is passed in, so that a cron tick never loads it): every other line and comment is kept,
 * and `--off` gives back the original bytes when nothing else changed.
 *
 * The form: a provider of our own, `[model_providers.refresher]` with `base_url`, `wire_api = "responses"` and
 * `requires_openai_auth = true`, chosen with `model_provider = "refresher"`. It is the documented way to point the
 * CLI's turns at another Responses endpoint while it keeps its ChatGPT login, and it has been read the same way
 * by every release we know of. `chatgpt_base_url` alone is not enough (the CLI's workspace discovery sends the turn
 * to the origin the backend names, past any proxy), and `openai_base_url` is newer (a release that does not know
 * it ignores it and goes direct without a word). `chatgpt_base_url` is set too, so that the CLI's other requests
 * (discovery, plugins, settings, analytics, MCP) also go through serve with the pool account.
 */
export const PROVIDER_ID = 'refresher';
const ROOT_KEYS = ['chatgpt_base_url', 'model_provider'] as const;
type RootKey = (typeof ROOT_KEYS)[number];
const COMMENT = '# refresher connect codex: the Codex CLI through `refresher serve` (undo: refresher connect codex --off)';

export type TomlParse = (text: string) => Record<string, unknown>;

/** What was there before the first connect, kept in refresher's home until --off. */
export interface CodexRemembered {
  created: boolean;
  originalText: string | null;
  /** the root values before (null: absent) */
  before: Record<RootKey, string | null>;
  /** the text of [model_providers.refresher] before, or null when there was none */
  table: string | null;
  url: string;
}

export class CodexConfigError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

function parseOrRefuse(parse: TomlParse, text: string, path: string): Obj {
  try {
    return parse(text);
  } catch (e) {
    const first = String((e as Error).message).split('\n')[0];
    const line = (e as { line?: number }).line;
    throw new CodexConfigError(`${path}${line ? ` line ${line}` : ''} is not valid TOML (${first}); refresher leaves it as it is. Fix it (or move it away), then run this again`);
  }
}

/** The values refresher sets for a serve at `url`. */
export function wanted(url: string) {
  return {
    chatgpt_base_url: `${url}/codex`,
    model_provider: PROVIDER_ID,
    table: { name: 'refresher serve', base_url: `${url}/codex/codex`, wire_api: 'responses', requires_openai_auth: true },
  };
}

const tomlString = (s: string) => JSON.stringify(s);
function tableText(url: string, eol: string): string {
  const t = wanted(url).table;
  return [`[model_providers.${PROVIDER_ID}]`, `name = ${tomlString(t.name)}`, `base_url = ${tomlString(t.base_url)}`, `wire_api = "responses"`, 'requires_openai_auth = true'].join(eol) + eol;
}

interface Lines {
  lines: string[];
  eol: string;
  /** index of the first table header (lines.length when none) */
  firstHeader: number;
}

const HEADER = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
const headerName = (line: string) => HEADER.exec(line)?.[1]?.replace(/\s+/g, '').replace(/"/g, '') ?? null;

function split(text: string): Lines {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  else if (lines.length) lines.push('\u0000no-final-newline');
  let firstHeader = lines.length;
  let inMultiline = false;
  for (const [i, line] of lines.entries()) {
    const quotes = (line.match(/"""|'''/g) ?? []).length;
    if (!inMultiline && HEADER.test(line)) {
      firstHeader = i;
      break;
    }
    if (quotes % 2) inMultiline = !inMultiline;
  }
  return { lines, eol, firstHeader };
}

function join(l: Lines): string {
  const last = l.lines[l.lines.length - 1];
  if (last === '\u0000no-final-newline') return l.lines.slice(0, -1).join(l.eol);
  return l.lines.length ? l.lines.join(l.eol) + l.eol : '';
}

const keyLine = (key: string) => new RegExp(`^\\s*${key}\\s*=`);
function findRoot(l: Lines, key: string): number {
  for (let i = 0; i < l.firstHeader; i++) if (keyLine(key).test(l.lines[i]!)) return i;
  return -1;
}

/** [start, end) of a table's lines: its header up to the next header (trailing blank lines left outside). */
function findTable(l: Lines, name: string): [number, number] | null {
  const start = l.lines.findIndex((line, i) => i >= l.firstHeader && headerName(line) === name);
  if (start < 0) return null;
  let end = l.lines.findIndex((line, i) => i > start && HEADER.test(line));
  if (end < 0) end = l.lines.length;
  while (end > start + 1 && /^\s*$|^\u0000/.test(l.lines[end - 1]!)) end--;
  return [start, end];
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return String(a) === String(b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return Object.is(a, b);
}

function verify(parse: TomlParse, text: string, expected: Obj, path: string): string {
  let got: Obj;
  try {
    got = parse(text);
  } catch {
    got = {};
  }
  if (!deepEqual(got, expected)) throw new CodexConfigError(`${path}: refresher could not make its edit without touching something else (an unusual layout); the file is as it was. Edit it by hand: see \`refresher connect codex --help\``);
  return text;
}

/** What points the CLI elsewhere that connect will replace (or that will still win over it): one sentence each. */
function conflicts(doc: Obj, url: string): string[] {
  const w = wanted(url);
  const out: string[] = [];
  const cbu = doc.chatgpt_base_url;
  if (typeof cbu === 'string' && cbu !== w.chatgpt_base_url) out.push(`chatgpt_base_url was ${cbu}`);
  const mp = doc.model_provider;
  if (typeof mp === 'string' && mp !== 'openai' && mp !== PROVIDER_ID) {
    const base = isObj(doc.model_providers) && isObj(doc.model_providers[mp]) ? doc.model_providers[mp].base_url : undefined;
    out.push(`model_provider was "${mp}"${typeof base === 'string' ? ` (${base})` : ''}`);
  }
  const profile = typeof doc.profile === 'string' && isObj(doc.profiles) ? doc.profiles[doc.profile] : undefined;
  if (isObj(profile) && typeof profile.model_provider === 'string' && profile.model_provider !== PROVIDER_ID) {
    out.push(`the default profile "${doc.profile}" sets model_provider = "${profile.model_provider}", which wins over refresher's: remove it there, or run codex with another profile`);
  }
  return out;
}

/** The text connected to `url`, what to remember (unless something is remembered already), and what it replaced. */
export function connect(parse: TomlParse, text: string | null, path: string, url: string): { text: string; remember: CodexRemembered; replaced: string[] } {
  const w = wanted(url);
  if (text === null) {
    const fresh = [COMMENT, `chatgpt_base_url = ${tomlString(w.chatgpt_base_url)}`, `model_provider = ${tomlString(w.model_provider)}`, ''].join('\n') + '\n' + tableText(url, '\n');
    return { text: fresh, remember: { created: true, originalText: null, before: { chatgpt_base_url: null, model_provider: null }, table: null, url }, replaced: [] };
  }
  const doc = parseOrRefuse(parse, text, path);
  const providers = doc.model_providers;
  if (providers !== undefined && !isObj(providers)) throw new CodexConfigError(`${path}: model_providers is not a table; refresher leaves the file as it is`);
  const l = split(text);
  const before = { chatgpt_base_url: null, model_provider: null } as Record<RootKey, string | null>;
  const missing: string[] = [];
  for (const key of ROOT_KEYS) {
    const v = doc[key];
    if (v !== undefined && typeof v !== 'string') throw new CodexConfigError(`${path}: ${key} is not a string; refresher leaves the file as it is`);
    before[key] = (v as string | undefined) ?? null;
    const i = findRoot(l, key);
    const line = `${key} = ${tomlString(w[key])}`;
    if (i >= 0) l.lines[i] = l.lines[i]!.replace(/^(\s*)\S.*?(\s+#.*)?$/, (_m, indent: string, comment?: string) => `${indent}${line}${comment ?? ''}`);
    else missing.push(line);
  }
  const existing = findTable(l, `model_providers.${PROVIDER_ID}`);
  const table = existing ? l.lines.slice(existing[0], existing[1]).join(l.eol) + l.eol : null;
  const body = tableText(url, l.eol).replace(/\r?\n$/, '').split(/\r?\n/);
  if (existing) l.lines.splice(existing[0], existing[1] - existing[0], ...body);
  else {
    if (l.lines[l.lines.length - 1] === '\u0000no-final-newline') l.lines.pop();
    if (l.lines.length && !/^\s*$/.test(l.lines[l.lines.length - 1]!)) l.lines.push('');
    l.lines.push(...body);
  }
  if (missing.length) {
    // root keys go before the first table, after a comment that says whose they are
    const at = l.firstHeader;
    const block = [COMMENT, ...missing];
    if (at < l.lines.length && !/^\s*$/.test(l.lines[at]!)) block.push('');
    l.lines.splice(at, 0, ...block);
  }
  const expected: Obj = { ...doc, chatgpt_base_url: w.chatgpt_base_url, model_provider: w.model_provider, model_providers: { ...((providers as Obj) ?? {}), [PROVIDER_ID]: w.table } };
  const next = verify(parse, join(l), expected, path);
  return { text: next, remember: { created: false, originalText: text, before, table, url }, replaced: conflicts(doc, url) };
}

/**
 * The text after --off: the original bytes when nothing else changed since; otherwise the current file with
 * refresher's lines taken out and the values before put back. Null: remove the file (refresher created it and
 * nothing else was added).
 */
export function disconnect(parse: TomlParse, text: string, path: string, r: CodexRemembered): string | null {
  const doc = parseOrRefuse(parse, text, path);
  const expected: Obj = { ...doc };
  const providers = isObj(doc.model_providers) ? { ...doc.model_providers } : {};
  if (r.table === null) delete providers[PROVIDER_ID];
  else providers[PROVIDER_ID] = (parse(r.table).model_providers as Obj)[PROVIDER_ID];
  if (Object.keys(providers).length) expected.model_providers = providers;
  else delete expected.model_providers;
  for (const key of ROOT_KEYS) {
    if (r.before[key] === null) delete expected[key];
    else expected[key] = r.before[key];
  }
  // Nothing else changed since: the original bytes (or no file, when refresher created it).
  if (r.originalText !== null && deepEqual(parse(r.originalText), expected)) return r.originalText;
  if (r.created && !Object.keys(expected).length) return null;
  const l = split(text);
  const t = findTable(l, `model_providers.${PROVIDER_ID}`);
  if (t) {
    const restored = r.table === null ? [] : r.table.replace(/\r?\n$/, '').split(/\r?\n/);
    l.lines.splice(t[0], t[1] - t[0], ...restored);
  }
  for (const key of ROOT_KEYS) {
    const i = findRoot(l, key);
    const v = r.before[key];
    if (i >= 0 && v === null) {
      l.lines.splice(i, 1);
      l.firstHeader--;
    } else if (i >= 0) l.lines[i] = l.lines[i]!.replace(/^(\s*)\S.*?(\s+#.*)?$/, (_m, indent: string, comment?: string) => `${indent}${key} = ${tomlString(v!)}${comment ?? ''}`);
    else if (v !== null) l.lines.splice(l.firstHeader++, 0, `${key} = ${tomlString(v)}`);
  }
  const c = l.lines.indexOf(COMMENT);
  if (c >= 0) l.lines.splice(c, 1);
  return verify(parse, join(l), expected, path);
}

export type CodexMode = 'direct' | 'refresher' | 'elsewhere';

/** Where the CLI's turns go now, in words, and which mode that is. */
export function whereItPoints(parse: TomlParse, text: string | null, path: string, ours: string | null): { mode: CodexMode; url: string | null; says: string } {
  if (text === null) return { mode: 'direct', url: null, says: `${path} does not exist; the Codex CLI talks to ChatGPT itself` };
  const doc = parseOrRefuse(parse, text, path);
  const mp = typeof doc.model_provider === 'string' ? doc.model_provider : 'openai';
  const p = isObj(doc.model_providers) ? doc.model_providers[mp] : undefined;
  const base = isObj(p) && typeof p.base_url === 'string' ? p.base_url : null;
  if (mp === PROVIDER_ID && base && (ours === null || base === wanted(ours).table.base_url)) return { mode: 'refresher', url: base, says: `through refresher: model_provider "${PROVIDER_ID}" at ${base} (${path})` };
  if (mp !== 'openai') return { mode: 'elsewhere', url: base, says: `elsewhere: model_provider "${mp}"${base ? ` at ${base}` : ''} (${path})` };
  const other = ['openai_base_url', 'chatgpt_base_url'].find((k) => typeof doc[k] === 'string');
  if (other) return { mode: 'elsewhere', url: doc[other] as string, says: `elsewhere: ${other} = ${doc[other] as string} (${path})` };
  return { mode: 'direct', url: null, says: `direct: ${path} sets no provider or base URL; the Codex CLI talks to ChatGPT itself` };
}
