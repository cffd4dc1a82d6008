// Scale: the same commands over 1,000 and 10,000 account files (a third of each provider, none due), each as a
// whole process, beside `node -e 0` measured in the same run. Prints each figure as a ratio against that
// baseline, with the CPU time and peak memory of the command (from the process itself, via usage-preload.cjs).
// Also two floors under any idle tick that notices an in-place edit, which must stat every file: a bare Node
// script that lists accounts/ and stats each file with the public API, and the bare stat loop, which knows the
// names already (as the plan cache does) and only calls the same fs binding refresher's tick calls, once a file.
// No Node process that stats each file can start and finish faster than the bare stat loop. Goals (issue 20): idle tick <= 1.25x at 1,000 and <= 1.5x at 10,000; status --json <= 300 ms and <= 100 MB and
// status (table) <= 250 ms at 10,000.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, compare, idleHome, median } from './util.mjs';

const PRELOAD = new URL('./usage-preload.cjs', import.meta.url).pathname;
const rounds = Number(process.env.ROUNDS ?? 9);

/** CPU time and peak memory of one run: the medians over `n` runs. */
function usage(args, n = 5) {
  const runs = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync(process.execPath, ['-r', PRELOAD, ...args], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    runs.push(JSON.parse(String(r.output[3]).trim().split('\n').pop()));
  }
  return { cpuMs: median(runs.map((r) => r.userMs + r.systemMs)), rssMb: median(runs.map((r) => r.maxRssMb)) };
}

for (const n of [1000, 10_000]) {
  const home = idleHome(n);
  try {
    // The floor under any idle tick that checks every file: a bare script that lists accounts/ and stats each
    // file by name, nothing else (no cache, no output). What the tick costs above it is refresher's own.
    const floor = `const fs=require('fs');process.chdir(${JSON.stringify(join(home, 'accounts'))});for(const n of fs.readdirSync('.'))fs.statSync(n)`;
    // the names made as the tick slices them from the plan cache's string; `--no-deprecation`: process.binding
    const bare = `process.chdir(${JSON.stringify(join(home, 'accounts'))});const b=process.binding('fs');for(let i=0;i<${n};i++)b.stat('acct-'+String(i).padStart(5,'0')+'.json',false,undefined,false)`;
    const cmds = {
      baseline: { args: ['-e', '0'] },
      floor: { args: ['-e', floor] },
      bare: { args: ['--no-deprecation', '-e', bare] },
      tick: { args: [BIN, 'tick', '--home', home] },
      statusJson: { args: [BIN, 'status', '--json', '--home', home] },
      statusTable: { args: [BIN, 'status', '--home', home] },
    };
    const t = compare(cmds, rounds);
    const line = (name, k) => {
      const u = usage(cmds[k].args);
      console.log(`${String(n).padStart(6)} accounts  ${name.padEnd(16)} ${t[k].toFixed(1).padStart(7)} ms  ${(t[k] / t.baseline).toFixed(2)}x node -e 0  cpu ${u.cpuMs.toFixed(0)} ms  peak ${u.rssMb.toFixed(0)} MB`);
    };
    console.log(`${String(n).padStart(6)} accounts  node -e 0        ${t.baseline.toFixed(1).padStart(7)} ms`);
    line('stat floor', 'floor');
    line('bare stat loop', 'bare');
    line('idle tick', 'tick');
    console.log(`${String(n).padStart(6)} accounts  idle tick        ${(t.tick / t.floor).toFixed(2)}x the stat floor, ${(t.tick / t.bare).toFixed(2)}x the bare stat loop`);
    line('status --json', 'statusJson');
    line('status (table)', 'statusTable');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
