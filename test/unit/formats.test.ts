import { describe, expect, it } from 'vitest';
import { detect, parseGrokCookies, slug } from '../../src/accounts/formats.js';
import { uniqueId } from '../../src/accounts/upsert.js';

describe('import formats', () => {
  it('parses grok cookies in every accepted shape', () => {
    expect(parseGrokCookies('sso=abc; sso-rw=def')).toEqual({ sso: 'abc', ssoRw: 'def' });
    expect(parseGrokCookies('  abc  ')).toEqual({ sso: 'abc', ssoRw: null });
    expect(parseGrokCookies({ sso: 'abc', 'sso-rw': 'def' })).toEqual({ sso: 'abc', ssoRw: 'def' });
    expect(parseGrokCookies({ cookie: 'sso=abc' })).toEqual({ sso: 'abc', ssoRw: null });
    expect(parseGrokCookies('two words')).toBeNull();
    expect(parseGrokCookies('other=1')).toBeNull();
  });
  it('makes ids from emails', () => {
    expect(slug('Me.Work+x@Example.com')).toBe('me.work-x-at-example.com');
    expect(slug('---')).toBe('account');
    expect(uniqueId('a', new Set(['a', 'a-2']))).toBe('a-3');
  });
  it('recognises formats by content and explains the rest', () => {
    expect(detect('[]', '/x')).toEqual({ error: 'not a JSON object' });
    expect(detect('{"claudeAiOauth": {}}', '/x')).toEqual({ error: 'claudeAiOauth has no refreshToken' });
    const d = detect(JSON.stringify({ claudeAiOauth: { accessToken: 'a', refreshToken: 'r', expiresAt: 5 } }), '/home/u/.claude/.credentials.json');
    expect(d).toMatchObject({ format: 'Claude Code .credentials.json', candidates: [{ provider: 'anthropic', link: { format: 'claude-credentials', path: '/home/u/.claude/.credentials.json' } }] });
    expect(detect(JSON.stringify({ type: 'codex', access_token: 'x' }), '/x')).toEqual({ error: 'a CLIProxyAPI file needs an email' });
  });
});
