import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { defaultConfig } from '../../src/config/types.js';
import { validateConfig } from '../../src/config/validate.js';
import { parseDuration, parseNow } from '../../src/util/time.js';

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    [120, 120_000],
    ['45', 45_000],
  ])('%s', (v, ms) => expect(parseDuration(v)).toBe(ms));
  it.each(['soon', '-5m', '', true, null])('rejects %s', (v) => expect(parseDuration(v)).toBeNull());
});

describe('--now', () => {
  it('reads ISO and epoch ms', () => {
    expect(parseNow('2026-11-23T09:00:00Z')).toBe(Date.parse('2026-11-23T09:00:00Z'));
    expect(parseNow('1763830000000')).toBe(1763830000000);
  });
  it('rejects junk with exit 2', () => expect(() => parseNow('tomorrow')).toThrow(/--now/));
});

describe('validateConfig', () => {
  it('an empty document gives the defaults', () => {
    expect(validateConfig(null)).toEqual({ config: defaultConfig(), problems: [] });
  });
  it('reads every key', () => {
    const { config, problems } = validateConfig({
      refresh_before_expiry: '30m',
      quota_refresh_after_use: 7200,
      concurrency: 16,
      proxy_url: 'socks5h://u:p@127.0.0.1:1080',
      providers: { anthropic: { token_url: 'http://127.0.0.1:9/t/', auto_refresh: false }, grok: { heavy_model: 'heavy' } },
    });
    expect(problems).toEqual([]);
    expect(config.refreshBeforeExpiryMs).toBe(30 * 60_000);
    expect(config.quotaRefreshAfterUseMs).toBe(7_200_000);
    expect(config.concurrency).toBe(16);
    expect(config.providers.anthropic.tokenUrl).toBe('http://127.0.0.1:9/t');
    expect(config.providers.anthropic.autoRefresh).toBe(false);
    expect(config.providers.grok.heavyModel).toBe('heavy');
  });
  it('reports every problem at once, as dot-paths', () => {
    const { problems } = validateConfig({
      refresh_before_expiry: 'soon',
      concurrency: 0,
      proxy_url: 'ftp://x',
      bogus: 1,
      retry_status_codes: [429, 'x'],
      providers: { anthropic: { api_base: 'not a url', colour: 'red' }, mistral: {} },
    });
    const paths = problems.map((p) => p.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'refresh_before_expiry',
        'concurrency',
        'proxy_url',
        'bogus',
        'retry_status_codes',
        'providers.anthropic.api_base',
        'providers.anthropic.colour',
        'providers.mistral',
      ]),
    );
    expect(problems).toHaveLength(8);
  });
  it('accounts.example.yaml is valid and documents the defaults', () => {
    const doc = parse(readFileSync(new URL('../../accounts.example.yaml', import.meta.url), 'utf8'));
    const { config, problems } = validateConfig(doc);
    expect(problems).toEqual([]);
    expect({ ...config, source: null }).toEqual(defaultConfig());
  });
});

describe('serve.codex_for_claude and serve.models', () => {
  it('reads them, keeping the defaults for what is not given', () => {
    const { config, problems } = validateConfig({ serve: { codex_for_claude: 'fallback', models: { haiku: { model: 'gpt-5.4', effort: 'minimal' } } } });
    expect(problems).toEqual([]);
    expect(config.serve.codexForClaude).toBe('fallback');
    expect(config.serve.models).toEqual({ opus: { model: 'gpt-5.5', effort: 'high' }, sonnet: { model: 'gpt-5.5', effort: 'medium' }, haiku: { model: 'gpt-5.4', effort: 'minimal' } });
    expect(defaultConfig().serve.models.haiku.model).toBe('gpt-5.4-mini'); // the defaults were not changed
  });
  it('reports every problem as a dot-path', () => {
    const { problems } = validateConfig({ serve: { codex_for_claude: 'sometimes', models: { opus: { model: '', effort: 'max', size: 1 }, gemini: {} } } });
    expect(problems).toEqual([
      'serve.codex_for_claude: expected off or fallback or always, got "sometimes"',
      'serve.models.opus.size: unknown key',
      'serve.models.opus.model: expected a codex model name like gpt-5.5, got ""',
      'serve.models.opus.effort: expected minimal, low, medium, high, xhigh, got "max"',
      'serve.models.gemini: unknown model family; expected opus, sonnet or haiku',
    ]);
  });
});

describe('notify', () => {
  it('reads webhooks (text by default) and commands, notify_give_up and serve.notify_after', () => {
    const { config, problems } = validateConfig(
      parse('notify:\n  - webhook: https://ntfy.example.net/topic\n  - webhook: https://hooks.slack.com/services/T/B/x\n    format: slack\n    proxy: socks5h://127.0.0.1:1080\n  - command: [/usr/bin/mail, -s, "refresher on %h", me@example.net]\nnotify_give_up: 2d\nserve:\n  notify_after: 30m\n'),
    );
    expect(problems).toEqual([]);
    expect(config.notify).toEqual([
      { kind: 'webhook', url: 'https://ntfy.example.net/topic', format: 'text', proxy: null },
      { kind: 'webhook', url: 'https://hooks.slack.com/services/T/B/x', format: 'slack', proxy: 'socks5h://127.0.0.1:1080' },
      { kind: 'command', argv: ['/usr/bin/mail', '-s', 'refresher on %h', 'me@example.net'] },
    ]);
    expect(config.notifyGiveUpMs).toBe(2 * 86_400_000);
    expect(config.serve.notifyAfterMs).toBe(30 * 60_000);
    expect(defaultConfig().notifyGiveUpMs).toBe(3 * 86_400_000);
  });
  it('reports every problem of every channel as a dot-path', () => {
    const { problems } = validateConfig({ notify: [{ webhook: 'ftp://x', format: 'teams' }, { command: 'mail me' }, { webhook: 'https://a', command: ['x'] }, 'ntfy', { email: 'me' }] });
    expect(problems).toEqual([
      expect.stringMatching(/^notify\[0\]\.webhook: /),
      'notify[0].format: expected text, json, slack, discord, got "teams"',
      'notify[1].command: expected a list like [/usr/bin/mail, -s, "refresher on %h", me@example.net] (the program first; no shell)',
      'notify[2]: one of webhook or command, not both',
      'notify[3]: expected { webhook: URL, format: text|json|slack|discord } or { command: [program, args…] }',
      'notify[4]: expected a webhook or a command key',
    ]);
  });
});

describe('secrets in config errors', () => {
  it('a proxy pool URL refused for its scheme shows key=***, as every other message does', () => {
    const { problems } = validateConfig({ proxy_pool_url: 'ftp://pool.example/get?key=SECRETKEY123456' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('key=***');
    expect(problems[0]).not.toContain('SECRETKEY123456');
  });
});
