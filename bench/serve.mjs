// `refresher serve` against the floor of what a Node proxy can do here, in one run, with one load generator
// (autocannon). Each server runs in a process of its own: the simulator, a bare pass-through proxy
// (bench/bare-proxy.mjs: node:http in, an undici Pool out, bodies piped, one header added) and serve.
//   1. throughput and latency, non-streaming messages, 10 connections: directly, through the bare proxy,
//      through serve (goals: serve/bare throughput >= 0.8, p50 added <= 0.3 ms, p99 added <= 2 ms)
//   2. serve's RSS while it streams STREAM_MB (1024) of server-sent events to a slow reader, in a fresh process
//      and again warm (goal: <= 20 MB); the bare proxy's, and a bare proxy's with node:http as its client, as baselines
//   3. CLIENTS (1000) concurrent streaming clients, 10 % aborting mid-stream, ROUNDS (10) rounds: serve's open
//      file descriptors and RSS after each round (goal: no growth)
//   4. the translated route (Claude clients on codex accounts) beside plain forwarding, both streaming, on the same
//      simulator and serve: throughput and p50/p99 (goals: >= 0.7x the throughput, <= 0.5 ms p50 added), and
//      serve's RSS while 100 translated streams run at once
// DURATION=10 STREAM_MB=1024 CLIENTS=1000 ROUNDS=10 PARTS=1,2,3 node bench/serve.mjs   (FAST=1: part 2's reader is not slow;
// SERVE_NODE_FLAGS='--max-semi-space-size=1' and SERVE_ENV='MALLOC_ARENA_MAX=1' start serve with node flags or environment)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BIN } from './util.mjs';

