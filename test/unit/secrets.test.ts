import { describe, expect, it } from 'vitest';
import { redact, redactUrl, registerSecret } from '../../src/util/secrets.js';

describe('redact', () => {
  registerSecret('sk-ant-ort01-AAAAbbbbCCCCdddd');
  registerSecret('eyJhbGciOi.payload.sig-xyz');
  it('scrubs a whole token, one inside a longer run, and several in a line', () => {
    expect(redact('refresh sk-ant-ort01-AAAAbbbbCCCCdddd failed')).toBe('refresh *** failed');
    expect(redact('cookie: sso=eyJhbGciOi.payload.sig-xyz; sso-rw=x')).toBe('cookie: sso=***; sso-rw=x');
    expect(redact('"prefixsk-ant-ort01-AAAAbbbbCCCCddddsuffix"')).toBe('"prefix***suffix"');
    expect(redact('a sk-ant-ort01-AAAAbbbbCCCCdddd b eyJhbGciOi.payload.sig-xyz')).toBe('a *** b ***');
  });
  it('a long prefix is scrubbed too; everything else is left alone', () => {
    expect(redact('sk-ant-ort01-AAAAbbbbCCCC (a prefix)')).toBe('*** (a prefix)');
    expect(redact('sk-ant-ort0 other AAAAbbbbCCC')).toBe('sk-ant-ort0 other AAAAbbbbCCC');
  });
  it('redacts a proxy password', () => {
    expect(redactUrl('socks5h://me:s3cret@127.0.0.1:1080')).toBe('socks5h://me:***@127.0.0.1:1080');
    expect(redactUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(redactUrl('https://pool.example/get?key=abc&n=1')).toBe('https://pool.example/get?key=***&n=***');
  });
});

describe('redact: fragments', () => {
  const secret = 'rt_Q7wNf2LpX9vK4sTb8mZcR1yHd6GjU3aE';
  registerSecret(secret);
  it('scrubs any 12-character run of a secret, wherever it starts and ends', () => {
    for (let start = 0; start + 12 <= secret.length; start += 5) {
      for (const len of [12, 13, 20]) {
        const part = secret.slice(start, start + len);
        if (part.length < 12) continue;
        const out = redact(`error: "${part}" was refused`);
        expect(out, `${start}+${len}`).toBe('error: "***" was refused');
      }
    }
  });
  it('scrubs a cut secret inside a longer word, and keeps what is around it', () => {
    expect(redact(`x=abc${secret.slice(3, 40)}`)).toBe('x=abc***');
    expect(redact(`${secret.slice(0, 15)}-and-more-text`)).toBe('***-and-more-text');
  });
  it('leaves 11 characters, and look-alike text, alone', () => {
    expect(redact(`near ${secret.slice(2, 13)} miss`)).toBe(`near ${secret.slice(2, 13)} miss`);
    expect(redact('2026-11-23T09:00:00Z work-max@example.com')).toBe('2026-11-23T09:00:00Z work-max@example.com');
  });
});

describe('redact: URL passwords anywhere in a line', () => {
  it('keeps the user, hides the password, parsed or not; a bare token userinfo is hidden whole; emails are left alone', () => {
    expect(redact('connect ECONNREFUSED through socks5h://me:hunter2@127.0.0.1:1080 (proxy)')).toBe('connect ECONNREFUSED through socks5h://me:***@127.0.0.1:1080 (proxy)');
    expect(redact('https://tok_abcdef@pool.example/get')).toBe('https://***@pool.example/get');
    expect(redact('mail me@example.com, or see http://example.com/a@b')).toBe('mail me@example.com, or see http://example.com/a@b');
    expect(redact(redact('socks5://me:x@h'))).toBe('socks5://me:***@h');
  });
});

describe('redact: against a brute-force reference', () => {
  // A seeded generator, so that a failure names a case that can be run again.
  let seed = 20;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[rand(chars.length)]).join('');
  const TOKEN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/-';
  const secrets = Array.from({ length: 6 }, (_, i) => `fz${i}-${pick(TOKEN, 14 + rand(40))}`);
  for (const s of secrets) registerSecret(s);
  const all = [...secrets, 'sk-ant-ort01-AAAAbbbbCCCCdddd', 'eyJhbGciOi.payload.sig-xyz', 'rt_Q7wNf2LpX9vK4sTb8mZcR1yHd6GjU3aE'];

  /** Every 12-character window of a run that occurs in a secret is marked; each marked stretch becomes ***. */
  function reference(text: string): string {
    return text.replace(/[A-Za-z0-9._~+/-]{12,}/g, (run) => {
      const marked = new Array<boolean>(run.length).fill(false);
      for (let i = 0; i + 12 <= run.length; i++) if (all.some((s) => s.includes(run.slice(i, i + 12)))) marked.fill(true, i, i + 12);
      return run.replace(/./g, (c, i: number) => (!marked[i] ? c : i === 0 || !marked[i - 1] ? '***' : ''));
    });
  }

  it('agrees on texts made of secret pieces, token noise and separators', () => {
    for (let n = 0; n < 400; n++) {
      let text = '';
      for (let k = 0; k < 1 + rand(8); k++) {
        const r = rand(4);
        if (r === 0) {
          const s = all[rand(all.length)]!;
          const from = rand(s.length);
          text += s.slice(from, from + 8 + rand(s.length));
        } else if (r === 1) text += pick(TOKEN, rand(20));
        else if (r === 2) text += pick(' "=:;,\n{}é', 1 + rand(3));
        else text += String(1_700_000_000_000 + rand(1e9));
      }
      expect(redact(text), JSON.stringify(text)).toBe(reference(text));
    }
  });
});
