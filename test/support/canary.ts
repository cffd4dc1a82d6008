import { FRAGMENT } from '../../src/util/secrets.js';

/**
 * Canaries: every secret a test creates (fixtures, and everything a simulator issues) is registered here,
 * and every output of every CLI run is checked for any FRAGMENT-character run of any of them. A test that
 * prints part of a token fails, whatever the test was about.
 */
const sources: (() => Iterable<string>)[] = [];
const extra = new Set<string>();

export function watchSecrets(list: () => Iterable<string>): void {
  sources.push(list);
}

export function canary(...secrets: string[]): void {
  for (const s of secrets) if (s) extra.add(s);
}

const seen = new Set<string>();
const windows = new Map<string, string>();

function refresh(): void {
  const add = (s: string) => {
    if (seen.has(s) || s.length < FRAGMENT) return;
    seen.add(s);
    for (let i = 0; i + FRAGMENT <= s.length; i++) windows.set(s.slice(i, i + FRAGMENT), s);
  };
  for (const s of extra) add(s);
  for (const src of sources) for (const s of src()) add(s);
}

/** Throws when `text` holds FRAGMENT characters of a registered secret. */
export function expectNoCanary(text: string, what = 'output'): void {
  refresh();
  if (!windows.size) return;
  for (let i = 0; i + FRAGMENT <= text.length; i++) {
    const secret = windows.get(text.slice(i, i + FRAGMENT));
    if (secret) {
      const at = Math.max(0, i - 60);
      throw new Error(`${what} holds part of a secret (${secret.slice(0, 4)}…, at ${i}):\n${text.slice(at, i).replace(/\s+/g, ' ')}[…]`);
    }
  }
}
