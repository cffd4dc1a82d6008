import { originalName, type NameTable } from '../names.js';
import type { SseEvent } from '../sse.js';
import { SIGNATURE_PREFIX } from './request.js';

/**
 * Responses stream → Anthropic Messages stream (providers.md, "Responses stream → Anthropic SSE"). A pure
 * transducer: Responses events in, Anthropic events out. Each output item of the backend becomes one content
 * block; a block is closed when its item is done, and anything still open when the response ends is closed
 * then (a tool call left open would leave the client waiting). Arguments stream as they come and are never
 * repeated from the `.done` event.
 */
export type AnthropicEvent = { type: string; [k: string]: unknown };

interface OpenBlock {
  index: number;
  kind: 'text' | 'tool_use' | 'thinking';
  /** a tool call whose arguments have streamed (the `.done` text is then not sent again) */
  streamed: boolean;
}

export class ResponsesToMessages {
  private started = false;
  private finished = false;
  private next = 0;
  /** by output item id (or output index, when the event has no id) */
  private open = new Map<string, OpenBlock>();
  private calledTool = false;

  constructor(private readonly o: { model: string; names: NameTable }) {}

  /** Whether the response ended (completed, incomplete or failed): nothing more is to come. */
  get done(): boolean {
    return this.finished;
  }

  push(e: SseEvent): AnthropicEvent[] {
    if (this.finished || e.data === '[DONE]') return [];
    let d: any;
    try {
      d = JSON.parse(e.data);
    } catch {
      return this.fail('api_error', 'the ChatGPT backend sent an event that is not JSON');
    }
    const type: string = d.type ?? e.event;
    const out: AnthropicEvent[] = [];
    if (!this.started && type !== 'error') out.push(this.messageStart(d.response?.id));
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
        break;
      case 'response.output_item.added':
        if (d.item?.type === 'function_call') out.push(...this.openBlock(key(d), 'tool_use', { type: 'tool_use', id: d.item.call_id, name: originalName(d.item.name, this.o.names), input: {} }));
        break;
      case 'response.output_text.delta':
        out.push(...this.ensure(key(d), 'text'), this.delta(key(d), { type: 'text_delta', text: String(d.delta ?? '') }));
        break;
      case 'response.reasoning_summary_text.delta':
        out.push(...this.ensure(key(d), 'thinking'), this.delta(key(d), { type: 'thinking_delta', thinking: String(d.delta ?? '') }));
        break;
      case 'response.reasoning_summary_part.added':
        // a second summary part continues the same thinking block, a paragraph on
        if (this.open.has(key(d)) && (d.summary_index ?? 0) > 0) out.push(this.delta(key(d), { type: 'thinking_delta', thinking: '\n\n' }));
        break;
      case 'response.function_call_arguments.delta': {
        const b = this.open.get(key(d));
        if (b?.kind === 'tool_use' && d.delta) {
          b.streamed = true;
          out.push(this.delta(key(d), { type: 'input_json_delta', partial_json: String(d.delta) }));
        }
        break;
      }
      case 'response.function_call_arguments.done': {
        const b = this.open.get(key(d));
        if (b?.kind === 'tool_use' && !b.streamed && d.arguments) {
          b.streamed = true;
          out.push(this.delta(key(d), { type: 'input_json_delta', partial_json: String(d.arguments) }));
        }
        break;
      }
      case 'response.output_item.done':
        out.push(...this.itemDone(key(d), d.item ?? {}));
        break;
      case 'response.completed':
        out.push(...this.finish(this.calledTool ? 'tool_use' : 'end_turn', d.response?.usage));
        break;
      case 'response.incomplete': {
        const reason = d.response?.incomplete_details?.reason;
        out.push(...this.finish(reason === 'content_filter' ? 'refusal' : 'max_tokens', d.response?.usage));
        break;
      }
      case 'response.failed': {
        const err = d.response?.error ?? {};
        out.push(...this.fail(errorType(err.code ?? err.type), `the ChatGPT backend failed the response: ${err.message ?? err.code ?? 'no reason given'}`));
        break;
      }
      case 'error': {
        const err = d.error ?? d;
        out.push(...this.fail(errorType(err.code ?? err.type), `the ChatGPT backend: ${err.message ?? err.code ?? err.type ?? 'error'}`));
        break;
      }
      default:
        break; // content_part.added/done, output_text.done and others carry nothing a client needs
    }
    return out;
  }

  /** The upstream stream ended: a response that never said it was complete is an error, not a short answer. */
  end(): AnthropicEvent[] {
    if (this.finished) return [];
    return this.fail('api_error', 'the ChatGPT backend closed the stream before the response was complete');
  }

  private messageStart(id: unknown): AnthropicEvent {
    this.started = true;
    return {
      type: 'message_start',
      message: { id: `msg_${typeof id === 'string' ? id : 'codex'}`, type: 'message', role: 'assistant', model: this.o.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
    };
  }

  private openBlock(k: string, kind: OpenBlock['kind'], content_block: object): AnthropicEvent[] {
    const index = this.next++;
    this.open.set(k, { index, kind, streamed: false });
    if (kind === 'tool_use') this.calledTool = true;
    return [{ type: 'content_block_start', index, content_block }];
  }

  private ensure(k: string, kind: 'text' | 'thinking'): AnthropicEvent[] {
    if (this.open.get(k)?.kind === kind) return [];
    const closing = this.close(k);
    return [...closing, ...this.openBlock(k, kind, kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '' })];
  }

  private delta(k: string, delta: object): AnthropicEvent {
    return { type: 'content_block_delta', index: this.open.get(k)!.index, delta };
  }

  private close(k: string): AnthropicEvent[] {
    const b = this.open.get(k);
    if (!b) return [];
    this.open.delete(k);
    return [{ type: 'content_block_stop', index: b.index }];
  }

  private itemDone(k: string, item: any): AnthropicEvent[] {
    const b = this.open.get(k);
    const out: AnthropicEvent[] = [];
    if (item.type === 'function_call') {
      // a call that never announced itself, or never streamed its arguments, still reaches the client whole
      if (!b) out.push(...this.openBlock(k, 'tool_use', { type: 'tool_use', id: item.call_id, name: originalName(item.name, this.o.names), input: {} }));
      const open = this.open.get(k)!;
      if (!open.streamed && item.arguments) {
        open.streamed = true;
        out.push(this.delta(k, { type: 'input_json_delta', partial_json: String(item.arguments) }));
      }
    } else if (item.type === 'message' && !b) {
      // text that came only whole, in the item
      const text = (item.content ?? []).filter((p: any) => p.type === 'output_text').map((p: any) => p.text).join('');
      if (text) out.push(...this.ensure(k, 'text'), this.delta(k, { type: 'text_delta', text }));
    } else if (item.type === 'reasoning' && b?.kind === 'thinking') {
      // the encrypted reasoning goes back to this backend on the next turn, as the block's signature
      out.push(this.delta(k, { type: 'signature_delta', signature: item.encrypted_content ? SIGNATURE_PREFIX + item.encrypted_content : '' }));
    }
    return [...out, ...this.close(k)];
  }

  private closeAll(): AnthropicEvent[] {
    return [...this.open.keys()].flatMap((k) => this.close(k));
  }

  private finish(stop_reason: string, usage: any): AnthropicEvent[] {
    this.finished = true;
    const input = Number(usage?.input_tokens ?? 0);
    const cached = Number(usage?.input_tokens_details?.cached_tokens ?? 0);
    return [
      ...this.closeAll(),
      { type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: { input_tokens: Math.max(0, input - cached), cache_read_input_tokens: cached, cache_creation_input_tokens: 0, output_tokens: Number(usage?.output_tokens ?? 0) } },
      { type: 'message_stop' },
    ];
  }

  private fail(type: string, message: string): AnthropicEvent[] {
    this.finished = true;
    return [{ type: 'error', error: { type, message } }];
  }
}

