// The crash window: `kill -9` a tick at a random moment while it refreshes, and count the account states
// lost. Each trial: ACCOUNTS (10) anthropic accounts due for a refresh, a tick killed after a random delay
// within the refresh phase of a normal run, then a plain tick (which adopts what killed writes left behind).
// An account is lost when its file holds a refresh token the simulator no longer accepts.
//   lost at the kill: what the crash window costs without adopting leftovers (refresher before 0.2)
//   recovered:        of those, adopted from the complete temp file of the killed write by the next tick
//   lost:             still lost after that tick
// TRIALS=200 node bench/crash.mjs
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulator } from '../dist/sim-entry.js';
import { BIN as OUR_BIN } from './util.mjs';

// REFRESHER_BIN=/path/to/another/build/bin/refresher measures that build against the same simulator.
const BIN = process.env.REFRESHER_BIN ?? OUR_BIN;

const TRIALS = Number(process.env.TRIALS ?? 100);
const ACCOUNTS = Number(process.env.ACCOUNTS ?? 10);

const sim = new Simulator();
sim.latencyMs = 5;
await sim.start();
const home = mkdtempSync(join(tmpdir(), 'refresher-crash-'));
mkdirSync(join(home, 'accounts'), { mode: 0o700 });
writeFileSync(join(home, 'config.yaml'), sim.configYaml('request_delay_ms: 0\nconcurrency: 4\n'), { mode: 0o600 });
const ids = Array.from({ length: ACCOUNTS }, (_, i) => `a${i}`);
const sims = new Map();

function freshAccounts() {
  for (const id of ids) {
    const c = sim.state.addOAuth('anthropic', `${id}-${Math.random()}@example.com`, Date.now());
    sims.set(id, c.account);
    const doc = { version: 1, id, provider: 'anthropic', credentials: { accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: Date.now() + 60_000 }, rateLimitReset: Date.now() + 3_600_000, quota: { checkedAt: Date.now() } };
    writeFileSync(join(home, 'accounts', `${id}.json`), JSON.stringify(doc, null, 2), { mode: 0o600 });
  }
}
const fileToken = (id) => JSON.parse(readFileSync(join(home, 'accounts', `${id}.json`), 'utf8')).credentials.refreshToken;
const lostNow = () => ids.filter((id) => fileToken(id) !== sims.get(id).refreshToken);
// Never spawnSync: the simulator answers from this process's event loop.
function tick(killAfterMs = null) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'tick', '--home', home], { stdio: 'ignore' });
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', () => {
      if (timer) clearTimeout(timer);
      resolve();
    });
  });
}

// The kills are spread evenly over the refresh phase of a normal run: from its first request to its exit
// (start-up differs between builds; the phase that matters is the one in which tokens rotate).
const firsts = [];
const durations = [];
for (let i = 0; i < 5; i++) {
  freshAccounts();
  sim.requests.length = 0;
  const t = Date.now();
  await tick();
  durations.push(Date.now() - t);
  firsts.push(sim.requests[0].at - t);
}
const mid = (xs) => xs.sort((a, b) => a - b)[2];
const runMs = mid(durations);
const firstMs = mid(firsts);

let atKill = 0;
let recovered = 0;
let lost = 0;
let leftovers = 0;
for (let t = 0; t < TRIALS; t++) {
  // A build whose locks outlive a killed owner (by 10 s before 0.2) would skip the next trial's accounts.
  rmSync(join(home, 'locks'), { recursive: true, force: true });
  freshAccounts();
  await tick(Math.round(firstMs + (runMs - firstMs) * Math.random()));
  const before = lostNow();
  const tmps = readdirSync(join(home, 'accounts')).filter((n) => n.endsWith('.tmp'));
  leftovers += tmps.length;
  rmSync(join(home, 'locks'), { recursive: true, force: true });
  await tick();
  const after = lostNow();
  atKill += before.length;
  lost += after.length;
  recovered += before.filter((id) => !after.includes(id)).length;
  // A build that leaves temp files behind would count them again in the next trial.
  for (const n of tmps) rmSync(join(home, 'accounts', n), { force: true });
}
await sim.stop();
rmSync(home, { recursive: true, force: true });
const states = TRIALS * ACCOUNTS;
console.log(`crash window: ${TRIALS} trials x ${ACCOUNTS} accounts = ${states} account states; kills spread evenly over the refresh phase (${firstMs}-${runMs} ms after start)`);
console.log(`  lost at the kill (no leftover adoption): ${atKill} (${((atKill / states) * 100).toFixed(2)}%)`);
console.log(`  temp files left by killed writes:        ${leftovers}`);
console.log(`  recovered by the next tick:              ${recovered}`);
console.log(`  lost after the next tick:                ${lost} (${((lost / states) * 100).toFixed(2)}%)`);
