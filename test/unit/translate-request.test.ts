import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_MAP } from '../../src/translate/models.js';
import { messagesToResponses, SIGNATURE_PREFIX } from '../../src/translate/messages-responses/request.js';
import { refusal } from '../../src/sim/codex-responses.js';

/** Anthropic Messages → Responses, field by field; every translated body must also pass the simulated backend. */
const ctx = { models: DEFAULT_MODEL_MAP, sessionId: 'sess-1' };
const ok = (req: object) => {
  const t = messagesToResponses(req as any, ctx);
  if (!t.ok) throw new Error(t.message);
  expect(refusal(t.body)).toBeNull();
  return t;
};
const user = (content: unknown) => ({ role: 'user', content });

describe('messagesToResponses', () => {
  it('drops what the backend refuses; system becomes instructions without the billing line; the session is the cache key', () => {
    const t = ok({
      model: 'claude-sonnet-4-5',
      max_tokens: 32000,
      temperature: 1,
      top_p: 0.9,
      top_k: 5,
      stop_sequences: ['x'],
      stream: true,
      metadata: { user_id: 'u' },
      system: [
        { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=sdk-cli; cch=1a2b3;' },
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [user('hi')],
    });
    expect(t.body).toEqual({
      model: 'gpt-5.5',
      instructions: 'You are Claude Code.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      reasoning: { effort: 'medium', summary: 'auto' },
      store: false,
      stream: true,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'sess-1',
    });
    expect(t.stream).toBe(true);
    expect(messagesToResponses({ model: 'x', messages: [], metadata: { user_id: 'u-2' } }, { ...ctx, sessionId: null })).toMatchObject({ body: { prompt_cache_key: 'u-2' } });
  });

  it.each([
    ['claude-opus-4-1', undefined, 'gpt-5.5', 'high'],
    ['claude-haiku-4-5', undefined, 'gpt-5.4-mini', 'low'],
    ['claude-something-new', undefined, 'gpt-5.5', 'medium'],
    ['gpt-5.3-codex', undefined, 'gpt-5.3-codex', 'medium'],
    ['claude-sonnet-4-5', 1024, 'gpt-5.5', 'low'],
    ['claude-sonnet-4-5', 8192, 'gpt-5.5', 'medium'],
    ['claude-sonnet-4-5', 24576, 'gpt-5.5', 'high'],
    ['claude-sonnet-4-5', 24577, 'gpt-5.5', 'xhigh'],
  ])('model %s with budget %s → %s at %s', (model, budget, to, effort) => {
    const t = ok({ model, messages: [user('hi')], ...(budget ? { thinking: { type: 'enabled', budget_tokens: budget } } : {}) });
    expect(t.body.model).toBe(to);
    expect(t.body.reasoning.effort).toBe(effort);
  });

  it('text, images, tool use and results keep their order; tool results pair with their calls', () => {
    const t = ok({
      model: 'claude-sonnet-4-5',
      messages: [
        user([{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } }]),
        { role: 'assistant', content: [{ type: 'text', text: 'reading' }, { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/a' } }] },
        user([{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'line 1' }, { type: 'text', text: 'line 2' }] }, { type: 'text', text: 'and?' }]),
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'Bash', input: { command: 'false' } }] },
        user([{ type: 'tool_result', tool_use_id: 'toolu_2', is_error: true, content: 'exit 1' }]),
      ],
    });
    expect(t.body.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: 'data:image/jpeg;base64,AAAA' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'reading' }] },
      { type: 'function_call', call_id: 'toolu_1', name: 'Read', arguments: '{"file_path":"/a"}' },
      { type: 'function_call_output', call_id: 'toolu_1', output: 'line 1\nline 2' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'and?' }] },
      { type: 'function_call', call_id: 'toolu_2', name: 'Bash', arguments: '{"command":"false"}' },
      { type: 'function_call_output', call_id: 'toolu_2', output: 'Error: exit 1' },
    ]);
  });

  it('tools: schemas kept ($ref, anyOf), $schema and unknown fields dropped; names over 64 characters shortened the same way each time and mapped back', () => {
    const long = `mcp__${'very_long_server_name_'.repeat(4)}__do_the_thing`;
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { $ref: '#/$defs/A' }, b: { anyOf: [{ type: 'string' }, { type: 'null' }] } }, $defs: { A: { type: 'number' } } };
    const req = {
      model: 'claude-sonnet-4-5',
      tools: [
        { name: 'Read', description: 'read a file', input_schema: schema, cache_control: { type: 'ephemeral' }, defer_loading: true },
        { name: long, input_schema: { type: 'object' } },
      ],
      tool_choice: { type: 'tool', name: long, disable_parallel_tool_use: true },
      messages: [user('go'), { role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${'x'.repeat(70)}`, name: long, input: {} }] }, user([{ type: 'tool_result', tool_use_id: `toolu_${'x'.repeat(70)}`, content: 'ok' }])],
    };
    const t = ok(req);
    const { $schema: _, ...kept } = schema;
    expect(t.body.tools[0]).toEqual({ type: 'function', name: 'Read', description: 'read a file', parameters: kept, strict: false });
    const short = t.body.tools[1]!.name;
    expect(short.length).toBeLessThanOrEqual(64);
    expect(t.names).toEqual({ [short]: long });
    expect(t.body.tool_choice).toEqual({ type: 'function', name: short });
    expect(t.body.parallel_tool_calls).toBe(false);
    const call = t.body.input[1] as { call_id: string; name: string };
    expect(call.name).toBe(short);
    expect(call.call_id.length).toBeLessThanOrEqual(64);
    expect((t.body.input[2] as { call_id: string }).call_id).toBe(call.call_id);
    expect(ok(req).body).toEqual(t.body); // the same every time: later turns name the same call
  });

  it.each([
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [{ type: 'auto' }, 'auto'],
  ])('tool_choice %j → %j', (choice, to) => {
    expect(ok({ model: 'claude-sonnet-4-5', tool_choice: choice, messages: [user('x')] }).body.tool_choice).toBe(to);
  });

  it('thinking goes back only when this backend signed it; other signatures and redacted thinking are dropped', () => {
    const t = ok({
      model: 'claude-sonnet-4-5',
      messages: [
        user('a'),
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'mine', signature: `${SIGNATURE_PREFIX}enc_abc` }, { type: 'thinking', thinking: 'theirs', signature: 'EqQBCkYIBRgCKkA' }, { type: 'redacted_thinking', data: 'x' }, { type: 'text', text: 'b' }] },
        user('c'),
      ],
    });
    expect(t.body.input[1]).toEqual({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'mine' }], encrypted_content: 'enc_abc' });
    expect(t.body.input).toHaveLength(4);
  });

  it.each([
    [[{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'x' } }], /content\[0\]: a document \(application\/pdf\) cannot be sent/],
    [[{ type: 'search_result', content: [] }], /a "search_result" block has no counterpart/],
    [[{ type: 'image', source: { type: 'file', file_id: 'f' } }], /content\[0\]\.source: expected a base64 or url image source/],
  ])('refuses %j with a reason', (content, why) => {
    const t = messagesToResponses({ model: 'claude-sonnet-4-5', messages: [user(content)] }, ctx);
    expect(t.ok).toBe(false);
    expect(!t.ok && t.message).toMatch(why);
  });

  it('refuses a server tool by name', () => {
    const t = messagesToResponses({ model: 'claude-sonnet-4-5', tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [user('x')] }, ctx);
    expect(!t.ok && t.message).toMatch(/tools\[0\]: the server tool "web_search_20250305" \(web_search\)/);
  });
});
