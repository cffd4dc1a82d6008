import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Account, Provider } from '../model/types.js';
import { credentialHeaders, pipeBody, type Route } from './wire.js';

/**
 * One kind of upstream exchange for serve's account loop: where it goes, what it sends with an account's
 * credentials, and how an answer worth passing on reaches the client. Plain forwarding is one; a translated
 * route is another (claude-on-codex.ts).
 */
export interface Exchange {
  provider: Provider;
  /** after the provider's api base; query included */
  path: string;
  method: string;
  headers: (a: Account) => Record<string, string>;
  body: Buffer | undefined;
  /** an answer that is not a 401/429/529 to retry: the client gets it, in its own format */
  deliver: (up: Dispatcher.ResponseData, status: number, headers: Record<string, string>) => Promise<void>;
}

export interface Failure {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export type AttemptResult = { sent: true } | { sent: false; lastFailure: Failure | null };

/** The client's side of one request: whether it went away, and the signal that aborts the upstream then. */
export interface ClientState {
  /** undici takes an EventEmitter as its signal: cheaper than an AbortController, whose abort builds a stack */
  gone: EventEmitter;
  left: boolean;
  /** the answer was written to its end (a close after that is not the client leaving) */
  finished: boolean;
}

export function clientState(res: ServerResponse): ClientState {
  const c: ClientState = { gone: new EventEmitter(), left: false, finished: false };
  res.on('close', () => {
    if (c.finished) return;
    c.left = true;
    c.gone.emit('abort');
  });
  return c;
}

/** The request as the client sent it, with the account's credentials on it; the answer piped back as it comes. */
export function plainExchange(req: IncomingMessage, r: Route, body: Buffer, client: Record<string, string>, res: ServerResponse, onBytes: (n: number) => void, c: ClientState): Exchange {
  const method = req.method ?? 'GET';
  return {
    provider: r.provider,
    path: r.rest,
    method,
    headers: (a) => ({ ...client, ...credentialHeaders(a, client) }),
    body: body.length || !['GET', 'HEAD'].includes(method) ? body : undefined,
    deliver: async (up, status, headers) => {
      res.writeHead(status, headers);
      // A stream's headers go at once (its first event may take a while); other answers go with their body.
      if (/event-stream/.test(headers['content-type'] ?? '')) res.flushHeaders();
      await pipeBody(up.body, res, headers['content-length'], onBytes, () => (c.finished = true));
    },
  };
}
