// Throughput of a busy tick: 1,000 due grok accounts (2,000 requests: normal and heavy) against the simulator
// with 50 ms latency per request, request_delay_ms 0, concurrency 16. Ideal: 2000 x 50 ms / 16 = 6.25 s.
// Goal (issue 20): wall time <= 1.1x the ideal. Also peak RSS of the tick process.
// With PROXY=socks5h://127.0.0.1:PORT (or any proxy URL), the same run goes through that proxy.
// `warmConfig`: a dry run first, as under cron, where the config file has not changed since the last tick and
// its parsed form is cached (the first tick after a change parses the YAML: ~40 ms).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulator } from '../dist/sim-entry.js';
import { BIN } from './util.mjs';

const N = Number(process.env.ACCOUNTS ?? 1000);
const LATENCY = 50;
const CONCURRENCY = 16;

export async function busyRun({ proxy = null, accounts = N, warmConfig = false } = {}) {
  const sim = new Simulator();
  sim.latencyMs = LATENCY;
  await sim.start();
  const home = mkdtempSync(join(tmpdir(), 'refresher-busy-'));
  try {
    mkdirSync(join(home, 'accounts'), { mode: 0o700 });
    const extra = `request_delay_ms: 0\nconcurrency: ${CONCURRENCY}\n${proxy ? `proxy_url: ${proxy}\n` : ''}`;
    writeFileSync(join(home, 'config.yaml'), sim.configYaml(extra), { mode: 0o600 });
    for (let i = 0; i < accounts; i++) {
      const g = sim.state.addGrok();
      const id = `grok-${String(i).padStart(4, '0')}`;
      const doc = { version: 1, id, provider: 'grok', credentials: { sso: g.sso, ssoRw: g.ssoRw }, quota: null };
      writeFileSync(join(home, 'accounts', `${id}.json`), JSON.stringify(doc), { mode: 0o600 });
    }
    if (warmConfig) spawnSync(process.execPath, [BIN, 'tick', '--dry-run', '--home', home], { stdio: 'ignore' });
    const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
    const args = [process.execPath, BIN, 'tick', '--json', '--home', home];
    const t0 = process.hrtime.bigint();
    const { code, stdout, stderr } = await new Promise((resolve) => {
      const child = timeBin ? spawn(timeBin, ['-f', 'MAXRSS_KB=%M', ...args]) : spawn(args[0], args.slice(1));
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const doc = JSON.parse(stdout);
    const ok = doc.actions.filter((a) => a.ok).length;
    const rss = /MAXRSS_KB=(\d+)/.exec(stderr)?.[1];
    return { code, wallMs, ok, requests: sim.requests.length, rssMb: rss ? Number(rss) / 1024 : null };
  } finally {
    await sim.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The measured baseline: a bare undici loop in a fresh process sending the same 2,000 requests with 16 in
 * flight against the same simulator: what the network part alone costs, with no files, locks or planning.
 */
export async function bareLoop(requests = 2 * N) {
  const sim = new Simulator();
  sim.latencyMs = LATENCY;
  await sim.start();
  const g = sim.state.addGrok();
  const script = `
    const { request, Agent } = require('undici');
    const d = new Agent({ keepAliveTimeout: 10000 });
    let left = ${requests};
    const one = async () => { while (left-- > 0) { const r = await request('${sim.url}/rest/rate-limits', { method: 'POST', dispatcher: d,
      headers: { 'content-type': 'application/json', cookie: 'sso=${g.sso}' }, body: '{"requestKind":"DEFAULT","modelName":"grok-3"}' }); await r.body.text(); } };
    Promise.all(Array.from({ length: ${CONCURRENCY} }, one)).then(() => d.close());`;
  const t0 = process.hrtime.bigint();
  await new Promise((resolve) => spawn(process.execPath, ['-e', script], { stdio: 'inherit', cwd: new URL('..', import.meta.url).pathname }).on('close', resolve));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await sim.stop();
  return ms;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ideal = ((2 * N * LATENCY) / CONCURRENCY) / 1000;
  const bare = await bareLoop();
  const r = await busyRun({ proxy: process.env.PROXY ?? null });
  console.log(`accounts ${N}, requests ${r.requests}, ok ${r.ok}, exit ${r.code}`);
  console.log(`bare undici loop, same requests: ${(bare / 1000).toFixed(2)} s (${(bare / 1000 / ideal).toFixed(2)}x the ideal ${ideal.toFixed(2)} s)`);
  console.log(`refresher tick: ${(r.wallMs / 1000).toFixed(2)} s = ${(r.wallMs / 1000 / ideal).toFixed(2)}x the ideal (goal <= 1.1x), ${(r.wallMs / bare).toFixed(2)}x the bare loop`);
  console.log(`peak RSS ${r.rssMb ? r.rssMb.toFixed(0) + ' MB' : 'unknown (/usr/bin/time missing)'}`);
  const warm = await busyRun({ proxy: process.env.PROXY ?? null, warmConfig: true });
  console.log(`refresher tick, config cache warm: ${(warm.wallMs / 1000).toFixed(2)} s = ${(warm.wallMs / 1000 / ideal).toFixed(2)}x the ideal, ${(warm.wallMs / bare).toFixed(2)}x the bare loop (ok ${warm.ok}, exit ${warm.code})`);
}
