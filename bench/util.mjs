import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../bin/refresher', import.meta.url).pathname;

// Node 20 reads NODE_EXTRA_CA_CERTS when it starts (Node 22+ only when TLS is first used): with the system's
// bundle that is ~80 ms more for every process, `node -e 0` included, and every ratio against it would look
// better than it is. cron runs refresher without it, so the benches' processes do too.
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  console.log('(NODE_EXTRA_CA_CERTS is set here; the processes measured run without it)');
  delete process.env.NODE_EXTRA_CA_CERTS;
}

/** Wall time of one process run, in ms. */
export function timeRun(args, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the commands interleaved, `rounds` times, so drift on the machine hits all of them alike. */
export function compare(commands, rounds) {
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const [k, c] of Object.entries(commands)) timeRun(c.args, c.env); // warm the page cache
  for (let i = 0; i < rounds; i++) for (const [k, c] of Object.entries(commands)) times[k].push(timeRun(c.args, c.env));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** A home with `n` accounts, none of them due now, whose accounts/ has been still for a minute. */
export function idleHome(n, { config = false } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'refresher-bench-'));
  mkdirSync(join(home, 'accounts'), { mode: 0o700 });
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const id = `acct-${String(i).padStart(5, '0')}`;
    const p = ['anthropic', 'codex', 'grok'][i % 3];
    const credentials =
      p === 'grok'
        ? { sso: `eyJ-sso-${i}-xxxxxxxxxxxxxxxx`, ssoRw: `eyJ-ssorw-${i}-xxxxxxxxxxxxxx` }
        : { accessToken: `sk-ant-oat01-${i}-xxxxxxxxxxxxxxxx`, refreshToken: `sk-ant-ort01-${i}-xxxxxxxxxxxxxx`, expiresAt: now + 6 * 3_600_000 };
    const doc = { version: 1, id, provider: p, credentials, rateLimitReset: now + 3_600_000, quota: { checkedAt: now }, lastUsedAt: now - 60_000 };
    writeFileSync(join(home, 'accounts', `${id}.json`), JSON.stringify(doc, null, 2), { mode: 0o600 });
  }
  // A pool left alone: its accounts/ last changed a minute ago, not this instant (an idle tick remembers a
  // directory only once it has been still for 5 s; see plan-cache.ts).
  const still = new Date(now - 60_000);
  utimesSync(join(home, 'accounts'), still, still);
  if (config) writeFileSync(join(home, 'config.yaml'), 'refresh_before_expiry: 15m\nconcurrency: 4\nproviders:\n  grok:\n    heavy_model: grok-4-heavy\n', { mode: 0o600 });
  return home;
}
