// The floor of what a Node proxy can do here: node:http in, an undici Pool out, bodies piped, one header added.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = process.argv[2];
const pool = new Pool(upstream, { connections: 64 });
const server = createServer(async (req, res) => {
  try {
    const headers = { ...req.headers, 'x-forwarded-by': 'bare' };
    delete headers.host;
    delete headers.connection;
    const up = await pool.request({ method: req.method, path: req.url, headers, body: req.method === 'GET' ? undefined : req });
    res.writeHead(up.statusCode, up.headers);
    for await (const chunk of up.body) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    res.end();
  } catch {
    res.destroy();
  }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`));
