import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { parseJson, runCli } from '../support/cli.js';
import { startServe, World } from '../support/fixtures.js';
import { WebSocket } from 'undici';
import { startDante, startMicrosocks, startSilent, startTinyproxy } from '../support/proxies.mjs';

type Proxy = Awaited<ReturnType<typeof startDante>>;

/** A proxy pool: answers each GET with the next URL of `answers` (the last one repeats), and counts calls. */
async function startPool(answers: string[]): Promise<{ url: string; calls: () => number; stop: () => Promise<void> }> {
  let calls = 0;
  const server: Server = createServer((_req, res) => {
    const a = answers[Math.min(calls, answers.length - 1)]!;
    calls++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${a}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/get`,
    calls: () => calls,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('proxies (real dante, microsocks and tinyproxy)', () => {
  let w: World;
  let dante: Proxy;
  beforeAll(async () => {
    dante = await startDante();
  });
  afterAll(() => dante?.stop());
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  const simPort = () => new URL(w.sim.url).port;
  /** The simulator's config with a hostname instead of an IP, so SOCKS DNS handling is visible. */
  const byName = (extra: string) => w.sim.configYaml(`request_delay_ms: 0\n${extra}`).replaceAll('127.0.0.1', 'localhost');
  const tick = (...extra: string[]) => w.tick(...extra);

  it('socks5h through dante: the hostname goes to the proxy, which resolves it', async () => {
    w.home.writeConfig(byName(`proxy_url: ${dante.url}\n`));
    w.grok('g', { fields: { quota: null } });
    const r = await tick();
    expect(r.code, r.stderr).toBe(0);
    expect(w.sim.requestsTo(SIM_PATHS.grokRateLimits)).toHaveLength(2);
    expect(dante.log()).toContain(`ATYP: 3 address: localhost.${simPort()}`);
  });

  it('socks5 through dante: the name is resolved here and an IP goes to the proxy', async () => {
    const before = dante.log().split(`ATYP: 1 address: 127.0.0.1.${simPort()}`).length;
    w.home.writeConfig(byName(`proxy_url: ${dante.socks5}\n`));
    w.grok('g', { fields: { quota: null } });
    const r = await tick();
    expect(r.code, r.stderr).toBe(0);
    const log = dante.log();
    expect(log.split(`ATYP: 1 address: 127.0.0.1.${simPort()}`).length).toBeGreaterThan(before);
    expect(log).not.toContain(`address: localhost.${simPort()}`);
  });

  it('socks5 with user:pass through microsocks; a wrong password is a clear, uncounted failure', async () => {
    const ms = await startMicrosocks('refresher', 'pa ss:w0rd');
    try {
      w.home.writeConfig(w.sim.configYaml(`request_delay_ms: 0\nproxy_url: "${ms.url}"\n`));
      w.grok('g', { fields: { quota: null } });
      expect((await tick()).code).toBe(0);
      expect(w.home.read('g').quota.remainingQueries).toBe(95);

      const wrong = ms.url.replace('pa%20ss%3Aw0rd', 'wrong-secret-pw');
      w.home.writeConfig(w.sim.configYaml(`request_delay_ms: 0\nproxy_url: "${wrong}"\n`));
      w.grok('g2', { fields: { quota: null } });
      const before = w.home.bytes('g2');
      const r = await tick('--account', 'g2');
      expect(r.code).toBe(1);
      expect(r.doc.actions[0]).toMatchObject({ ok: false, failure: 'network' });
      expect(r.doc.actions[0].error).toContain(`via proxy socks5://refresher:***@127.0.0.1:${ms.port}`);
      expect(r.doc.actions[0].error).toMatch(/auth/i);
      expect(r.stdout + r.stderr).not.toContain('wrong-secret-pw');
      expect(w.home.bytes('g2').equals(before)).toBe(true);
    } finally {
      await ms.stop();
    }
  });

  it('http through tinyproxy (CONNECT)', async () => {
    const tp = await startTinyproxy([Number(simPort())]);
    try {
      w.home.writeConfig(w.sim.configYaml(`request_delay_ms: 0\nproxy_url: ${tp.url}\n`));
      w.anthropic('a', { expiresIn: 60_000 });
      const r = await tick();
      expect(r.code, r.stderr).toBe(0);
      expect(w.sim.requestsTo(SIM_PATHS.anthropicToken)).toHaveLength(1);
      expect(tp.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${simPort()}`));
    } finally {
      await tp.stop();
    }
  });

  it("serve takes each account's proxy too: a message through dante (socks5h), a WebSocket through tinyproxy", async () => {
    const tp = await startTinyproxy([Number(simPort())]);
    const before = dante.log().split(`ATYP: 3 address: localhost.${simPort()}`).length;
    w.home.writeConfig(byName(`proxy_url: ${dante.url}\n`));
    w.anthropic('a1');
    w.codex('cx', { fields: { proxy: tp.url } });
    const s = await startServe(w);
    try {
      const r = await fetch(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(r.status).toBe(200);
      expect(w.sim.requestsTo(SIM_PATHS.messages)).toHaveLength(1);
      expect(dante.log().split(`ATYP: 3 address: localhost.${simPort()}`).length).toBeGreaterThan(before);
      const echoed = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/codex/codex/responses`);
        ws.onopen = () => ws.send('through the proxy');
        ws.onmessage = (m) => (resolve(String(m.data)), ws.close());
        ws.onerror = () => reject(new Error('the WebSocket failed'));
      });
      expect(echoed).toBe('echo: through the proxy');
      expect(tp.log()).toMatch(new RegExp(`CONNECT localhost:${simPort()}`));
    } finally {
      await s.stop();
      await tp.stop();
    }
  });

  it("serve's translated route (Claude clients on codex accounts) takes the codex account's proxy: tinyproxy", async () => {
    const tp = await startTinyproxy([Number(simPort())]);
    w.home.writeConfig(byName('serve:\n  codex_for_claude: always\n'));
    w.codex('cx', { fields: { proxy: tp.url } });
    const s = await startServe(w);
    try {
      const r = await fetch(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-refresher-provider')).toBe('codex');
      expect((await r.json()).content[0].text).toBe('hi from codex');
      expect(w.sim.requestsTo('/backend-api/codex/responses')).toHaveLength(1);
      expect(tp.log()).toMatch(new RegExp(`CONNECT localhost:${simPort()}`));
    } finally {
      await s.stop();
      await tp.stop();
    }
  });

  it('http proxy with user:pass (tinyproxy BasicAuth); a wrong password is refused, not counted', async () => {
    const tp = await startTinyproxy([Number(simPort())], { user: 'refresher', pass: 'tiny-secret' });
    try {
      w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n'));
      w.grok('ok', { fields: { quota: null, proxy: tp.url } });
      w.grok('bad', { fields: { quota: null, proxy: tp.url.replace('tiny-secret', 'wrong-pass') } });
      const before = w.home.bytes('bad');
      const r = await tick();
      const by = Object.fromEntries(r.doc.actions.map((a: any) => [a.account, a]));
      expect(by.ok.ok, r.stderr).toBe(true);
      expect(by.bad).toMatchObject({ ok: false, failure: 'network', error: expect.stringMatching(/the proxy refused authentication \(HTTP 40[17]\)/) });
      expect(by.bad.error).toContain(`via proxy http://refresher:***@127.0.0.1:${tp.port}`);
      expect(r.stdout + r.stderr).not.toMatch(/tiny-secret|wrong-pass/);
      expect(w.home.bytes('bad').equals(before)).toBe(true);
    } finally {
      await tp.stop();
    }
  });

  it('a proxy that accepts the connection and never answers times out as a proxy failure, not counted', async () => {
    const silent = await startSilent();
    try {
      w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\ntimeout_ms: 800\n'));
      w.grok('via-http', { fields: { quota: null, proxy: `http://127.0.0.1:${silent.port}` } });
      w.grok('via-socks', { fields: { quota: null, proxy: `socks5h://127.0.0.1:${silent.port}` } });
      const before = [w.home.bytes('via-http'), w.home.bytes('via-socks')];
      const r = await tick();
      expect(r.code).toBe(1);
      for (const a of r.doc.actions) expect(a).toMatchObject({ ok: false, failure: 'network', error: expect.stringContaining(`via proxy`) });
      expect(r.doc.actions.find((a: any) => a.account === 'via-http').error).toContain('no answer to CONNECT from the proxy within 400 ms');
      expect(w.home.bytes('via-http').equals(before[0]!)).toBe(true);
      expect(w.home.bytes('via-socks').equals(before[1]!)).toBe(true);
    } finally {
      await silent.stop();
    }
  });

  it("an account's proxy wins over proxy_url, and direct bypasses it; a dead proxy is not counted", async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nproxy_url: http://127.0.0.1:9\n'));
    w.grok('via-dante', { fields: { quota: null, proxy: dante.url } });
    w.grok('direct-one', { fields: { quota: null, proxy: 'direct' } });
    w.grok('via-global', { fields: { quota: null } });
    const before = w.home.bytes('via-global');
    const r = await tick();
    expect(r.code).toBe(1);
    const by = Object.fromEntries(r.doc.actions.map((a: any) => [a.account, a]));
    expect(by['via-dante'].ok).toBe(true);
    expect(by['direct-one'].ok).toBe(true);
    expect(by['via-global']).toMatchObject({ ok: false, failure: 'network', error: expect.stringContaining('via proxy http://127.0.0.1:9') });
    expect(w.home.bytes('via-global').equals(before)).toBe(true);
    const st = parseJson(await runCli(w.args('status', '--json')));
    expect(Object.fromEntries(st.map((x: any) => [x.id, x.proxy]))).toEqual({ 'via-dante': dante.url, 'direct-one': 'direct', 'via-global': 'http://127.0.0.1:9' });
  });

  it('the pool is asked once across two tick processes, and its socks5:// answer is used as socks5h://', async () => {
    const pool = await startPool([dante.socks5]);
    try {
      w.home.writeConfig(byName(`proxy_pool_url: ${pool.url}\nproxy_pool_interval: 300\n`));
      w.grok('g1', { fields: { quota: null } });
      expect((await tick()).code).toBe(0);
      w.grok('g2', { fields: { quota: null } });
      expect((await tick()).code).toBe(0);
      expect(pool.calls()).toBe(1);
      expect(w.sim.requestsTo(SIM_PATHS.grokRateLimits)).toHaveLength(4);
      const shown = parseJson(await runCli(w.args('account', 'list', '--json')));
      expect(shown[0].proxy).toBe(`${dante.url} (from pool)`); // the socks5:// answer, as socks5h://
      expect(pool.calls()).toBe(1); // showing it did not ask the pool
      expect(dante.log()).toContain(`ATYP: 3 address: localhost.${simPort()}`); // rewritten to socks5h
    } finally {
      await pool.stop();
    }
  });

  it('ten ticks started at once ask the pool once', async () => {
    const pool = await startPool([dante.url]);
    try {
      w.home.writeConfig(w.sim.configYaml(`request_delay_ms: 0\nproxy_pool_url: ${pool.url}\n`));
      for (let i = 0; i < 10; i++) w.grok(`g${i}`, { fields: { quota: null } });
      const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => runCli(w.args('tick', '--json', '--account', `g${i}`))));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expect(pool.calls()).toBe(1);
    } finally {
      await pool.stop();
    }
  });

  it('a 403 HTML block through the pool fetches a fresh proxy and retries', async () => {
    const tp = await startTinyproxy([Number(simPort())]);
    const pool = await startPool([dante.url, tp.url]);
    try {
      w.home.writeConfig(w.sim.configYaml(`request_delay_ms: 0\nproxy_pool_url: ${pool.url}\n`));
      w.grok('g', { fields: { quota: null } });
      w.sim.fault(SIM_PATHS.grokRateLimits, { status: 403, body: '<html><body>Sorry, you have been blocked</body></html>' });
      const r = await tick();
      expect(r.code, r.stderr).toBe(0);
      expect(pool.calls()).toBe(2);
      expect(r.stderr).toContain('retrying through a fresh one');
      expect(w.home.read('g')).toMatchObject({ quota: { remainingQueries: 95 } });
      expect(w.home.read('g').failedCount ?? 0).toBe(0);
      expect(tp.log()).toContain('CONNECT');
    } finally {
      await pool.stop();
      await tp.stop();
    }
  });

  it('a pool that is down or answers garbage falls back to proxy_url, and says so', async () => {
    w.home.writeConfig(byName(`proxy_pool_url: http://127.0.0.1:9/get\nproxy_url: ${dante.url}\n`));
    w.grok('g', { fields: { quota: null } });
    const r = await tick();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/proxy pool http:\/\/localhost:9\/get: cannot reach .*; using proxy_url socks5h:\/\/localhost:\d+ instead/);

    const pool = await startPool(['<html>rate limited</html>']);
    try {
      w.home.writeConfig(byName(`proxy_pool_url: ${pool.url}\nproxy_url: ${dante.url}\n`));
      w.grok('g2', { fields: { quota: null } });
      const r2 = await tick('--account', 'g2');
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stderr).toContain('answered something that is not a proxy URL');
    } finally {
      await pool.stop();
    }
  });

  it('a malformed proxy URL is a config error (exit 2) that names where it came from', async () => {
    w.home.writeConfig(w.sim.configYaml('proxy_url: "socks4://127.0.0.1:1080"\n'));
    const r = await runCli(w.args('tick'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('proxy_url: unsupported proxy scheme "socks4:"');

    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\n'));
    w.grok('bad-proxy', { fields: { quota: null, proxy: 'not a url' } });
    w.grok('fine', { fields: { quota: null } });
    const r2 = await tick();
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`${w.home.file('bad-proxy')}: proxy: not a URL`);
    expect(r2.doc.actions).toMatchObject([{ account: 'fine', ok: true }]);
  });
});
