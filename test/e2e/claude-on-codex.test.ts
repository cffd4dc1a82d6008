import Anthropic from '@anthropic-ai/sdk';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CODEX_RESPONSES_PATH } from '../../src/sim/codex-responses.js';
import { SIM_PATHS } from '../../src/sim/server.js';
import { CLAUDE } from '../support/claude.js';
import { startServe, World } from '../support/fixtures.js';
import { sleep, until } from '../support/hostile.js';

/** The Anthropic Messages API served by codex accounts, through the real serve process and the simulator. */
describe('serve: Claude clients on codex accounts', () => {
  let w: World;
  const start = (mode: string) => w.start(`request_delay_ms: 0\nserve:\n  codex_for_claude: ${mode}\n`);
  beforeEach(() => {
    w = new World();
  });
  afterEach(() => w.stop());

  it('the Anthropic SDK, streaming and not: translated both ways, the account credentials and our own user agent upstream, the use recorded', async () => {
    await start('always');
    const c = w.codex('c1', { fields: { lastUsedAt: null } });
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'client-key', maxRetries: 0 });
      const raw = await sdk.messages
        .create({ model: 'claude-sonnet-4-5', max_tokens: 1000, ...({ temperature: 0.2 } as object), system: 'be brief', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      expect(raw.response.headers.get('x-refresher-provider')).toBe('codex');
      expect(raw.data).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', stop_reason: 'end_turn', content: [{ type: 'text', text: 'hi from codex' }] });
      expect(raw.data.usage.output_tokens).toBe(7);
      w.sim.state.codexAnswers.push({ text: 'streamed answer', reasoning: 'thinking it over' });
      const final = await sdk.messages.stream({ model: 'claude-opus-4-1', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 30_000 }, messages: [{ role: 'user', content: 'again' }] }).finalMessage();
      expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
      expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: 'thinking it over' });
      expect((final.content[0] as { signature: string }).signature).toMatch(/^rfcx1\.enc_/);
      expect(final.content[1]).toMatchObject({ text: 'streamed answer' });
      const sent = w.sim.requestsTo(CODEX_RESPONSES_PATH);
      expect(sent.map((r) => r.status)).toEqual([200, 200]);
      for (const r of sent) {
        expect(r.headers.authorization).toBe(`Bearer ${c.accessToken}`);
        expect(r.headers['chatgpt-account-id']).toBe(c.account.accountId);
        expect(String(r.headers['user-agent'])).toMatch(/^refresher\//);
        expect(r.headers.originator).toBeUndefined();
      }
      const [first, second] = sent.map((r) => JSON.parse(r.body));
      expect(first).toMatchObject({ model: 'gpt-5.5', instructions: 'be brief', stream: true, store: false, reasoning: { effort: 'medium' } });
      expect(first.max_tokens ?? first.max_output_tokens ?? first.temperature).toBeUndefined();
      expect(second).toMatchObject({ model: 'gpt-5.5', reasoning: { effort: 'xhigh' } });
      await until(() => w.home.read('c1').lastUsedAt !== null, 5000, 'the recorded use');
      expect(w.home.read('c1').quota.fiveHour.usedPercent).toBe(12);
      // the thinking block goes back to the backend as its own reasoning on the next turn
      await sdk.messages.create({ model: 'claude-opus-4-1', max_tokens: 10, messages: [{ role: 'user', content: 'again' }, { role: 'assistant', content: final.content as any }, { role: 'user', content: 'more' }] });
      const third = JSON.parse(w.sim.requestsTo(CODEX_RESPONSES_PATH)[2]!.body);
      expect(third.input.map((i: any) => i.type)).toEqual(['message', 'reasoning', 'message', 'message']);
    } finally {
      const r = await s.stop();
      expect(r.stderr).toMatch(/\[serve\] POST \/v1\/messages c1 200 \d+ms \d+B via codex/);
      expect(r.stderr).not.toContain('client-key');
    }
  });

  it('what the backend cannot take is a 400 saying why, and nothing goes upstream; a mid-stream failure is an Anthropic error event', async () => {
    await start('always');
    w.codex('c1');
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } } as const;
      const err = await sdk.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: [pdf, { type: 'text', text: 'summarise' }] }] }).catch((e) => e);
      expect(err.status).toBe(400);
      expect(err.error.error).toMatchObject({ type: 'invalid_request_error' });
      expect(err.error.error.message).toMatch(/messages\[0\]\.content\[0\]: a document \(application\/pdf\) cannot be sent/);
      expect(w.sim.requestsTo(CODEX_RESPONSES_PATH)).toHaveLength(0);
      w.sim.state.codexAnswers.push({ failMidStream: 'the model crashed', text: 'partial answer' });
      const stream = sdk.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      const texts: string[] = [];
      stream.on('text', (t) => texts.push(t));
      const failed = await stream.finalMessage().catch((e) => e);
      expect(String(failed.message ?? failed)).toMatch(/the model crashed/);
      expect(texts.join('')).toBe('partial answer');
      // an incomplete answer is a max_tokens stop
      w.sim.state.codexAnswers.push({ incomplete: 'max_output_tokens', text: 'cut' });
      const cut = await sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      expect(cut.stop_reason).toBe('max_tokens');
      expect(JSON.parse(w.sim.requestsTo(CODEX_RESPONSES_PATH).at(-1)!.body)).toMatchObject({ model: 'gpt-5.4-mini', reasoning: { effort: 'low' } });
    } finally {
      await s.stop();
    }
  });

  it('fallback: both anthropic accounts answer 429 with a reset, a codex account serves, and after the reset anthropic does again', async () => {
    await start('fallback');
    w.anthropic('a1', { fields: { priority: 0 } });
    w.anthropic('a2', { fields: { priority: 1 } });
    w.codex('c1');
    const reset = Math.floor(Date.now() / 1000) + 3;
    w.sim.fault(SIM_PATHS.messages, { times: 2, status: 429, headers: { 'anthropic-ratelimit-unified-reset': String(reset), 'retry-after': '3' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'limit' } } });
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const ask = () => sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      const one = await ask();
      expect(one.response.headers.get('x-refresher-provider')).toBe('codex');
      expect(one.data.content[0]).toMatchObject({ text: 'hi from codex' });
      expect(w.sim.requestsTo(SIM_PATHS.messages)).toHaveLength(2); // both anthropic accounts were asked first
      const two = await ask(); // both cooling: straight to codex
      expect(two.response.headers.get('x-refresher-provider')).toBe('codex');
      expect(w.sim.requestsTo(SIM_PATHS.messages)).toHaveLength(2);
      await sleep(reset * 1000 - Date.now() + 300);
      const three = await ask();
      expect(three.response.headers.get('x-refresher-provider')).toBeNull();
      expect(three.data.content[0]).toMatchObject({ text: '4' });
      expect(w.sim.requestsTo(CODEX_RESPONSES_PATH)).toHaveLength(2);
    } finally {
      await s.stop();
    }
  });

  it('GET /v1/models lists the anthropic models and the mapped codex ones; count_tokens on the codex route is an estimate', async () => {
    await start('always');
    w.codex('c1');
    const s = await startServe(w);
    try {
      const models = await fetch(`${s.url}/v1/models`).then((r) => r.json());
      expect(models.data.map((m: any) => m.id)).toEqual(['gpt-5.5', 'gpt-5.4-mini']);
      const r = await fetch(`${s.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x'.repeat(400) }] }) });
      expect(r.headers.get('x-refresher-estimate')).toBe('chars/4');
      expect((await r.json()).input_tokens).toBeGreaterThan(100);
    } finally {
      await s.stop();
    }
  });

  it('the real Claude Code on a codex account: the backend calls its Read tool, Claude Code runs it and sends the result, and prints the answer that quotes the file', async (t) => {
    if (!existsSync(CLAUDE)) return t.skip('@anthropic-ai/claude-code is not installed (npm ci installs it)');
    await start('always');
    const c = w.codex('c1');
    const work = mkdtempSync(join(tmpdir(), 'refresher-claude-work-'));
    const file = join(work, 'note.txt');
    writeFileSync(file, 'the secret word is pelican\n');
    w.sim.state.codexAnswers.push({ functionCall: { name: 'Read', arguments: { file_path: file } } });
    const s = await startServe(w);
    try {
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(CLAUDE, ['-p', 'what does note.txt say?', '--model', 'claude-sonnet-4-5', '--max-turns', '3', '--allowedTools', 'Read', '--no-session-persistence'], {
          cwd: work,
          env: { ...process.env, HOME: work, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ANTHROPIC_BASE_URL: s.url, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-placeholder-for-serve-000' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('The tool said:');
      expect(out.stdout).toContain('the secret word is pelican');
      const turns = w.sim.requestsTo(CODEX_RESPONSES_PATH).filter((r) => JSON.parse(r.body).tools.length > 0);
      expect(turns.map((r) => r.status)).toEqual([200, 200]);
      for (const r of turns) expect(r.headers.authorization).toBe(`Bearer ${c.accessToken}`);
      const second = JSON.parse(turns[1]!.body);
      const call = second.input.find((i: any) => i.type === 'function_call');
      expect(call).toMatchObject({ name: 'Read' });
      expect(JSON.parse(call.arguments)).toEqual({ file_path: file });
      expect(second.input.find((i: any) => i.type === 'function_call_output').call_id).toBe(call.call_id);
      // the conversation is the prompt cache key, and Claude Code's billing line never reaches the backend
      expect(second.prompt_cache_key).toBeTruthy();
      expect(second.prompt_cache_key).toBe(JSON.parse(turns[0]!.body).prompt_cache_key);
      for (const r of turns) expect(r.body).not.toContain('x-anthropic-billing-header');
    } finally {
      await s.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
