import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver on 127.0.0.1, as ntfy, Slack or Discord would be: it records every POST by path and
 * answers 200, or what `status` says (503 while "down"), or never (`hang`).
 */
export class Receiver {
  readonly got: { path: string; headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  status = 200;
  hang = false;
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (this.hang) return;
        if (this.status < 300) this.got.push({ path: req.url ?? '/', headers: req.headers, body });
        res.writeHead(this.status, { 'content-type': 'text/plain' });
        res.end(this.status < 300 ? 'ok' : 'down');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  to(path: string) {
    return this.got.filter((g) => g.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
