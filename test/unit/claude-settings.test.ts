import { describe, expect, it } from 'vitest';
import { connect, currentUrl, disconnect, SettingsError } from '../../src/accounts/claude-settings.js';

const URL = 'http://127.0.0.1:8787';
const P = '/home/u/.claude/settings.json';

/** connect, then --off: the text that comes back. */
function roundTrip(text: string | null) {
  const c = connect(text, P, URL);
  return { connected: c.text, back: disconnect(c.text, P, c.remember), remember: c.remember };
}

describe('connect claude: the settings.json edit', () => {
  const cases: { name: string; text: string | null }[] = [
    { name: 'settings with other keys', text: '{\n  "model": "opus",\n  "permissions": {\n    "allow": ["Bash(ls)"]\n  }\n}\n' },
    { name: 'an existing env', text: '{\n    "env": {\n        "FOO": "bar",\n        "DISABLE_TELEMETRY": "1"\n    },\n    "model": "opus"\n}' },
    { name: 'an existing ANTHROPIC_BASE_URL', text: '{"env":{"ANTHROPIC_BASE_URL":"https://gateway.example","X":"1"},"theme":"dark"}\n' },
    { name: 'an empty object', text: '{}\n' },
  ];
  for (const c of cases) {
    it(`${c.name}: every other key kept, then --off restores it byte for byte`, () => {
      const r = roundTrip(c.text);
      const doc = JSON.parse(r.connected);
      const orig = JSON.parse(c.text!);
      expect(doc.env.ANTHROPIC_BASE_URL).toBe(URL);
      for (const k of Object.keys(orig)) if (k !== 'env') expect(doc[k]).toEqual(orig[k]);
      for (const [k, v] of Object.entries(orig.env ?? {})) if (k !== 'ANTHROPIC_BASE_URL') expect(doc.env[k]).toBe(v);
      expect(r.back).toBe(c.text);
      expect(currentUrl(r.connected, P)).toBe(URL);
    });
  }
  it('keeps the file\'s indentation', () => {
    expect(roundTrip('{\n    "model": "opus"\n}\n').connected).toBe('{\n    "model": "opus",\n    "env": {\n        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787"\n    }\n}\n');
  });
  it('a missing file is created with our key alone, and removed by --off', () => {
    const r = roundTrip(null);
    expect(JSON.parse(r.connected)).toEqual({ env: { ANTHROPIC_BASE_URL: URL } });
    expect(r.remember.created).toBe(true);
    expect(r.back).toBeNull();
  });
  it('a created file that gained other settings meanwhile is kept, without our key', () => {
    const c = connect(null, P, URL);
    const edited = JSON.stringify({ ...JSON.parse(c.text), model: 'sonnet' });
    expect(JSON.parse(disconnect(edited, P, c.remember)!)).toEqual({ model: 'sonnet' });
  });
  it('other settings changed while connected survive --off; the original value comes back', () => {
    const c = connect('{"env":{"ANTHROPIC_BASE_URL":"https://gateway.example"}}', P, URL);
    const edited = JSON.stringify({ ...JSON.parse(c.text), model: 'haiku' });
    expect(JSON.parse(disconnect(edited, P, c.remember)!)).toEqual({ env: { ANTHROPIC_BASE_URL: 'https://gateway.example' }, model: 'haiku' });
  });
  it('an invalid file, or a non-object env, is refused and named', () => {
    expect(() => connect('{"model": "opus",', P, URL)).toThrow(SettingsError);
    expect(() => connect('{"model": "opus",', P, URL)).toThrow(`${P} is not valid JSON`);
    expect(() => connect('{"env": "x"}', P, URL)).toThrow('"env" is not an object');
    expect(() => connect('[1]', P, URL)).toThrow('not a JSON object');
  });
});
