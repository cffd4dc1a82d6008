import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Agent, buildConnector } from 'undici';
import { cjs } from '../util/cjs.js';

/**
 * SOCKS5 through undici: an Agent whose connector opens the tunnel. `socks5://` resolves the name here and
 * sends the proxy an IP; `socks5h://` sends the hostname and lets the proxy resolve it. Loaded only when an
 * account actually uses a SOCKS proxy.
 */
export async function socksDispatcher(proxy: string, timeoutMs: number): Promise<Agent> {
  const { SocksClient } = cjs(await import('socks'));
  const { Agent } = cjs(await import('undici'));
  const u = new URL(proxy);
  const remoteDns = u.protocol === 'socks5h:';
  const proxyOpts = {
    host: u.hostname,
    port: Number(u.port) || 1080,
    type: 5 as const,
    userId: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };

  const connector: buildConnector.connector = (opts, callback) => {
    const open = async (): Promise<Socket> => {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      let host = opts.hostname;
      if (!remoteDns && isIP(host) === 0) {
        // Many SOCKS servers only reach IPv4; prefer an IPv4 address when the name has one.
        const all = await lookup(host, { all: true });
        host = (all.find((a) => a.family === 4) ?? all[0]!).address;
      }
      const { socket } = await SocksClient.createConnection({
        proxy: proxyOpts,
        command: 'connect',
        destination: { host, port },
        timeout: timeoutMs,
      });
      if (opts.protocol !== 'https:') return socket;
      return await new Promise<Socket>((resolve, reject) => {
        const t = tlsConnect({ socket, servername: opts.servername ?? opts.hostname, ALPNProtocols: ['http/1.1'] });
        t.once('secureConnect', () => resolve(t));
        t.once('error', reject);
      });
    };
    open().then(
      (s) => callback(null, s),
      (e: Error) => callback(e, null),
    );
  };
  return new Agent({ connect: connector, keepAliveTimeout: 10_000 });
}
