import { parse as tomlParse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { CodexConfigError, connect, disconnect, whereItPoints } from '../../src/accounts/codex-config.js';

const parse = (t: string) => tomlParse(t) as Record<string, unknown>;
const URL = 'http://127.0.0.1:8787';
const P = '/home/u/.codex/config.toml';

const ours = { name: 'refresher serve', base_url: `${URL}/codex/codex`, wire_api: 'responses', requires_openai_auth: true };

describe('connect codex: the config.toml edit', () => {
  const cases: { name: string; text: string }[] = [
    { name: 'root keys, comments and tables', text: '# my codex\nmodel = "gpt-5.5"   # the good one\napproval_policy = "on-request"\n\n[mcp_servers.docs]\ncommand = "npx"\nargs = ["-y", "docs-mcp"]\n\n# profiles below\n[profiles.fast]\nmodel_reasoning_effort = "low"\n' },
    { name: 'only tables', text: '[tui]\nnotifications = true\n' },
    { name: 'only root keys, no final newline', text: 'model = "o3"\nsandbox_mode = "workspace-write"' },
    { name: 'CRLF line ends', text: 'model = "gpt-5.5"\r\n\r\n[features]\r\nweb_search = true\r\n' },
    { name: 'a multi-line string that looks like a table', text: 'notes = """\n[not.a.table]\n"""\nmodel = "gpt-5.5"\n\n[shell_environment_policy]\ninherit = "core"\n' },
    { name: 'a company gateway as the provider, and a chatgpt_base_url', text: 'chatgpt_base_url = "https://gw.example/chatgpt" # the gateway\nmodel_provider = "corp"\n\n[model_providers.corp]\nname = "corp"\nbase_url = "https://gw.example/v1"\nwire_api = "responses"\n' },
    { name: 'an empty file', text: '' },
  ];
  for (const c of cases) {
    it(`${c.name}: the turn and the rest through serve, every other line kept, and --off gives back the bytes`, () => {
      const r = connect(parse, c.text, P, URL);
      const doc = parse(r.text);
      const orig = parse(c.text);
      expect(doc).toMatchObject({ chatgpt_base_url: `${URL}/codex`, model_provider: 'refresher', model_providers: { refresher: ours } });
      for (const [k, v] of Object.entries(orig)) if (!['chatgpt_base_url', 'model_provider', 'model_providers'].includes(k)) expect(doc[k]).toEqual(v);
      for (const line of c.text.split(/\r?\n/)) if (!/^(chatgpt_base_url|model_provider) =/.test(line)) expect(r.text).toContain(line);
      if (c.text.includes('\r\n')) expect(r.text.replace(/\r\n/g, '')).not.toContain('\n');
      expect(whereItPoints(parse, r.text, P, URL).mode).toBe('refresher');
      expect(disconnect(parse, r.text, P, r.remember)).toBe(c.text);
    });
  }

  it('says what it replaced: a base URL and a provider that pointed elsewhere, and a profile that would win', () => {
    const r = connect(parse, cases[5]!.text, P, URL);
    expect(r.replaced).toEqual(['chatgpt_base_url was https://gw.example/chatgpt', 'model_provider was "corp" (https://gw.example/v1)']);
    expect(r.text).toContain(`chatgpt_base_url = "${URL}/codex" # the gateway`);
    const back = disconnect(parse, r.text, P, r.remember)!;
    expect(whereItPoints(parse, back, P, URL)).toMatchObject({ mode: 'elsewhere', url: 'https://gw.example/v1' });
    const p = connect(parse, 'profile = "work"\n[profiles.work]\nmodel_provider = "corp"\n', P, URL);
    expect(p.replaced[0]).toMatch(/the default profile "work" sets model_provider = "corp", which wins/);
  });

  it('a file that did not exist is created, and --off removes it', () => {
    const r = connect(parse, null, P, URL);
    expect(parse(r.text)).toEqual({ chatgpt_base_url: `${URL}/codex`, model_provider: 'refresher', model_providers: { refresher: ours } });
    expect(r.remember.created).toBe(true);
    expect(disconnect(parse, r.text, P, r.remember)).toBeNull();
  });

  it('what the user changed since is kept by --off; only refresher lines go', () => {
    const r = connect(parse, 'model = "gpt-5.5"\n\n[tui]\nnotifications = true\n', P, URL);
    const edited = r.text.replace('model = "gpt-5.5"', 'model = "o3"') + '\n[history]\npersistence = "none"\n';
    const back = disconnect(parse, edited, P, r.remember)!;
    expect(parse(back)).toEqual({ model: 'o3', tui: { notifications: true }, history: { persistence: 'none' } });
    expect(back).not.toMatch(/refresher/);
  });

  it('a table of its own name that was there before is remembered and put back', () => {
    const text = 'model_provider = "refresher"\n\n[model_providers.refresher]\nname = "old"\nbase_url = "http://127.0.0.1:9999/codex/codex"\nwire_api = "responses"\n';
    const r = connect(parse, text, P, URL);
    expect((parse(r.text).model_providers as any).refresher.base_url).toBe(`${URL}/codex/codex`);
    expect(disconnect(parse, r.text, P, r.remember)).toBe(text);
  });

  it('a file it cannot parse is refused with its line, and one it cannot edit safely too', () => {
    expect(() => connect(parse, 'model = "gpt-5.5"\n[tui\nx = 1\n', P, URL)).toThrow(CodexConfigError);
    expect(() => connect(parse, 'model = "gpt-5.5"\n[tui\nx = 1\n', P, URL)).toThrow(/config\.toml line 2 is not valid TOML.*leaves it as it is/);
    // a dotted key that defines the same table cannot be edited line by line: refused, not broken
    expect(() => connect(parse, 'model_providers.refresher.name = "x"\n', P, URL)).toThrow(/could not make its edit without touching something else/);
    expect(() => connect(parse, 'model_provider = 3\n', P, URL)).toThrow(/model_provider is not a string/);
  });

  it('where it points: direct, through refresher, elsewhere', () => {
    expect(whereItPoints(parse, null, P, null).mode).toBe('direct');
    expect(whereItPoints(parse, 'model = "o3"\n', P, null).mode).toBe('direct');
    expect(whereItPoints(parse, 'openai_base_url = "https://gw.example/v1"\n', P, null)).toMatchObject({ mode: 'elsewhere', url: 'https://gw.example/v1' });
    expect(whereItPoints(parse, connect(parse, null, P, URL).text, P, 'http://127.0.0.1:9000').mode).toBe('elsewhere');
  });
});
