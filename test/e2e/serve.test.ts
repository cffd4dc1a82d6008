import Anthropic from '@anthropic-ai/sdk';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { WS_PATH } from '../../src/sim/websocket.js';
import { WebSocket } from 'undici';
import { expectNoCanary } from '../support/canary.js';
import { CLAUDE, claudeHi } from '../support/claude.js';
import { httpGet } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { HOUR, MIN, startServe, World } from '../support/fixtures.js';
import { sleep, until } from '../support/hostile.js';


const get = httpGet;

describe('refresher serve', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  it('the Anthropic SDK, streaming and not, through serve: the account token goes upstream, the client key does not; the use is recorded', async () => {
    const c = w.anthropic('a1', { fields: { lastUsedAt: null } });
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'sk-ant-api03-client-key-that-must-not-travel' });
      const msg = await sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
      expect(msg.content[0]).toMatchObject({ type: 'text', text: '4' });
      const stream = sdk.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
      const final = await stream.finalMessage();
      expect(final.content[0]).toMatchObject({ type: 'text', text: '4' });
      const sent = w.sim.requestsTo(SIM_PATHS.messages);
      expect(sent).toHaveLength(2);
      for (const r of sent) {
        expect(r.headers.authorization).toBe(`Bearer ${c.accessToken}`);
        expect(r.headers['x-api-key']).toBeUndefined();
        expect(String(r.headers['anthropic-beta'])).toContain('oauth-2025-04-20');
        expect(String(r.headers['user-agent'])).toMatch(/^Anthropic\/JS/); // the client's, unchanged
      }
      await until(() => w.home.read('a1').lastUsedAt !== null, 5000, 'the recorded use');
      const doc = w.home.read('a1');
      expect(doc.rateLimitReset).toBe(Math.floor(c.account.windowResetAt! / 1000) * 1000); // the header is in seconds
      expect(doc.quota.fiveHour.utilization).toBe(1);
      expect(doc.quota.sevenDay.utilization).toBe(10);
      const health = await get(`${s.url}/health`);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', accounts: { total: 1, available: 1 } });
      const status = await get(`${s.url}/status`);
      expect(JSON.parse(status.body)[0]).toMatchObject({ id: 'a1', provider: 'anthropic' });
      expectNoCanary(health.body + status.body, 'serve /health and /status');
    } finally {
      const r = await s.stop();
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/\[serve\] POST \/v1\/messages a1 200 \d+ms \d+B/);
      expect(r.stderr).not.toContain('client-key-that-must-not-travel');
      // serve's own answers are logged with their size, and its start-up line is not a warning
      expect(r.stderr).toMatch(/\[serve\] GET \/health - 200 \d+ms [1-9]\d*B/);
      expect(r.stderr).not.toMatch(/warning: \[serve\] listening on/);
    }
  });

  it('the real Claude Code through serve: its own headers pass, its placeholder token is replaced by the account\'s', async (t) => {
    if (!existsSync(CLAUDE)) return t.skip('@anthropic-ai/claude-code is not installed (npm ci installs it)');
    const c = w.anthropic('a1', { fields: { lastUsedAt: null } });
    const s = await startServe(w);
    const claudeHome = mkdtempSync(join(tmpdir(), 'refresher-claude-home-'));
    try {
      const out = await claudeHi({ HOME: claudeHome, ANTHROPIC_BASE_URL: s.url, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-placeholder-for-serve-000' });
      expect(out.code).toBe(0);
      expect(out.stdout.trim()).toBe('4');
      const sent = w.sim.requestsTo(SIM_PATHS.messages)[0]!;
      expect(sent.headers.authorization).toBe(`Bearer ${c.accessToken}`);
      expect(String(sent.headers['user-agent'])).toMatch(/^claude-cli\//);
      expect(sent.headers['x-app']).toBe('cli');
      // The use is written a second after the answer, under the account's lock: on a loaded machine that can
      // take a while, and if it never comes, serve's log says why.
      await until(() => w.home.read('a1').lastUsedAt !== null, 15_000, 'the recorded use').catch((e: Error) => {
        throw new Error(`${e.message}; serve said:\n${s.stderr()}`);
      });
    } finally {
      await s.stop();
      rmSync(claudeHome, { recursive: true, force: true });
    }
  });

  it('a 429 moves on to the next account; the cooling one waits for its reset, not longer, and its cooldown is on disk', async () => {
    w.anthropic('first', { fields: { priority: 0 } });
    w.anthropic('second', { fields: { priority: 1 } });
    const reset = Math.floor(Date.now() / 1000) + 3;
    w.sim.fault(SIM_PATHS.messages, { status: 429, headers: { 'anthropic-ratelimit-unified-reset': String(reset), 'retry-after': '3' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'limit' } } });
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const ask = () => sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      await ask();
      const who = () => w.sim.requestsTo(SIM_PATHS.messages).map((r) => (r.headers.authorization === `Bearer ${w.home.read('first').credentials.accessToken}` ? 'first' : 'second'));
      expect(who()).toEqual(['first', 'second', 'second']);
      await until(() => w.home.read('first').cooldownUntil !== undefined && w.home.read('first').cooldownUntil !== null, 5000, 'the cooldown on disk');
      expect(w.home.read('first').cooldownUntil).toBe(reset * 1000);
      await sleep(reset * 1000 - Date.now() + 200);
      await ask();
      expect(who()).toEqual(['first', 'second', 'second', 'first']);
    } finally {
      await s.stop();
    }
  });

  it('every account cooling down: 429 with retry-after, in the provider\'s own error shape', async () => {
    w.anthropic('only', { fields: { cooldownUntil: Date.now() + 90_000 } });
    const s = await startServe(w);
    try {
      const r = await new Promise<{ status: number; headers: any; body: string }>((resolve) => {
        const req = request(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        req.end(JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [] }));
      });
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(80);
      expect(JSON.parse(r.body)).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
      expect(w.sim.requestsTo(SIM_PATHS.messages)).toHaveLength(0);
    } finally {
      await s.stop();
    }
  });

  it('a 401 refreshes the token once, however many requests wait, and retries on the same account', async () => {
    const c = w.anthropic('a1');
    // the upstream no longer takes our access token (revoked, or expired early)
    w.home.writeAccount({ ...w.home.read('a1'), credentials: { accessToken: 'sk-ant-oat01-revoked-access-token-0000', refreshToken: c.refreshToken, expiresAt: Date.now() + 5 * HOUR } });
    w.secrets.push('sk-ant-oat01-revoked-access-token-0000');
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const results = await Promise.all(Array.from({ length: 5 }, () => sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })));
      expect(results.every((m) => m.content[0]?.type === 'text')).toBe(true);
      expect(w.sim.state.refreshCalls).toBe(1);
      expect(w.sim.state.refreshReuses).toBe(0);
      expect(w.home.read('a1').credentials.refreshToken).toBe(c.account.refreshToken);
    } finally {
      await s.stop();
    }
  });

  it('an account refused again after its refresh is left for the next one (and marked expired by the refresh)', async () => {
    w.anthropic('dead', { fields: { priority: 0 } });
    const ok = w.anthropic('live', { fields: { priority: 1 } });
    // "dead": neither its access token nor its refresh token is known upstream any more
    w.home.writeAccount({ ...w.home.read('dead'), credentials: { accessToken: 'sk-ant-oat01-unknown-access-000000', refreshToken: 'sk-ant-ort01-unknown-refresh-00000', expiresAt: Date.now() + 5 * HOUR } });
    w.secrets.push('sk-ant-oat01-unknown-access-000000', 'sk-ant-ort01-unknown-refresh-00000');
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const m = await sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
      expect(m.content[0]).toMatchObject({ text: '4' });
      expect(w.sim.requestsTo(SIM_PATHS.messages).at(-1)!.headers.authorization).toBe(`Bearer ${ok.accessToken}`);
      expect(w.home.read('dead').status).toBe('expired');
    } finally {
      await s.stop();
    }
  });

  it('session affinity keeps a conversation on its account; x-refresher-account pins one', async () => {
    w.anthropic('best', { fields: { priority: 0 } });
    w.anthropic('other', { fields: { priority: 1 } });
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const ask = (headers: Record<string, string>) => sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, { headers });
      await ask({ 'x-refresher-account': 'other', 'x-claude-code-session-id': 's1' });
      await ask({ 'x-claude-code-session-id': 's1' });
      await ask({});
      const tokens = { best: w.home.read('best').credentials.accessToken, other: w.home.read('other').credentials.accessToken };
      const who = w.sim.requestsTo(SIM_PATHS.messages).map((r) => (r.headers.authorization === `Bearer ${tokens.best}` ? 'best' : 'other'));
      expect(who).toEqual(['other', 'other', 'best']);
      expect(w.sim.requestsTo(SIM_PATHS.messages).every((r) => r.headers['x-refresher-account'] === undefined)).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it('a pinned account that cannot serve says why, and so does a provider with no usable account; nothing goes upstream', async () => {
    w.anthropic('free');
    w.anthropic('resting', { fields: { paused: true } });
    w.anthropic('cool', { fields: { cooldownUntil: Date.now() + 90_000 } });
    w.codex('cx');
    const s = await startServe(w);
    const ask = async (pin: string) => {
      const r = await fetch(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-refresher-account': pin }, body: '{}' });
      return { status: r.status, retryAfter: r.headers.get('retry-after'), message: ((await r.json()) as { error: { message: string } }).error.message };
    };
    try {
      expect(await ask('nobody')).toMatchObject({ status: 404, message: expect.stringContaining('no account "nobody"') });
      expect(await ask('resting')).toMatchObject({ status: 409, message: expect.stringContaining('paused (refresher account set resting --paused off)') });
      expect(await ask('cx')).toMatchObject({ status: 409, message: expect.stringContaining('it is a codex account') });
      const cool = await ask('cool');
      expect(cool).toMatchObject({ status: 429, message: expect.stringContaining('account "cool" (x-refresher-account) is cooling down') });
      expect(Number(cool.retryAfter)).toBeGreaterThan(60);
      expect(Number(cool.retryAfter)).toBeLessThanOrEqual(90);
      expect(w.sim.requestsTo(SIM_PATHS.messages)).toHaveLength(0);
      // No account of the provider at all: not "cooling down", but nothing usable.
      const none = await fetch(`${s.url}/grok/rest/app-chat/conversations/new`, { method: 'POST', body: '{}' });
      expect(none.status).toBe(503);
      expect(((await none.json()) as { error: { message: string } }).error.message).toContain('no grok account is usable now; see refresher status');
    } finally {
      await s.stop();
    }
  });

  it('codex: /codex/* with the account id; the x-codex windows are recorded by their length', async () => {
    w.sim.state.codexWindowsSwapped = true;
    const c = w.codex('cx', { fields: { quota: null } });
    const s = await startServe(w);
    try {
      const r = await get(`${s.url}/codex/wham/usage`);
      expect(r.status).toBe(200);
      const sent = w.sim.requestsTo(SIM_PATHS.wham)[0]!;
      expect(sent.headers['chatgpt-account-id']).toBe(c.account.accountId);
      await until(() => !!w.home.read('cx').quota, 5000, 'the recorded windows');
      const q = w.home.read('cx').quota;
      expect(q.fiveHour.usedPercent).toBe(12);
      expect(q.weekly.usedPercent).toBe(30);
    } finally {
      await s.stop();
    }
  });

  it('answers of known length arrive whole, with their length; HEAD and 204 end; headers of one connection stay behind, both ways', async () => {
    w.anthropic('a1');
    const big = 'y'.repeat(200_000);
    w.sim.fault(SIM_PATHS.messages, { status: 200, body: big, headers: { 'content-type': 'text/plain', 'content-length': String(big.length), connection: 'x-upstream-hop', 'x-upstream-hop': '1', 'keep-alive': 'timeout=77', 'x-end-to-end': 'kept' } });
    w.sim.fault('/v1/models', { status: 200, body: 'z'.repeat(500), headers: { 'content-length': '500' } });
    w.sim.fault('/v1/messages/count_tokens', { status: 204, body: '' });
    const s = await startServe(w);
    const call = (method: string, path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
        const req = request(`${s.url}${path}`, { method, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(method === 'POST' ? '{}' : undefined);
      });
    try {
      const r = await call('POST', '/v1/messages?beta=true', { connection: 'x-client-hop', 'x-client-hop': '1', 'proxy-authorization': 'Basic eDp5', te: 'trailers', 'x-client-end-to-end': 'kept' });
      expect(r.status).toBe(200);
      expect(r.body).toBe(big);
      expect(r.headers['content-length']).toBe(String(big.length));
      expect(r.headers['x-end-to-end']).toBe('kept');
      expect(r.headers['x-upstream-hop']).toBeUndefined();
      expect(String(r.headers['keep-alive'] ?? '')).not.toContain('timeout=77'); // serve's own keep-alive, not the upstream's
      const up = w.sim.requestsTo(SIM_PATHS.messages)[0]!;
      expect(up.query.get('beta')).toBe('true');
      expect(up.headers['x-client-end-to-end']).toBe('kept');
      for (const h of ['x-client-hop', 'proxy-authorization', 'te']) expect(up.headers[h], h).toBeUndefined();
      const head = await call('HEAD', '/v1/models');
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('500');
      expect(head.body).toBe('');
      const none = await call('POST', '/v1/messages/count_tokens');
      expect(none.status).toBe(204);
      expect(none.body).toBe('');
    } finally {
      await s.stop();
    }
  });

  it('a WebSocket (the Codex CLI tries one first) is tunnelled with the account\'s credentials; one no account can take gets a plain answer', async () => {
    const c = w.codex('cx', { fields: { quota: null, lastUsedAt: null } });
    const s = await startServe(w);
    const open = (path: string) =>
      new Promise<{ messages: string[]; error: boolean }>((resolve) => {
        const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}${path}`, { headers: { authorization: 'Bearer client-placeholder-token' } } as never);
        const messages: string[] = [];
        let error = false;
        ws.onopen = () => ws.send('hi');
        ws.onmessage = (m) => {
          messages.push(String(m.data));
          ws.close();
        };
        ws.onerror = () => (error = true);
        ws.onclose = () => resolve({ messages, error });
      });
    try {
      expect(await open('/codex/codex/responses')).toEqual({ messages: ['echo: hi'], error: false });
      const sent = w.sim.requestsTo(WS_PATH)[0]!;
      expect(sent.status).toBe(101);
      expect(sent.headers.authorization).toBe(`Bearer ${c.accessToken}`);
      expect(sent.headers['chatgpt-account-id']).toBe(c.account.accountId);
      await until(() => !!w.home.read('cx').quota, 5000, 'the use recorded from the 101');
      expect(w.home.read('cx').quota.fiveHour.usedPercent).toBe(12);
      expect(w.home.read('cx').lastUsedAt).not.toBeNull();
      // The upstream refuses (no WebSocket there): the client gets an answer, not a hang, and can fall back.
      expect(await open('/codex/codex/elsewhere')).toMatchObject({ messages: [], error: true });
      expect(w.sim.requestsTo('/backend-api/codex/elsewhere')[0]!.status).toBe(400);
    } finally {
      const r = await s.stop();
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/\[serve\] GET \/codex\/codex\/responses cx 101 \d+ms \d+B/);
      expect(r.stderr).toMatch(/\[serve\] GET \/codex\/codex\/elsewhere cx 400/); // the upstream's own refusal
    }
  });

  it("a refused WebSocket: the upstream's own status reaches the client (a 426 stays a 426, so the Codex CLI falls back at once), after one account, not all", async () => {
    w.codex('c1', { fields: { priority: 0 } });
    w.codex('c2', { fields: { priority: 1 } });
    w.sim.state.codexWebSocketRefusal = 426;
    const s = await startServe(w);
    const upgrade = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${s.url}/codex/codex/responses`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('error', reject);
        req.end();
      });
    try {
      const r = await upgrade();
      expect(r.status).toBe(426);
      expect(JSON.parse(r.body)).toEqual({ detail: 'Upgrade Required' });
      expect(w.sim.requestsTo(WS_PATH)).toHaveLength(1);
      // a 429 is about the account: the next one is tried
      w.sim.state.codexWebSocketRefusal = null;
      w.sim.fault(WS_PATH, { status: 429 });
      const before = w.sim.requestsTo(WS_PATH).length;
      const ws = await new Promise<string>((resolve, reject) => {
        const sock = new WebSocket(`${s.url.replace(/^http/, 'ws')}/codex/codex/responses`);
        sock.onopen = () => sock.send('second');
        sock.onmessage = (m) => (resolve(String(m.data)), sock.close());
        sock.onerror = () => reject(new Error('the WebSocket failed'));
      });
      expect(ws).toBe('echo: second');
      expect(w.sim.requestsTo(WS_PATH).slice(before).map((x) => x.status)).toEqual([429, 101]);
      // the refused account cools down, in its file as after an HTTP 429
      await until(() => (w.home.read('c1').cooldownUntil ?? 0) > Date.now(), 5000, 'the cooldown on disk');
    } finally {
      const r = await s.stop();
      expect(r.stderr).toMatch(/\[serve\] GET \/codex\/codex\/responses c1 426/);
    }
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal}: no new connections; the answer in flight is finished, the use is written, exit 0`, async () => {
      w.anthropic('a1', { fields: { lastUsedAt: null } });
      w.sim.fault(SIM_PATHS.messages, { status: 200, body: { type: 'message', content: [{ type: 'text', text: 'late' }] }, delayMs: 800 });
      const s = await startServe(w);
      const inFlight = fetch(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await until(() => w.sim.requestsTo(SIM_PATHS.messages).length === 1, 5000, 'the request upstream');
      s.child.kill(signal);
      await until(() => s.stderr().includes(`${signal}: no new requests`), 5000, 'serve to stop accepting');
      await expect(fetch(`${s.url}/health`)).rejects.toThrow();
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ content: [{ text: 'late' }] });
      const r = await s.done;
      expect(r.code).toBe(0);
      expect(w.home.read('a1').lastUsedAt).not.toBeNull();
    });
  }

  it('a client that goes away mid-stream: the upstream request is aborted at once', async () => {
    w.grok('g');
    w.sim.fault('/rest/app-chat/conversations/new', { trickleMs: 50 });
    const s = await startServe(w);
    try {
      const started = Date.now();
      await new Promise<void>((resolve) => {
        const req = request(`${s.url}/grok/rest/app-chat/conversations/new`, { method: 'POST' }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.end('{}');
      });
      const abortedAt = Date.now();
      await until(() => w.sim.requestsTo('/rest/app-chat/conversations/new')[0]?.closedAt !== undefined, 5000, 'the upstream close');
      const lag = w.sim.requestsTo('/rest/app-chat/conversations/new')[0]!.closedAt! - abortedAt;
      console.log(`upstream closed ${lag} ms after the client went away (stream ran ${abortedAt - started} ms)`);
      expect(lag).toBeLessThan(1000);
      // and one that leaves before any answer: the log says so, never 200
      w.sim.fault('/rest/app-chat/conversations/new', { delayMs: 2000, status: 404 });
      await new Promise<void>((resolve) => {
        const req = request(`${s.url}/grok/rest/app-chat/conversations/new`, { method: 'POST' });
        req.on('error', () => resolve());
        req.end('{}');
        setTimeout(() => (req.destroy(), resolve()), 300);
      });
    } finally {
      const r = await s.stop();
      expect(r.stderr).toMatch(/\[serve\] POST \/grok\/rest\/app-chat\/conversations\/new g 200 client gone mid-answer \d+ms \d+B/);
      expect(r.stderr).toMatch(/\[serve\] POST \/grok\/rest\/app-chat\/conversations\/new g client gone before the answer \d+ms 0B/);
    }
  });

  it('tick and serve on one home at once, with rotating tokens: no token reused, no update lost', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nrefresh_before_expiry: 10m\n'));
    const ids = ['r1', 'r2', 'r3'];
    for (const id of ids) w.anthropic(id, { expiresIn: 5 * MIN, fields: { lastUsedAt: null } });
    const s = await startServe(w);
    try {
      const sdk = new Anthropic({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
      const load = Promise.all(Array.from({ length: 12 }, (_, i) => sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-refresher-account': ids[i % 3]! } })));
      const ticks = Promise.all([runCli(w.args('tick')), runCli(w.args('tick'))]);
      await Promise.all([load, ticks]);
      expect(w.sim.state.refreshReuses).toBe(0);
      await until(() => ids.every((id) => w.home.read(id).lastUsedAt !== null), 5000, 'every use recorded');
      ids.forEach((id, i) => expect(w.home.read(id).credentials.refreshToken).toBe(w.sim.state.oauth[i]!.refreshToken));
    } finally {
      await s.stop();
    }
  });

  it('a request body over serve.max_body_mb gets 413 and nothing goes upstream', async () => {
    w.home.writeConfig(w.sim.configYaml('request_delay_ms: 0\nserve:\n  max_body_mb: 1\n'));
    w.anthropic('a1');
    const s = await startServe(w);
    try {
      const status = await new Promise<number>((resolve) => {
        const req = request(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', () => resolve(-1));
        req.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
      });
      expect(status).toBe(413);
      expect(w.sim.requestsTo(SIM_PATHS.messages)).toHaveLength(0);
    } finally {
      await s.stop();
    }
  });

  it('off loopback only with client keys, which clients must present and which are never forwarded or printed', async () => {
    w.anthropic('a1');
    const refused = await runCli(w.args('serve', '--host', '0.0.0.0', '--port', '0'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to listen on 0.0.0.0 without client keys');
    const keyFile = join(w.home.dir, 'keys');
    const key = 'client-key-0123456789abcdef';
    writeFileSync(keyFile, `# serve keys\n${key}\n`, { mode: 0o600 });
    w.secrets.push(key);
    const s = await startServe(w, ['--host', '127.0.0.1', '--api-key-file', keyFile]);
    try {
      expect((await get(`${s.url}/health`)).status).toBe(401);
      expect((await get(`${s.url}/health`, { 'x-api-key': key })).status).toBe(200);
      const sdk = new Anthropic({ baseURL: s.url, apiKey: key, maxRetries: 0 });
      await sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
      expect(w.sim.requestsTo(SIM_PATHS.messages)[0]!.headers['x-api-key']).toBeUndefined();
    } finally {
      await s.stop();
    }
  });
});
