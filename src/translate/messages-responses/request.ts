import { effortForBudget, mapModel, type Effort, type ModelMap } from '../models.js';
import { shorten, type NameTable } from '../names.js';

/**
 * Anthropic Messages request → Codex Responses request (providers.md, "Anthropic Messages → Responses").
 * Pure. What the backend refuses is never sent (max_tokens, temperature, top_p, a system role); what cannot be
 * expressed there (a PDF document, a server tool) is an error for the client, and nothing goes upstream.
 */
export interface RequestContext {
  models: ModelMap;
  /** the conversation (Claude Code's session id): the prompt cache key */
  sessionId: string | null;
}

export type ResponsesInputItem =
  | { type: 'message'; role: 'user' | 'assistant' | 'developer'; content: Array<{ type: 'input_text' | 'output_text'; text: string } | { type: 'input_image'; image_url: string }> }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string | Array<{ type: 'input_text'; text: string } | { type: 'input_image'; image_url: string }> }
  | { type: 'reasoning'; summary: Array<{ type: 'summary_text'; text: string }>; encrypted_content: string };

export interface ResponsesRequest {
  model: string;
  instructions: string;
  input: ResponsesInputItem[];
  tools: Array<{ type: 'function'; name: string; description: string; parameters: unknown; strict: false }>;
  tool_choice: 'auto' | 'required' | 'none' | { type: 'function'; name: string };
  parallel_tool_calls: boolean;
  reasoning: { effort: Effort; summary: 'auto' };
  store: false;
  stream: true;
  include: ['reasoning.encrypted_content'];
  prompt_cache_key?: string;
}

export type Translated = { ok: true; body: ResponsesRequest; names: NameTable; model: string; stream: boolean } | { ok: false; message: string };

/** thinking signatures we minted from this backend's encrypted reasoning; any other signature is dropped */
export const SIGNATURE_PREFIX = 'rfcx1.';

/** Claude Code's per-request billing line: different every request, so it would defeat the prompt cache. */
const BILLING = /^x-anthropic-billing-header:/;

class Refusal extends Error {}
const refuse = (m: string): never => {
  throw new Refusal(m);
};

type Json = Record<string, any>;

export function messagesToResponses(req: Json, ctx: RequestContext): Translated {
  try {
    if (typeof req !== 'object' || req === null) refuse('the body is not a JSON object');
    if (typeof req.model !== 'string' || !req.model) refuse('model: expected a model name');
    if (!Array.isArray(req.messages)) refuse('messages: expected a list');
    const names: NameTable = {};
    const name = (n: string) => {
      const s = shorten(n);
      if (s !== n) names[s] = n;
      return s;
    };
    const choice = mapModel(req.model, ctx.models);
    const budget = req.thinking?.type === 'enabled' && Number.isFinite(req.thinking.budget_tokens) ? effortForBudget(req.thinking.budget_tokens) : null;
    const tools = (Array.isArray(req.tools) ? req.tools : []).map((t: Json, i: number) => {
      if (t.type && t.type !== 'custom') refuse(`tools[${i}]: the server tool ${JSON.stringify(t.type)} (${t.name}) is Anthropic's own and has no counterpart on the ChatGPT backend`);
      if (typeof t.name !== 'string') refuse(`tools[${i}].name: expected a string`);
      // cache_control, defer_loading and the like are Anthropic's: only these four cross.
      return { type: 'function' as const, name: name(t.name), description: typeof t.description === 'string' ? t.description : '', parameters: schema(t.input_schema), strict: false as const };
    });
    const body: ResponsesRequest = {
      model: choice.model,
      instructions: instructions(req.system),
      input: req.messages.flatMap((m: Json, i: number) => items(m, `messages[${i}]`, name)),
      tools,
      tool_choice: toolChoice(req.tool_choice, name),
      parallel_tool_calls: req.tool_choice?.disable_parallel_tool_use !== true,
      reasoning: { effort: budget ?? choice.effort, summary: 'auto' },
      store: false,
      stream: true,
      include: ['reasoning.encrypted_content'],
    };
    const key = ctx.sessionId ?? (typeof req.metadata?.user_id === 'string' ? req.metadata.user_id : null);
    if (key) body.prompt_cache_key = key;
    return { ok: true, body, names, model: req.model, stream: req.stream === true };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, message: e.message };
    throw e;
  }
}

function instructions(system: unknown): string {
  const texts = typeof system === 'string' ? [system] : Array.isArray(system) ? system.filter((b) => b?.type === 'text').map((b) => String(b.text)) : [];
  return texts
    .map((t) => t.split('\n').filter((l) => !BILLING.test(l)).join('\n'))
    .filter((t) => t.trim())
    .join('\n\n');
}

