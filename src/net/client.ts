import { userAgent } from '../version.js';
import { prepare, sendOnce, type HttpRequest, type HttpResponse } from './http.js';

export interface ClientOptions {
  concurrency: number;
  requestDelayMs: number;
  retryStatusCodes: readonly number[];
  maxRetries: number;
  maxRetryWaitMs: number;
  timeoutMs: number;
  /** told about each retry, for logs */
  onRetry?: (info: { url: string; status: number; waitMs: number; attempt: number }) => void;
}

export interface RequestOptions {
  proxy: string | null;
  /** asked with a request slot in hand, just before sending: a reason not to send at all (the run is stopping) */
  gate?: () => string | null;
  /** a response for which a retry would be pointless or harmful (a consumed refresh token, a running window) */
  final?: (res: HttpResponse) => boolean;
}

/** Nothing was sent: the gate said the run is stopping. */
export class NotStartedError extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry-After in seconds or as an HTTP date, or retry-after-ms; null when absent. */
export function retryAfterMs(res: HttpResponse, now = Date.now()): number | null {
  const ms = res.headers['retry-after-ms'];
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const ra = res.headers['retry-after'];
  if (!ra) return null;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Math.ceil(Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Counting semaphore: at most `size` requests in flight across the whole run. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * The HTTP client of a run: the polite spacing per upstream host (request_delay_ms between request starts,
 * other hosts unaffected), a global cap on requests in flight, and retries with backoff that honour
 * Retry-After up to max_retry_wait. Every request says who we are.
 */
export class HttpClient {
  private readonly slots: Semaphore;
  private readonly nextStart = new Map<string, number>();

  constructor(private readonly opts: ClientOptions) {
    this.slots = new Semaphore(opts.concurrency);
  }

  private async spaced(host: string): Promise<void> {
    const delay = this.opts.requestDelayMs;
    if (delay <= 0) return;
    const now = Date.now();
    const slot = Math.max(now, this.nextStart.get(host) ?? 0);
    this.nextStart.set(host, slot + delay);
    if (slot > now) await sleep(slot - now);
  }

  async request(req: HttpRequest, ro: RequestOptions): Promise<HttpResponse> {
    const host = new URL(req.url).host;
    const headers = { 'user-agent': userAgent(), ...req.headers };
    await prepare(ro.proxy, this.opts.timeoutMs);
    for (let attempt = 0; ; attempt++) {
      await this.spaced(host);
      await this.slots.acquire();
      const stop = attempt === 0 ? (ro.gate?.() ?? null) : null;
      if (stop !== null) {
        this.slots.release();
        throw new NotStartedError(stop);
      }
      let res: HttpResponse;
      try {
        res = await sendOnce({ ...req, headers }, { timeoutMs: this.opts.timeoutMs, proxy: ro.proxy });
      } finally {
        this.slots.release();
      }
      if (!this.opts.retryStatusCodes.includes(res.status) || attempt >= this.opts.maxRetries || ro.final?.(res)) return res;
      const asked = retryAfterMs(res);
      // Retry-After longer than we may wait: give up now rather than knock early.
      if (asked !== null && asked > this.opts.maxRetryWaitMs) return res;
      const waitMs = asked ?? Math.min(500 * 2 ** attempt, this.opts.maxRetryWaitMs);
      this.opts.onRetry?.({ url: req.url, status: res.status, waitMs, attempt: attempt + 1 });
      await sleep(waitMs);
    }
  }
}

/** The client with the config's concurrency, spacing, timeouts and retries. */
export function clientFromConfig(
  cfg: Pick<ClientOptions, 'concurrency' | 'requestDelayMs' | 'retryStatusCodes' | 'maxRetries' | 'maxRetryWaitMs' | 'timeoutMs'>,
  onRetry?: ClientOptions['onRetry'],
): HttpClient {
  const { concurrency, requestDelayMs, retryStatusCodes, maxRetries, maxRetryWaitMs, timeoutMs } = cfg;
  return new HttpClient({ concurrency, requestDelayMs, retryStatusCodes, maxRetries, maxRetryWaitMs, timeoutMs, onRetry });
}
