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

async function create(proxy: string | null, timeoutMs: number): Promise<Dispatcher> {
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
