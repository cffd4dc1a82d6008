import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Agent, buildConnector } from 'undici';
import { cjs } from '../util/cjs.js';

/**
 * HTTP(S) proxies through CONNECT tunnels, with our own connector rather than undici's ProxyAgent: the
 * tunnel setup gets the run's timeout, and every failure of the proxy itself (down, silent, refusing
 * authentication) comes out as a proxy error, which is not the account's fault. A timeout of the upstream
 * inside a working tunnel stays a timeout.
 */
export class ProxyError extends Error {
  readonly code = 'PROXY_ERROR';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new ProxyError(`${what} within ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Reads the proxy's answer to CONNECT up to the blank line; returns the status code. */
function readConnectReply(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > 16_384) done(new ProxyError('the proxy sent an oversized CONNECT reply'));
        return;
      }
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, end).toString('latin1'));
      // Detach first, then hand back anything past the reply: it belongs to whoever reads the tunnel next.
      done(m ? null : new ProxyError('the proxy did not answer CONNECT with HTTP'), m ? Number(m[1]) : 0);
      socket.pause();
      const rest = buf.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
    };
    const onEnd = () => done(new ProxyError('the proxy closed the connection during CONNECT'));
    const onError = (e: Error) => done(e);
    const done = (err: Error | null, status = 0) => {
      socket.off('data', onData).off('end', onEnd).off('error', onError);
      if (err) reject(err);
      else resolve(status);
    };
    socket.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

export async function httpProxyDispatcher(proxy: string, timeoutMs: number): Promise<Agent> {
  const { Agent } = cjs(await import('undici'));
  const u = new URL(proxy);
  const proxyPort = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  const auth = u.username ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : null;

  const open = async (opts: buildConnector.Options): Promise<Socket> => {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    const target = `${opts.hostname.includes(':') ? `[${opts.hostname}]` : opts.hostname}:${port}`;
    const socket: Socket =
      u.protocol === 'https:' ? tlsConnect({ host: u.hostname, port: proxyPort, servername: u.hostname, ALPNProtocols: ['http/1.1'] }) : netConnect(proxyPort, u.hostname);
    const kill = () => socket.destroy();
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once(u.protocol === 'https:' ? 'secureConnect' : 'connect', () => resolve());
          socket.once('error', reject);
        }),
        timeoutMs,
        'no connection to the proxy',
        kill,
      );
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
      const status = await withTimeout(readConnectReply(socket), timeoutMs, 'no answer to CONNECT from the proxy', kill);
      // 407 is the standard answer; some proxies (tinyproxy) say 401.
      if (status === 407 || status === 401) throw new ProxyError(`the proxy refused authentication (HTTP ${status})`);
      if (status !== 200) throw new ProxyError(`the proxy refused the tunnel to ${target} (HTTP ${status})`);
    } catch (e) {
      kill();
      throw e;
    }
    if (opts.protocol !== 'https:') return socket;
    return await new Promise<Socket>((resolve, reject) => {
      const t = tlsConnect({ socket, servername: opts.servername ?? opts.hostname, ALPNProtocols: ['http/1.1'] });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    });
  };

  const connector: buildConnector.connector = (opts, callback) => {
    open(opts).then(
      (s) => callback(null, s),
      (e: Error) => callback(e, null),
    );
  };
  return new Agent({ connect: connector, keepAliveTimeout: 10_000 });
}
