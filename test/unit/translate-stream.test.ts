import { describe, expect, it } from 'vitest';
import { assembleMessage, ResponsesToMessages, type AnthropicEvent } from '../../src/translate/messages-responses/stream.js';
import { SseParser } from '../../src/translate/sse.js';

/** Responses stream → Anthropic events, from recorded-shape event sequences, fed in pieces of every size. */
const frame = (type: string, d: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...d })}\n\n`;
const created = frame('response.created', { response: { id: 'resp_1', status: 'in_progress' } });
const completed = (usage = { input_tokens: 100, input_tokens_details: { cached_tokens: 60 }, output_tokens: 9 }) => frame('response.completed', { response: { id: 'resp_1', status: 'completed', usage } });

const TOOL_TURN = [
  created,
  frame('response.output_item.added', { output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }),
  frame('response.reasoning_summary_part.added', { item_id: 'rs_1', output_index: 0, summary_index: 0 }),
  frame('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 0, delta: 'first ' }),
  frame('response.reasoning_summary_part.added', { item_id: 'rs_1', output_index: 0, summary_index: 1 }),
  frame('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 1, delta: 'second' }),
  frame('response.output_item.done', { output_index: 0, item: { id: 'rs_1', type: 'reasoning', encrypted_content: 'enc_Z' } }),
  frame('response.output_item.added', { output_index: 1, item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }),
  frame('response.content_part.added', { item_id: 'msg_1', output_index: 1, content_index: 0, part: { type: 'output_text', text: '' } }),
  frame('response.output_text.delta', { item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'Let me ' }),
  frame('response.output_text.delta', { item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'look. ✓' }),
  frame('response.output_text.done', { item_id: 'msg_1', output_index: 1, content_index: 0, text: 'Let me look. ✓' }),
  frame('response.output_item.done', { output_index: 1, item: { id: 'msg_1', type: 'message', content: [{ type: 'output_text', text: 'Let me look. ✓' }] } }),
  frame('response.output_item.added', { output_index: 2, item: { id: 'fc_1', type: 'function_call', call_id: 'call_A', name: 'short_abc', arguments: '' } }),
  frame('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 2, delta: '{"file_' }),
  frame('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 2, delta: 'path":"/a"}' }),
  frame('response.function_call_arguments.done', { item_id: 'fc_1', output_index: 2, arguments: '{"file_path":"/a"}' }),
  frame('response.output_item.done', { output_index: 2, item: { id: 'fc_1', type: 'function_call', call_id: 'call_A', name: 'short_abc', arguments: '{"file_path":"/a"}' } }),
  completed(),
].join('');

function run(text: string, size: number, names: Record<string, string> = {}): AnthropicEvent[] {
  const bytes = Buffer.from(text);
  const p = new SseParser();
  const x = new ResponsesToMessages({ model: 'claude-sonnet-4-5', names });
  const out: AnthropicEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...p.push(bytes.subarray(i, i + size)).flatMap((e) => x.push(e)));
  out.push(...p.end().flatMap((e) => x.push(e)), ...x.end());
  return out;
}

describe('ResponsesToMessages', () => {
  it('reasoning, text and a tool call become thinking, text and tool_use blocks; arguments are never repeated; usage splits out the cached tokens', () => {
    const events = run(TOOL_TURN, 1 << 20, { short_abc: 'mcp__server__a_very_long_tool_name' });
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    expect(events[0]).toMatchObject({ message: { id: 'msg_resp_1', model: 'claude-sonnet-4-5', role: 'assistant', content: [] } });
    expect(events[11]).toEqual({ type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_A', name: 'mcp__server__a_very_long_tool_name', input: {} } });
    expect(events.at(-2)).toEqual({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 40, cache_read_input_tokens: 60, cache_creation_input_tokens: 0, output_tokens: 9 } });
    const m = assembleMessage(events);
    expect(m).toEqual({
      ok: true,
      message: expect.objectContaining({
        stop_reason: 'tool_use',
        content: [
          { type: 'thinking', thinking: 'first \n\nsecond', signature: 'rfcx1.enc_Z' },
          { type: 'text', text: 'Let me look. ✓' },
          { type: 'tool_use', id: 'call_A', name: 'mcp__server__a_very_long_tool_name', input: { file_path: '/a' } },
        ],
      }),
    });
  });

  it.each([1, 2, 3, 7, 64])('the same events whatever the chunk size (%i bytes: events, lines and UTF-8 split anywhere)', (size) => {
    expect(run(TOOL_TURN, size)).toEqual(run(TOOL_TURN, 1 << 20));
  });

  it('a call whose arguments came only with .done, and one never closed, still reach the client whole, and every block is closed', () => {
    const text = [
      created,
      frame('response.output_item.added', { output_index: 0, item: { id: 'fc_1', type: 'function_call', call_id: 'c1', name: 'A' } }),
      frame('response.function_call_arguments.done', { item_id: 'fc_1', output_index: 0, arguments: '{"x":1}' }),
      frame('response.output_item.added', { output_index: 1, item: { id: 'fc_2', type: 'function_call', call_id: 'c2', name: 'B' } }),
      frame('response.function_call_arguments.delta', { item_id: 'fc_2', output_index: 1, delta: '{}' }),
      completed(),
    ].join('');
    const m = assembleMessage(run(text, 1 << 20));
    expect(m.ok && m.message.content).toEqual([
      { type: 'tool_use', id: 'c1', name: 'A', input: { x: 1 } },
      { type: 'tool_use', id: 'c2', name: 'B', input: {} },
    ]);
    const events = run(text, 1 << 20);
    expect(events.filter((e) => e.type === 'content_block_stop')).toHaveLength(2);
  });

  it.each([
    ['max_output_tokens', 'max_tokens'],
    ['content_filter', 'refusal'],
  ])('response.incomplete (%s) stops with %s', (reason, stop) => {
    const events = run(created + frame('response.incomplete', { response: { incomplete_details: { reason }, usage: { input_tokens: 5, output_tokens: 1 } } }), 1 << 20);
    expect(events.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: stop } });
  });

  it('an error event, a failed response, and a stream cut short are Anthropic error events', () => {
    expect(run(created + frame('error', { error: { code: 'rate_limit_exceeded', message: 'slow down' } }), 1 << 20).at(-1)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'the ChatGPT backend: slow down' } });
    expect(run(created + frame('response.failed', { response: { error: { code: 'server_error', message: 'boom' } } }), 1 << 20).at(-1)).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('boom') } });
    const cut = run(created + frame('response.output_text.delta', { item_id: 'm', delta: 'half' }), 1 << 20);
    expect(cut.at(-1)).toMatchObject({ type: 'error', error: { message: expect.stringContaining('closed the stream before the response was complete') } });
    expect(assembleMessage(cut)).toMatchObject({ ok: false });
  });

  it('text that arrives only in the finished item is not lost', () => {
    const m = assembleMessage(run(created + frame('response.output_item.done', { output_index: 0, item: { id: 'm', type: 'message', content: [{ type: 'output_text', text: 'whole' }] } }) + completed(), 1 << 20));
    expect(m.ok && m.message.content).toEqual([{ type: 'text', text: 'whole' }]);
    expect(m.ok && m.message.stop_reason).toBe('end_turn');
  });
});
