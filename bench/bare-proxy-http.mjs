// The same floor with node:http as the client too (no undici), for part 2 of bench/serve.mjs: how much of a
// streaming proxy's memory comes with the HTTP client.
import { createServer, request, Agent } from 'node:http';
const upstream = new URL(process.argv[2]);
const agent = new Agent({ keepAlive: true });
const server = createServer((req, res) => {
  const headers = { ...req.headers, 'x-forwarded-by': 'bare' }; delete headers.host; delete headers.connection;
  const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`));
