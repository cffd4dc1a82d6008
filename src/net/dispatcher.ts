import type { Dispatcher } from 'undici';
import { cjs } from '../util/cjs.js';

/**
 * One dispatcher per proxy URL (and one for direct), kept for the life of the process so connections are
 * reused across accounts: keep-alive to each upstream, and through each proxy.
 */
const cache = new Map<string, Promise<Dispatcher>>();

export function dispatcherFor(proxy: string | null, timeoutMs: number): Promise<Dispatcher> {
  const key = proxy ?? 'direct';
  let d = cache.get(key);
  if (!d) {
    d = create(proxy, timeoutMs);
    cache.set(key, d);
  }
  return d;
}

/**
 * undici parses HTTP/1 with llhttp, compiled to WebAssembly. With V8's defaults its hot parsing function is
 * compiled again by the optimizing compiler in the background, and a process that has finished its work waits for
 * that compile before it exits: ~160 ms here after as few as two requests (a tick over a pool with one account
 * due took 540 ms with it, 300 without; the Node platform's part: nodejs/node#36616). A short process keeps the
 * baseline compiler's code (Liftoff), which parses a response ~0.1 ms slower; `serve`, which parses for hours,
 * calls parseForLongRun first. The flag must be set before llhttp is compiled, so: before undici is loaded.
 */
let shortRun = true;
let flagged = false;
export function parseForLongRun(): void {
  shortRun = false;
}
function parseForShortRun(): void {
  if (!shortRun || flagged) return;
  flagged = true;
  try {
    (process.getBuiltinModule('node:v8') as typeof import('node:v8')).setFlagsFromString('--liftoff-only');
  } catch {
    /* a Node without the flag parses with its defaults */
  }
}

async function create(proxy: string | null, timeoutMs: number): Promise<Dispatcher> {
  parseForShortRun();
  const undici = cjs(await import('undici'));
  // Half the request's deadline at most: a proxy or host that does not let us connect is a network-path
  // failure, and must be told apart before the whole request's deadline (an upstream failure) runs out.
  const connect = { timeout: Math.min(Math.round(timeoutMs / 2), 10_000) };
  if (!proxy) return new undici.Agent({ connect, keepAliveTimeout: 10_000 });
  const scheme = new URL(proxy).protocol;
  if (scheme === 'http:' || scheme === 'https:') {
    const { httpProxyDispatcher } = await import('./http-proxy.js');
    return httpProxyDispatcher(proxy, connect.timeout);
  }
  const { socksDispatcher } = await import('./socks.js');
  return socksDispatcher(proxy, connect.timeout);
}

/** Lets a finished run exit promptly instead of waiting for idle keep-alive sockets. */
export async function closeDispatchers(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.allSettled(all.map(async (d) => (await d).close()));
}
