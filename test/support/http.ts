import { request } from 'node:http';

/** A GET that does not follow redirects: what the login flows, serve's /health and /status need of a client. */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; location?: string; headers: Record<string, any>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace('//localhost:', '//127.0.0.1:'), { headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
