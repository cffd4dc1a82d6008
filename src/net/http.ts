import { redactUrl } from '../util/secrets.js';
import { dispatcherFor } from './dispatcher.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * `network`: the path failed (proxy down, DNS, connection refused or reset): not the account's fault.
 * `upstream`: the upstream misbehaved on an open connection (no answer in time, an absurd answer): counts
 * against the account like a 5xx.
 */
export class NetworkError extends Error {
  constructor(
    readonly kind: 'network' | 'upstream',
    message: string,
  ) {
    super(message);
  }
}

/** No answer of the APIs we call comes near this; a larger one is a misbehaving upstream or proxy. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

function describe(err: unknown): { code: string; message: string } {
  let e = err as { code?: unknown; message?: string; cause?: unknown };
  // undici wraps socket errors; the useful code is often on the cause.
  while (e && typeof e.code !== 'string' && e.cause) e = e.cause as typeof e;
  return { code: typeof e?.code === 'string' ? e.code : 'UNKNOWN', message: e?.message ?? String(err) };
}

/** Loads the HTTP stack and the proxy's dispatcher, so a request's start time is not spent importing. */
export async function prepare(proxy: string | null, timeoutMs: number): Promise<void> {
  await dispatcherFor(proxy, timeoutMs);
}

/** One request, no retries. Throws NetworkError; never puts headers or bodies in an error. */
export async function sendOnce(req: HttpRequest, opts: { timeoutMs: number; proxy: string | null }): Promise<HttpResponse> {
  const dispatcher = await dispatcherFor(opts.proxy, opts.timeoutMs);
  const url = new URL(req.url);
  const host = url.host;
  const via = opts.proxy ? ` via proxy ${redactUrl(opts.proxy)}` : '';
  // One deadline for the whole request: connecting, the headers and the last byte of the body. Idle
  // timeouts alone let an answer that trickles a byte a second hold the account's lock forever.
  // The abort waits one turn of the event loop: after a suspend or SIGSTOP, the timer and an answer that
  // arrived meanwhile are both ready, and the answer (a rotated token, perhaps) must win.
  const deadline = new AbortController();
  const timer = setTimeout(() => setImmediate(() => deadline.abort()), opts.timeoutMs);
  let gotHeaders = false;
  try {
    const res = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: deadline.signal,
      // undici's own timers would fire first after a suspend and drop an answer already received.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    gotHeaders = true;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        res.body.destroy();
        throw new NetworkError('upstream', `${host} sent an answer over ${MAX_BODY_BYTES / 1024 / 1024} MiB${via}; not read`);
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers, text };
  } catch (err) {
    if (err instanceof NetworkError) throw err;
    if (deadline.signal.aborted) {
      throw new NetworkError('upstream', gotHeaders ? `the answer from ${host} was not complete within ${opts.timeoutMs} ms${via}` : `no answer from ${host} within ${opts.timeoutMs} ms${via}`);
    }
    const { code, message } = describe(err);
    if (code === 'PROXY_ERROR') throw new NetworkError('network', `cannot reach ${host}${via}: ${message}`);
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
      throw new NetworkError('network', `the connection to ${host}${via} was closed before an answer (${code})`);
    }
    if (code === 'UND_ERR_INVALID_ARG') throw new NetworkError('upstream', `the request to ${host} could not be sent: ${message}`);
    throw new NetworkError('network', `cannot reach ${host}${via}: ${code === 'UNKNOWN' ? message : code}`);
  } finally {
    clearTimeout(timer);
  }
}