const key = (d: any): string => String(d.item_id ?? d.item?.id ?? `#${d.output_index ?? 0}`);

function errorType(code: unknown): string {
  const c = String(code ?? '');
  if (/usage_limit|rate_limit/.test(c)) return 'rate_limit_error';
  if (/overload|server_is_overloaded/.test(c)) return 'overloaded_error';
  if (/invalid_request|context_length/.test(c)) return 'invalid_request_error';
  return 'api_error';
}

/**
 * A whole Anthropic message from the events (the backend streams only; a caller that did not ask for a stream
 * gets this). An `error` event becomes the error it carries.
 */
export function assembleMessage(events: AnthropicEvent[]): { ok: true; message: any } | { ok: false; error: { type: string; message: string } } {
  let message: any = null;
  const blocks: any[] = [];
  const json: string[] = [];
  for (const e of events as any[]) {
    switch (e.type) {
      case 'message_start':
        message = { ...e.message, content: blocks };
        break;
      case 'content_block_start':
        blocks[e.index] = { ...e.content_block };
        json[e.index] = '';
        break;
      case 'content_block_delta': {
        const b = blocks[e.index];
        if (e.delta.type === 'text_delta') b.text += e.delta.text;
        else if (e.delta.type === 'thinking_delta') b.thinking += e.delta.thinking;
        else if (e.delta.type === 'signature_delta') b.signature = e.delta.signature;
        else if (e.delta.type === 'input_json_delta') json[e.index] += e.delta.partial_json;
        break;
      }
      case 'content_block_stop':
        if (blocks[e.index].type === 'tool_use') blocks[e.index].input = parseInput(json[e.index] ?? '');
        break;
      case 'message_delta':
        message.stop_reason = e.delta.stop_reason;
        message.stop_sequence = e.delta.stop_sequence;
        message.usage = e.usage;
        break;
      case 'error':
        return { ok: false, error: e.error };
    }
  }
  if (!message || message.stop_reason === null) return { ok: false, error: { type: 'api_error', message: 'the ChatGPT backend closed the stream before the response was complete' } };
  return { ok: true, message };
}

function parseInput(text: string): unknown {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}
