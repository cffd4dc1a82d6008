import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { ACCOUNT_DEFAULTS, type Account } from '../../src/model/types.js';
import { claudeArgs, claudeEnv } from '../../src/providers/claude-cli.js';
import type { ProviderContext } from '../../src/providers/types.js';

describe('window_method claude-cli: what Claude Code is run with', () => {
  const account = {
    version: 1,
    id: 'a1',
    provider: 'anthropic',
    ...ACCOUNT_DEFAULTS,
    credentials: { accessToken: 'sk-ant-oat01-unit-test-token-0000', refreshToken: 'r', expiresAt: null },
    endpoint: 'https://edge.example/anthropic',
  } as Account;
  const ctx = (proxy: string | null) => ({ account, cfg: defaultConfig(), proxy }) as unknown as ProviderContext;

  it('the account token, endpoint and proxy, nonessential traffic off, and nothing that would override them', () => {
    process.env.ANTHROPIC_API_KEY = 'sk-ant-api-should-not-pass';
    process.env.HTTP_PROXY = 'http://someone-elses-proxy:3128';
    try {
      const env = claudeEnv(ctx('socks5h://127.0.0.1:1080'));
      expect(env).toMatchObject({
        CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-unit-test-token-0000',
        ANTHROPIC_BASE_URL: 'https://edge.example/anthropic',
        HTTPS_PROXY: 'socks5h://127.0.0.1:1080',
        ALL_PROXY: 'socks5h://127.0.0.1:1080',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
      });
      expect(env.ANTHROPIC_API_KEY).toBeUndefined();
      expect(env.HTTP_PROXY).toBeUndefined();
      expect(claudeEnv(ctx(null)).HTTPS_PROXY).toBeUndefined(); // direct means direct
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
      delete process.env.HTTP_PROXY;
    }
  });

  it('the smallest model, a one-word prompt, one turn, no tools', () => {
    expect(claudeArgs('claude-haiku-4-5')).toEqual(['-p', 'hi', '--model', 'claude-haiku-4-5', '--max-turns', '1', '--tools', '', '--no-session-persistence', '--output-format', 'json']);
  });
});
