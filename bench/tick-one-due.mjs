// A pool where one account is due: 1,000 and 10,000 account files (none due, as in scale.mjs) plus one grok
// account whose quota is unknown, against the simulator. Each round edits that file in place (quota: null again),
// so that every tick has exactly it to do: two requests. Measured beside `node -e 0` in the same run, and beside
// the same tick with the plan cache removed first (the whole pool read and planned, as before issue 20's partial
// tick). Each tick must work exactly that one account: anything else fails the bench.
// request_delay_ms 0: the tick's own cost, not the politeness delay between the two requests.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Simulator } from '../dist/sim-entry.js';
import { BIN, idleHome, median } from './util.mjs';

const rounds = Number(process.env.ROUNDS ?? 9);

/** Wall time of one process, spawned without blocking this process's event loop (the simulator runs in it). */
function timeRun(args) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      code === 0 ? resolve({ ms, out }) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

const sim = new Simulator();
await sim.start();
try {
  for (const n of [1000, 10_000]) {
    const home = idleHome(n);
    try {
      writeFileSync(join(home, 'config.yaml'), sim.configYaml('request_delay_ms: 0\n'), { mode: 0o600 });
      const g = sim.state.addGrok();
      const due = join(home, 'accounts', 'due-grok.json');
      const makeDue = () => writeFileSync(due, JSON.stringify({ version: 1, id: 'due-grok', provider: 'grok', credentials: { sso: g.sso, ssoRw: g.ssoRw }, quota: null }), { mode: 0o600 });
      const tick = [BIN, 'tick', '--json', '--home', home];
      const worked = async (removeCache) => {
        makeDue();
        if (removeCache) rmSync(join(home, 'cache', 'plan.json'), { force: true });
        const before = sim.requests.length;
        const r = await timeRun(tick);
        const actions = JSON.parse(r.out).actions.map((a) => `${a.account}:${a.action}:${a.ok}`);
        if (actions.join() !== 'due-grok:quota:true' || sim.requests.length - before !== 2) throw new Error(`a tick worked ${actions.join() || 'nothing'} with ${sim.requests.length - before} requests, not due-grok's quota with 2`);
        return r.ms;
      };
      await worked(true); // the first tick over this pool: fills the plan cache
      const t = { baseline: [], partial: [], full: [] };
      for (let i = 0; i < rounds; i++) {
        t.baseline.push((await timeRun(['-e', '0'])).ms);
        t.partial.push(await worked(false));
        t.full.push(await worked(true));
      }
      const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
      const pad = String(n).padStart(6);
      console.log(`${pad} accounts  node -e 0                       ${m.baseline.toFixed(1).padStart(7)} ms`);
      console.log(`${pad} accounts  tick, one due                   ${m.partial.toFixed(1).padStart(7)} ms  ${(m.partial / m.baseline).toFixed(2)}x node -e 0`);
      console.log(`${pad} accounts  tick, one due, plan cache gone  ${m.full.toFixed(1).padStart(7)} ms  ${(m.full / m.baseline).toFixed(2)}x node -e 0  (${(m.full / m.partial).toFixed(2)}x the tick with it)`);
      // the plan cache the last tick left: the pool's files, the worked one among them
      const plan = JSON.parse(readFileSync(join(home, 'cache', 'plan.json'), 'utf8'));
      if (plan.files.split('\n').length !== n + 1) throw new Error(`the plan cache names ${plan.files.split('\n').length} files, not ${n + 1}`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
} finally {
  await sim.stop();
}
