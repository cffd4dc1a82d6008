import type { ServerResponse } from 'node:http';
import type { SimState } from './state.js';
import type { LoggedRequest } from './server.js';

/**
 * `POST {codex api_base}/codex/responses`, as providers.md describes the ChatGPT backend: it refuses what the
 * real one refuses (with its messages), and streams the real event sequence. Answers can be scripted; by
 * default it answers text, and after a tool result it quotes that result (so a tool round trip is visible).
 */
export const CODEX_RESPONSES_PATH = '/backend-api/codex/responses';

export type CodexAnswer =
  | { text: string; reasoning?: string; delayMs?: number }
  | { functionCall: { name: string; arguments: unknown }; text?: string }
  | { incomplete: 'max_output_tokens' | 'content_filter'; text: string }
  | { failMidStream: string; text: string };

export const CODEX_MODELS = new Set(['gpt-6.2-sol', 'gpt-5.5', 'gpt-5.4', 'gpt-5.4-mini', 'gpt-5.3-codex', 'gpt-5.2']);
// what the Codex CLI (0.171) sends is accepted: `generate: false` is its prewarm, `client_metadata` its turn metadata
const ALLOWED = new Set(['model', 'instructions', 'input', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'store', 'stream', 'include', 'prompt_cache_key', 'text', 'service_tier', 'generate', 'client_metadata']);
const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

/** Why the backend would refuse this body (its 400 detail), or null. */
export function refusal(body: any): string | null {
  if (typeof body !== 'object' || body === null) return 'Invalid JSON body';
  for (const k of ['max_output_tokens', 'temperature', 'top_p']) if (k in body) return `Unsupported parameter: ${k}`;
  for (const k of Object.keys(body)) if (!ALLOWED.has(k)) return `Unsupported parameter: ${k}`;
  if (body.stream !== true) return 'Stream must be set to true';
  if (body.store !== false) return 'Store must be set to false';
  // Public translators report 'Instructions are required'; the Codex CLI 0.171 sends none and puts its prompt in
  // developer messages instead. The simulator takes either (a guess at the rule that makes both true).
  const developer = Array.isArray(body.input) && body.input.some((i: any) => i?.role === 'developer');
  if (typeof body.instructions !== 'string' && !developer) return 'Instructions are required';
  if (!CODEX_MODELS.has(body.model)) return `The '${body.model}' model is not supported when using Codex with a ChatGPT account.`;
  if (body.reasoning?.effort !== undefined && !EFFORTS.has(body.reasoning.effort)) return `Invalid value for 'reasoning.effort': ${body.reasoning.effort}`;
  if (!Array.isArray(body.input)) return "Invalid type for 'input': expected an array";
  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  for (const [i, t] of tools.entries()) {
    if (t.type !== 'function' || typeof t.name !== 'string') return `Invalid 'tools[${i}]': expected a function tool`;
    if (t.name.length > 64) return `Invalid 'tools[${i}].name': string too long. Expected a string with maximum length 64, but got a string with length ${t.name.length} instead.`;
    if (!/^[a-zA-Z0-9_-]+$/.test(t.name)) return `Invalid 'tools[${i}].name': string does not match pattern '^[a-zA-Z0-9_-]+$'.`;
  }
  if (typeof body.tool_choice === 'object' && body.tool_choice && !tools.some((t) => t.name === body.tool_choice.name)) return `Tool choice '${body.tool_choice.name}' not found in 'tools' parameter.`;
  const calls = new Set<string>();
  for (const [i, item] of body.input.entries()) {
    if (item.role === 'system') return 'System messages are not allowed';
    if (item.type === 'function_call') {
      if (String(item.call_id).length > 64) return `Invalid 'input[${i}].call_id': string too long. Expected a string with maximum length 64.`;
      if (typeof item.arguments !== 'string') return `Invalid type for 'input[${i}].arguments': expected a string`;
      calls.add(item.call_id);
    } else if (item.type === 'function_call_output') {
      if (!calls.has(item.call_id)) return `No tool call found for function call output with call_id ${item.call_id}.`;
    } else if (item.type === 'message') {
      if (!['user', 'assistant', 'developer'].includes(item.role)) return `Invalid value: '${item.role}'. Supported values are: 'assistant', 'developer', and 'user'.`;
      for (const p of item.content ?? []) {
        const ok = item.role === 'assistant' ? p.type === 'output_text' || p.type === 'refusal' : p.type === 'input_text' || p.type === 'input_image';
        if (!ok) return `Invalid value: '${p.type}' in a ${item.role} message.`;
        if (p.type === 'input_image' && !/^(data:image\/[a-z+]+;base64,|https?:\/\/)/.test(p.image_url)) return 'Invalid image_url: expected a data URL or an http(s) URL.';
      }
    } else if (item.type === 'reasoning') {
      if (typeof item.encrypted_content !== 'string' || !item.encrypted_content.startsWith('enc_')) return 'The encrypted content could not be verified.';
    } else if (item.type === 'additional_tools') {
      if (!Array.isArray(item.tools)) return `Invalid type for 'input[${i}].tools': expected an array`;
    } else return `Invalid value: '${item.type}' for 'input[${i}].type'.`;
  }
  return null;
}

