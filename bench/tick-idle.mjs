// Idle cost of the cron path: `refresher tick` over 1,000 accounts of which none is due, against `node -e 0`
// measured in the same run. Goal: <= 1.5x without a config file, <= 2x with one. Also `status --json` over
// 10,000 accounts (goal: under 1 s), and `refresher --help` (goal: <= 2x).
import { rmSync } from 'node:fs';
import { BIN, compare, idleHome, timeRun, median } from './util.mjs';

const rounds = Number(process.env.ROUNDS ?? 21);
const plain = idleHome(1000);
const withConfig = idleHome(1000, { config: true });
try {
  const t = compare(
    {
      baseline: { args: ['-e', '0'] },
      tick: { args: [BIN, 'tick', '--home', plain] },
      tickConfig: { args: [BIN, 'tick', '--home', withConfig] },
      help: { args: [BIN, '--help'] },
    },
    rounds,
  );
  console.log(`node -e 0                          ${t.baseline.toFixed(1)} ms`);
  console.log(`tick, 1000 idle accounts           ${t.tick.toFixed(1)} ms  ratio ${(t.tick / t.baseline).toFixed(2)}x (goal <= 1.5x)`);
  console.log(`tick, 1000 idle accounts + config  ${t.tickConfig.toFixed(1)} ms  ratio ${(t.tickConfig / t.baseline).toFixed(2)}x (goal <= 2x)`);
  console.log(`refresher --help                   ${t.help.toFixed(1)} ms  ratio ${(t.help / t.baseline).toFixed(2)}x (goal <= 2x)`);
} finally {
  rmSync(plain, { recursive: true, force: true });
  rmSync(withConfig, { recursive: true, force: true });
}

const big = idleHome(10_000);
try {
  const base = median(Array.from({ length: 5 }, () => timeRun(['-e', '0'])));
  const runs = Array.from({ length: 5 }, () => timeRun([BIN, 'status', '--json', '--home', big]));
  console.log(`status --json, 10000 accounts      ${median(runs).toFixed(1)} ms (goal < 1000 ms), ${(median(runs) / base).toFixed(1)}x node -e 0`);
} finally {
  rmSync(big, { recursive: true, force: true });
}