/** The tool's JSON schema as the client wrote it ($ref, anyOf and all), less the `$schema` marker. */
function schema(s: unknown): unknown {
  if (typeof s !== 'object' || s === null) return { type: 'object', properties: {} };
  const { $schema: _drop, ...rest } = s as Json;
  return rest;
}

function toolChoice(c: Json | undefined, name: (n: string) => string): ResponsesRequest['tool_choice'] {
  switch (c?.type) {
    case undefined:
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', name: name(String(c!.name)) };
    default:
      return refuse(`tool_choice.type: ${JSON.stringify(c?.type)} is not one of auto, any, tool, none`);
  }
}

/** One Anthropic message → Responses items, in order: runs of text and images become one message item. */
function items(m: Json, at: string, name: (n: string) => string): ResponsesInputItem[] {
  if (m.role !== 'user' && m.role !== 'assistant') refuse(`${at}.role: expected user or assistant`);
  const role = m.role as 'user' | 'assistant';
  const blocks: Json[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content : refuse(`${at}.content: expected text or a list of blocks`);
  const out: ResponsesInputItem[] = [];
  let parts: Extract<ResponsesInputItem, { type: 'message' }>['content'] = [];
  const flush = () => {
    if (parts.length) out.push({ type: 'message', role, content: parts });
    parts = [];
  };
  blocks.forEach((b, j) => {
    const where = `${at}.content[${j}]`;
    switch (b.type) {
      case 'text':
        if (b.text) parts.push({ type: role === 'user' ? 'input_text' : 'output_text', text: String(b.text) });
        return;
      case 'image':
        if (role !== 'user') refuse(`${where}: an image in an assistant message cannot be sent to the ChatGPT backend`);
        parts.push({ type: 'input_image', image_url: imageUrl(b.source, where) });
        return;
      case 'tool_use':
        flush();
        out.push({ type: 'function_call', call_id: shorten(String(b.id)), name: name(String(b.name)), arguments: JSON.stringify(b.input ?? {}) });
        return;
      case 'tool_result':
        flush();
        out.push({ type: 'function_call_output', call_id: shorten(String(b.tool_use_id)), output: resultOutput(b, where) });
        return;
      case 'thinking':
        // Only reasoning this backend produced can go back to it; another backend's signature would be refused.
        if (typeof b.signature === 'string' && b.signature.startsWith(SIGNATURE_PREFIX)) {
          flush();
          out.push({ type: 'reasoning', summary: b.thinking ? [{ type: 'summary_text', text: String(b.thinking) }] : [], encrypted_content: b.signature.slice(SIGNATURE_PREFIX.length) });
        }
        return;
      case 'redacted_thinking':
        return;
      case 'document':
        return refuse(`${where}: a document (${b.source?.media_type ?? b.source?.type ?? 'file'}) cannot be sent to the ChatGPT backend, which takes text and images only; send its text instead`);
      default:
        return refuse(`${where}: a ${JSON.stringify(b.type)} block has no counterpart on the ChatGPT backend`);
    }
  });
  flush();
  return out;
}

function imageUrl(src: Json | undefined, where: string): string {
  if (src?.type === 'base64' && typeof src.data === 'string') return `data:${src.media_type ?? 'image/png'};base64,${src.data}`;
  if (src?.type === 'url' && typeof src.url === 'string') return src.url;
  return refuse(`${where}.source: expected a base64 or url image source`);
}

/** A tool result: text, or parts when it holds images (the backend takes both). */
function resultOutput(b: Json, where: string): Extract<ResponsesInputItem, { type: 'function_call_output' }>['output'] {
  const c = b.content;
  const prefix = b.is_error ? 'Error: ' : '';
  if (!Array.isArray(c)) return prefix + (typeof c === 'string' ? c : '');
  const parts = c.map((p: Json, k: number) =>
    p.type === 'text'
      ? { type: 'input_text' as const, text: String(p.text) }
      : p.type === 'image'
        ? { type: 'input_image' as const, image_url: imageUrl(p.source, `${where}.content[${k}]`) }
        : refuse(`${where}.content[${k}]: a ${JSON.stringify(p.type)} block in a tool result cannot be sent to the ChatGPT backend`),
  );
  if (parts.every((p) => p.type === 'input_text')) return prefix + parts.map((p) => (p as { text: string }).text).join('\n');
  return prefix ? [{ type: 'input_text', text: prefix.trim() }, ...parts] : parts;
}