const DURATION = Number(process.env.DURATION ?? 10);
const STREAM_MB = Number(process.env.STREAM_MB ?? 1024);
const CLIENTS = Number(process.env.CLIENTS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const PARTS = new Set((process.env.PARTS ?? '1,2,3,4').split(',').map(Number));
const children = [];
const homes = [];

/**
 * Starts a process and resolves with the first line it prints on stdout, or with what `re` matches in its log.
 * A log goes to a file, as under systemd or cron: a pipe read by this process would take CPU from the load
 * generator, and only for serve, which logs a line per request.
 */
function start(args, { env = {}, re = null, logFile = null } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', logFile ? openSync(logFile, 'w') : 'inherit'] });
    children.push(child);
    let out = '';
    const finish = (line) => {
      clearInterval(timer);
      resolve({ child, line });
    };
    const timer = setInterval(() => {
      const m = re && re.exec(readFileSync(logFile, 'utf8'));
      if (m) finish(m[1]);
    }, 20);
    child.stdout.on('data', (d) => {
      out += d;
      if (!re && out.includes('\n')) finish(out.slice(0, out.indexOf('\n')));
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${args.join(' ')} exited ${code}`));
    });
  });
}

async function serveOver(simInfo, { codex = false } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'refresher-bench-serve-'));
  mkdirSync(join(home, 'accounts'), { mode: 0o700 });
  writeFileSync(join(home, 'config.yaml'), simInfo.config + (codex ? 'serve:\n  codex_for_claude: fallback\n' : ''), { mode: 0o600 });
  const doc = { version: 1, id: 'bench', provider: 'anthropic', credentials: simInfo.credentials, rateLimitReset: Date.now() + 3_600_000, quota: { checkedAt: Date.now() } };
  writeFileSync(join(home, 'accounts', 'bench.json'), JSON.stringify(doc), { mode: 0o600 });
  if (codex) writeFileSync(join(home, 'accounts', 'bench-codex.json'), JSON.stringify({ version: 1, id: 'bench-codex', provider: 'codex', credentials: simInfo.codex, quota: { checkedAt: Date.now() } }), { mode: 0o600 });
  const s = await start([...(process.env.SERVE_NODE_FLAGS ? process.env.SERVE_NODE_FLAGS.split(' ') : []), BIN, 'serve', '--port', '0', '--home', home], { re: /listening on (http:\/\/\S+)/, logFile: join(home, 'serve.log'), env: process.env.SERVE_ENV ? Object.fromEntries(process.env.SERVE_ENV.split(' ').map((kv) => kv.split('='))) : {} });
  return { ...s, url: s.line, home };
}

const body = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });

/** Latency with microsecond resolution (autocannon's is whole milliseconds): one connection, one request at a time. */
async function latency(url, token, n = 3000, b = body) {
  const { Pool } = await import('undici');
  const pool = new Pool(url, { connections: 1 });
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await pool.request({ path: '/v1/messages', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: b });
    await r.body.dump();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await pool.close();
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)], p99: times[Math.floor(n * 0.99)] };
}

async function load(url, token, duration = DURATION, b = body) {
  const r = await autocannon({
    url: `${url}/v1/messages`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01' },
    body: b,
    connections: 10,
    duration,
  });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const fds = (pid) => readdirSync(`/proc/${pid}/fd`).length;

function stream(url, { slow = false, abortAfterFirst = false, b = body } = {}) {
  return new Promise((resolve) => {
    const req = request(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let bytes = 0;
      res.on('data', (d) => {
        bytes += d.length;
        if (abortAfterFirst) {
          req.destroy();
          resolve(bytes);
        } else if (slow) {
          // a slow reader: pause a millisecond for every chunk
          res.pause();
          setTimeout(() => res.resume(), 1);
        }
      });
      res.on('end', () => resolve(bytes));
      res.on('error', () => resolve(bytes));
    });
    req.on('error', () => resolve(0));
    req.end(b);
  });
}

try {
  // 1. throughput and latency
  if (PARTS.has(1)) {
  const sim = JSON.parse((await start(['bench/serve-sim.mjs'])).line);
  const bare = (await start(['bench/bare-proxy.mjs', sim.url])).line;
  const srv = await serveOver(sim);
  homes.push(srv.home);
  const token = sim.credentials.accessToken;
  for (const u of [sim.url, bare, srv.url]) await load(u, token, 2); // warm up
  // Alternating rounds, medians: this machine's noise hits all three alike.
  const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const runs = { direct: [], bare: [], serve: [] };
  for (let i = 0; i < 3; i++) {
    runs.direct.push(await load(sim.url, token));
    runs.bare.push(await load(bare, token));
    runs.serve.push(await load(srv.url, token));
  }
  const summary = async (k, url) => ({ rps: med(runs[k].map((x) => x.rps)), ...(await latency(url, token)) });
  const direct = await summary('direct', sim.url);
  const viaBare = await summary('bare', bare);
  const viaServe = await summary('serve', srv.url);
  const fmt = (x) => `${x.rps.toFixed(0).padStart(6)} req/s  p50 ${x.p50.toFixed(3)} ms  p99 ${x.p99.toFixed(3)} ms`;
  console.log(`non-streaming messages: throughput with 10 connections, median of 3 alternating runs of ${DURATION} s; latency one request at a time, 3,000 requests:`);
  console.log(`  direct to the simulator  ${fmt(direct)}`);
  console.log(`  bare pass-through proxy  ${fmt(viaBare)}`);
  console.log(`  refresher serve          ${fmt(viaServe)}`);
  console.log(`  serve/bare throughput ${(viaServe.rps / viaBare.rps).toFixed(2)} (goal >= 0.8); p50 added ${(viaServe.p50 - viaBare.p50).toFixed(3)} ms (goal <= 0.3); p99 added ${(viaServe.p99 - viaBare.p99).toFixed(3)} ms (goal <= 2)`);

  }
  // 2. one long stream to a slow reader
  if (PARTS.has(2)) {
  const big = JSON.parse((await start(['bench/serve-sim.mjs', String(STREAM_MB * 1024 * 1024)])).line);
  const s2 = await serveOver(big);
  homes.push(s2.home);
  const bare2 = await start(['bench/bare-proxy.mjs', big.url]);
  const bareHttp = await start(['bench/bare-proxy-http.mjs', big.url]);
  /**
   * RSS growth of the process behind `url` while one long stream goes through it to a slow reader: first in a
   * fresh process (after one short request), then again in the same process, its buffers and code now warm.
   */
  const growth = async (url, pid) => {
    await stream(url, { abortAfterFirst: true });
    const one = async () => {
      const before = rssMb(pid);
      let peak = before;
      const poll = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
      const t0 = Date.now();
      const got = await stream(url, { slow: !process.env.FAST });
      clearInterval(poll);
      return { mb: peak - before, size: got / 1024 / 1024, s: (Date.now() - t0) / 1000 };
    };
    return { fresh: await one(), warm: await one() };
  };
  const gs = await growth(s2.url, s2.child.pid);
  const gb = await growth(bare2.line, bare2.child.pid);
  const gh = await growth(bareHttp.line, bareHttp.child.pid);
  const mb = (g) => `${g.fresh.mb.toFixed(1)} MB fresh, ${g.warm.mb.toFixed(1)} MB warm`;
  console.log(`one stream of ${gs.fresh.size.toFixed(0)} MB to a slow reader (${gs.fresh.s.toFixed(1)} s), RSS growth (goal <= 20 MB):`);
  console.log(`  refresher serve                         ${mb(gs)}`);
  console.log(`  bare proxy (node:http in, undici out)   ${mb(gb)}`);
  console.log(`  bare proxy (node:http in and out)       ${mb(gh)}`);
  }
  // 3. many streams, some abandoned
  if (PARTS.has(3)) {
  const small = JSON.parse((await start(['bench/serve-sim.mjs', String(256 * 1024)])).line);
  const s3 = await serveOver(small);
  const rounds = [];
  for (let r = 1; r <= ROUNDS; r++) {
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => stream(s3.url, { abortAfterFirst: i % 10 === 0 })));
    await new Promise((res) => setTimeout(res, 300));
    rounds.push({ r, fds: fds(s3.child.pid), rss: rssMb(s3.child.pid) });
  }
  console.log(`${CLIENTS} concurrent streaming clients, 10 % aborting, ${ROUNDS} rounds: serve's open fds and RSS after each round:`);
  console.log('  ' + rounds.map((x) => `${x.r}: ${x.fds} fds ${x.rss.toFixed(0)} MB`).join(' | '));
  const second = rounds[1] ?? rounds[0];
  const last = rounds.at(-1);
  console.log(`  from round 2 to round ${ROUNDS}: ${last.fds - second.fds} fds, ${(last.rss - second.rss).toFixed(1)} MB (goal: no growth)`);
  rmSync(s3.home, { recursive: true, force: true });
  }
  // 4. the translated route beside plain forwarding
  if (PARTS.has(4)) {
  const sim = JSON.parse((await start(['bench/serve-sim.mjs'])).line);
  const srv = await serveOver(sim, { codex: true });
  homes.push(srv.home);
  const plainBody = JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const codexBody = JSON.stringify({ model: 'gpt-5.5', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  await load(srv.url, 'x', 2, plainBody);
  await load(srv.url, 'x', 2, codexBody);
  const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  // The simulator's two endpoints cost it differently (the Responses stream has twice the events, and every body is
  // checked against the backend's rules), so each route is also measured directly, without serve.
  const responsesBody = JSON.stringify({ model: 'gpt-5.5', instructions: '', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }], tools: [], tool_choice: 'auto', parallel_tool_calls: true, reasoning: { effort: 'medium', summary: 'auto' }, store: false, stream: true, include: ['reasoning.encrypted_content'] });
  const directCodex = async (duration) => {
    const r = await autocannon({ url: `${sim.url}/backend-api/codex/responses`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sim.codex.accessToken}`, 'chatgpt-account-id': sim.codex.accountId }, body: responsesBody, connections: 10, duration });
    if (r.non2xx || r.errors) throw new Error(`direct codex: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return { rps: r.requests.average };
  };
  const runs = { plain: [], codex: [], directPlain: [], directCodex: [] };
  for (let i = 0; i < 3; i++) {
    runs.directPlain.push(await load(sim.url, sim.credentials.accessToken, DURATION, plainBody));
    runs.plain.push(await load(srv.url, 'x', DURATION, plainBody));
    runs.directCodex.push(await directCodex(DURATION));
    runs.codex.push(await load(srv.url, 'x', DURATION, codexBody));
  }
  const plain = { rps: med(runs.plain.map((x) => x.rps)), ...(await latency(srv.url, 'x', 2000, plainBody)) };
  const codex = { rps: med(runs.codex.map((x) => x.rps)), ...(await latency(srv.url, 'x', 2000, codexBody)) };
  const dp = med(runs.directPlain.map((x) => x.rps));
  const dc = med(runs.directCodex.map((x) => x.rps));
  const fmt = (x) => `${x.rps.toFixed(0).padStart(6)} req/s  p50 ${x.p50.toFixed(3)} ms  p99 ${x.p99.toFixed(3)} ms`;
  console.log(`streaming messages through serve, one simulator: throughput with 10 connections, median of 3 alternating runs of ${DURATION} s; latency one at a time, 2,000 requests:`);
  console.log(`  plain forwarding (anthropic account)          ${fmt(plain)}   (the simulator directly: ${dp.toFixed(0)} req/s)`);
  console.log(`  translated (Messages -> Responses, codex)      ${fmt(codex)}   (the simulator directly: ${dc.toFixed(0)} req/s)`);
  console.log(`  translated/plain throughput ${(codex.rps / plain.rps).toFixed(2)} (goal >= 0.7); p50 added ${(codex.p50 - plain.p50).toFixed(3)} ms (goal <= 0.5); p99 added ${(codex.p99 - plain.p99).toFixed(3)} ms`);
  console.log(`  each against its own endpoint directly: plain ${(plain.rps / dp).toFixed(2)}, translated ${(codex.rps / dc).toFixed(2)}`);
  const slowSim = JSON.parse((await start(['bench/serve-sim.mjs'], { env: { CODEX_DELAY_MS: '100' } })).line);
  const s4 = await serveOver(slowSim, { codex: true });
  homes.push(s4.home);
  await stream(s4.url, { b: codexBody });
  const before = rssMb(s4.child.pid);
  let peak = before;
  const poll = setInterval(() => (peak = Math.max(peak, rssMb(s4.child.pid))), 50);
  const t0 = Date.now();
  const got = await Promise.all(Array.from({ length: 100 }, () => stream(s4.url, { b: codexBody })));
  clearInterval(poll);
  console.log(`100 translated streams at once (each about ${((Date.now() - t0) / 1000).toFixed(1)} s, ${got[0]} B): serve's RSS ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB (+${(peak - before).toFixed(1)} MB)`);
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  for (const h of homes) rmSync(h, { recursive: true, force: true });
}
