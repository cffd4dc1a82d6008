import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * An upgrade request that tells a refusal apart: undici's own `upgrade()` turns any answer but 101 into
 * "bad upgrade", losing the status the client needs (a 426 makes the Codex CLI fall back to HTTPS at once; a
 * 502 makes it retry for seconds). This handler keeps the refusal's status, headers and (capped) body.
 */
export type UpgradeResult =
  | { ok: true; headers: Record<string, string | string[]>; socket: Duplex }
  | { ok: false; status: number; headers: Record<string, string | string[]>; body: string };

const BODY_CAP = 64 * 1024;

function parseRaw(raw: Buffer[] | string[] | null): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; raw && i + 1 < raw.length; i += 2) {
    const k = String(raw[i]).toLowerCase();
    const v = String(raw[i + 1]);
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

export function upgradeOrRefusal(dispatcher: Dispatcher, opts: { origin: string; path: string; method: string; headers: Record<string, string>; protocol: string; signal: EventEmitter }): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    let abort: ((e: Error) => void) | null = null;
    let status = 0;
    let headers: Record<string, string | string[]> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal.off('abort', onAbort);
      f();
    };
    const onAbort = () => {
      abort?.(new Error('the client went away'));
      settle(() => reject(new Error('the client went away')));
    };
    opts.signal.once('abort', onAbort);
    const handler = {
      onConnect: (a: (e: Error) => void) => void (abort = a),
      onHeaders: (s: number, raw: Buffer[]) => {
        status = s;
        headers = parseRaw(raw);
        return true;
      },
      onData: (chunk: Buffer) => {
        if (size < BODY_CAP) chunks.push(chunk);
        size += chunk.length;
        return true;
      },
      onComplete: () => settle(() => resolve({ ok: false, status, headers, body: Buffer.concat(chunks).toString('utf8').slice(0, BODY_CAP) })),
      onUpgrade: (_s: number, raw: Buffer[], socket: Duplex) => settle(() => resolve({ ok: true, headers: parseRaw(raw), socket })),
      onError: (e: Error) => settle(() => reject(e)),
    };
    dispatcher.dispatch({ origin: opts.origin, path: opts.path, method: opts.method as 'GET', headers: opts.headers, upgrade: opts.protocol }, handler as unknown as Dispatcher.DispatchHandler);
  });
}
