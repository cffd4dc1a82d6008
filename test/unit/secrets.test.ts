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
  it('leaves everything else alone', () => {
    expect(redact('sk-ant-ort01-AAAAbbbbCCCC (a prefix is not the token)')).toBe('sk-ant-ort01-AAAAbbbbCCCC (a prefix is not the token)');
  });
  it('redacts a proxy password', () => {
    expect(redactUrl('socks5h://me:s3cret@127.0.0.1:1080')).toBe('socks5h://me:***@127.0.0.1:1080');
    expect(redactUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(redactUrl('https://pool.example/get?key=abc&n=1')).toBe('https://pool.example/get?key=***&n=***');
  });
});