/** The answer the backend gives: the first scripted one that fits the request, else text. */
export function pickAnswer(state: SimState, body: any): CodexAnswer {
  const tools = new Set((body.tools ?? []).map((t: any) => t.name));
  const i = state.codexAnswers.findIndex((a) => !('functionCall' in a) || tools.has(a.functionCall.name));
  if (i >= 0) return state.codexAnswers.splice(i, 1)[0]!;
  if (state.codexDefault) return state.codexDefault;
  const last = body.input[body.input.length - 1];
  if (last?.type === 'function_call_output') return { text: `The tool said: ${typeof last.output === 'string' ? last.output : JSON.stringify(last.output)}` };
  return { text: 'hi from codex' };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the events of an answer go: server-sent events over HTTP, or text frames over a WebSocket. */
export interface EventSink {
  send(type: string, data: object): void;
  closed(): boolean;
  end(): void;
}

/** An answer as SSE on an HTTP response. */
export function sseSink(res: ServerResponse, headers: Record<string, string>): EventSink {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  return {
    send: (type, data) => void res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`),
    closed: () => res.destroyed,
    end: () => void res.end(),
  };
}

/** The answer as the backend streams it. Usage counts a repeated prompt_cache_key's earlier input as cached. */
export async function streamAnswer(out: EventSink, body: any, a: CodexAnswer, cachedTokens: number, inputTokens: number): Promise<void> {
  let seq = 0;
  const ev = async (type: string, data: object) => {
    if (out.closed()) return;
    out.send(type, { type, sequence_number: seq++, ...data });
    if ('delayMs' in a && a.delayMs) await sleep(a.delayMs);
  };
  const id = `resp_${Math.random().toString(36).slice(2, 10)}`;
  const response = { id, object: 'response', model: body.model, status: 'in_progress', output: [] as unknown[] };
  await ev('response.created', { response });
  // a prewarm (`generate: false`) opens the response and ends it with nothing generated
  if (body.generate === false) {
    await ev('response.completed', { response: { ...response, status: 'completed', usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } } });
    return out.end();
  }
  await ev('response.in_progress', { response });
  let index = 0;
  const output: unknown[] = [];
  if ('reasoning' in a && a.reasoning) {
    const item = { id: `rs_${id}`, type: 'reasoning', summary: [] as unknown[] };
    await ev('response.output_item.added', { output_index: index, item });
    await ev('response.reasoning_summary_part.added', { item_id: item.id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } });
    await ev('response.reasoning_summary_text.delta', { item_id: item.id, output_index: index, summary_index: 0, delta: a.reasoning });
    await ev('response.reasoning_summary_text.done', { item_id: item.id, output_index: index, summary_index: 0, text: a.reasoning });
    const done = { ...item, summary: [{ type: 'summary_text', text: a.reasoning }], encrypted_content: `enc_${Buffer.from(a.reasoning).toString('base64')}` };
    await ev('response.output_item.done', { output_index: index++, item: done });
    output.push(done);
  }
  const text = 'text' in a ? a.text : undefined;
  if (text) {
    const item = { id: `msg_${id}`, type: 'message', role: 'assistant', status: 'in_progress', content: [] as unknown[] };
    await ev('response.output_item.added', { output_index: index, item });
    await ev('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: { type: 'output_text', text: '' } });
    // two deltas, so that a client that kept only the last would show half
    const half = Math.ceil(text.length / 2);
    for (const delta of [text.slice(0, half), text.slice(half)].filter(Boolean)) await ev('response.output_text.delta', { item_id: item.id, output_index: index, content_index: 0, delta });
    if ('failMidStream' in a) {
      await ev('error', { error: { type: 'server_error', code: 'server_error', message: a.failMidStream } });
      return out.end();
    }
    await ev('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text });
    const done = { ...item, status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
    await ev('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part: done.content[0] });
    await ev('response.output_item.done', { output_index: index++, item: done });
    output.push(done);
  }
  if ('functionCall' in a) {
    const args = JSON.stringify(a.functionCall.arguments);
    const item = { id: `fc_${id}`, type: 'function_call', status: 'in_progress', call_id: `call_${Math.random().toString(36).slice(2, 14)}`, name: a.functionCall.name, arguments: '' };
    await ev('response.output_item.added', { output_index: index, item });
    const cut = Math.ceil(args.length / 2);
    for (const delta of [args.slice(0, cut), args.slice(cut)]) await ev('response.function_call_arguments.delta', { item_id: item.id, output_index: index, delta });
    await ev('response.function_call_arguments.done', { item_id: item.id, output_index: index, arguments: args });
    const done = { ...item, status: 'completed', arguments: args };
    await ev('response.output_item.done', { output_index: index++, item: done });
    output.push(done);
  }
  const usage = { input_tokens: inputTokens, input_tokens_details: { cached_tokens: cachedTokens }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + 7 };
  if ('incomplete' in a) await ev('response.incomplete', { response: { ...response, status: 'incomplete', incomplete_details: { reason: a.incomplete }, output, usage } });
  else await ev('response.completed', { response: { ...response, status: 'completed', output, usage } });
  out.end();
}

/** The usage windows the backend sends with every answer (and on a WebSocket's 101). */
export function windowHeaders(now: number): Record<string, string> {
  return {
    'x-codex-primary-used-percent': '12',
    'x-codex-primary-window-minutes': '300',
    'x-codex-primary-reset-at': String(Math.floor(now / 1000) + 9000),
    'x-codex-secondary-used-percent': '30',
    'x-codex-secondary-window-minutes': '10080',
    'x-codex-secondary-reset-at': String(Math.floor(now / 1000) + 302_400),
  };
}

/** One turn of an account: the backend's refusal, or the answer it will stream (prompt cache counted). */
export function takeTurn(state: SimState, accountId: string, body: any, size: number): { refusal: string } | { answer: CodexAnswer; cached: number; inputTokens: number } {
  const why = refusal(body);
  if (why) return { refusal: why };
  if (body.generate === false) return { answer: { text: '' }, cached: 0, inputTokens: 0 }; // a prewarm: no turn
  const inputTokens = Math.ceil(size / 4);
  const key = typeof body.prompt_cache_key === 'string' ? `${accountId}:${body.prompt_cache_key}` : null;
  const cached = key ? Math.min(state.codexCache.get(key) ?? 0, inputTokens) : 0;
  if (key) state.codexCache.set(key, inputTokens);
  state.codexTurns.push(body);
  return { answer: pickAnswer(state, body), cached, inputTokens };
}

/** The ChatGPT backend's Responses endpoint: its refusals, then a streamed answer with the x-codex-* windows. */
export function codexResponses(state: SimState, req: LoggedRequest, send: (s: number, b: unknown, h?: Record<string, string>) => void, res: ServerResponse, bearer: string, now: number): void {
  const a = state.byAccessToken(bearer, now);
  if (!a || a.provider !== 'codex') return send(401, { detail: 'Unauthorized' });
  if (req.headers['chatgpt-account-id'] !== a.accountId) return send(403, { detail: 'account mismatch' });
  let body: any;
  try {
    body = JSON.parse(req.body);
  } catch {
    return send(400, { detail: 'Invalid JSON body' });
  }
  const turn = takeTurn(state, a.accountId, body, req.body.length);
  if ('refusal' in turn) return send(400, { detail: turn.refusal });
  req.status = 200;
  void streamAnswer(sseSink(res, windowHeaders(now)), body, turn.answer, turn.cached, turn.inputTokens);
}
