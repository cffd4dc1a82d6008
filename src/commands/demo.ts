import { writeOut } from '../log.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_OK } from '../errors.js';
import { Simulator } from '../sim/server.js';
import { AccountStore } from '../store/store.js';
import { status } from './status.js';
import { tick } from './tick.js';

/** The script that runs refresher (bin/refresher), by absolute path: it may not be on PATH yet. */
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/refresher');

/**
 * `refresher demo`: the simulator on 127.0.0.1:0, a temporary home with a few accounts (some due), then
 * status, a real tick (network, locks, files) and status again. Nothing outside the temp dir is touched.
 */
export async function demo(o: { keep?: boolean }): Promise<number> {
  const sim = new Simulator();
  await sim.start();
  const home = mkdtempSync(join(tmpdir(), 'refresher-demo-'));
  // `refresher demo | head -1`: a reader that left is not a failure, and the temporary home still goes
  const out = (s: string) => writeOut(s + '\n');
  try {
    writeFileSync(join(home, 'config.yaml'), sim.configYaml('request_delay_ms: 0\n'), { mode: 0o600 });
    const store = new AccountStore(home);
    const now = Date.now();
    const min = 60_000;
    const hour = 60 * min;
    const workMax = sim.state.addOAuth('anthropic', 'work@example.com', now);
    const teamPro = sim.state.addOAuth('anthropic', 'team@example.com', now);
    const codexPlus = sim.state.addOAuth('codex', 'dev@example.com', now);
    const grok1 = sim.state.addGrok(95, 18);
    const grok2 = sim.state.addGrok(140, 20);
    const oauth = (c: typeof workMax, expiresAt: number) => ({ accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt });
    const accounts = [
      // token expires in 5 minutes and the last usage window has reset: token, then window
      { id: 'work-max', provider: 'anthropic', label: 'Claude Max (work)', credentials: oauth(workMax, now + 5 * min), rateLimitReset: now - 20 * min, quota: { checkedAt: now - 2 * hour } },
      // everything fresh: nothing due
      { id: 'team-pro', provider: 'anthropic', credentials: oauth(teamPro, now + 6 * hour), rateLimitReset: now + 3 * hour, quota: { checkedAt: now - 10 * min } },
      // token already expired, no quota yet: token, then quota
      { id: 'codex-plus', provider: 'codex', credentials: { ...oauth(codexPlus, now - hour), idToken: codexPlus.idToken, accountId: codexPlus.account.accountId } },
      // last used 2 hours ago, quota checked before that: quota
      { id: 'grok-1', provider: 'grok', credentials: { sso: grok1.sso, ssoRw: grok1.ssoRw }, lastUsedAt: now - 2 * hour, quota: { checkedAt: now - 3 * hour, remainingQueries: 60, heavyRemainingQueries: 5 } },
      // paused: skipped
      { id: 'grok-2', provider: 'grok', credentials: { sso: grok2.sso, ssoRw: grok2.ssoRw }, paused: true },
    ];
    for (const a of accounts) await store.writeRaw(a.id, a);

    out(`refresher demo: simulator at ${sim.url}, temporary home ${home}\n`);
    out('== status before ==');
    await status({ home }, { color: false });
    out('\n== tick ==');
    const code = await tick({ home }, {});
    out('\n== status after ==');
    await status({ home }, { color: false });
    out(`\nThe tick sent ${sim.requests.length} requests to the simulator and exited ${code}.`);
    const me = `${process.execPath} ${SCRIPT}`;
    if (o.keep) {
      // The home stays, and so does the simulator its config points at, until Ctrl-C.
      out(`\nThe simulator keeps running; in another shell:\n`);
      out(`  export REFRESHER_HOME=${home}`);
      out(`  ${me} status`);
      out(`  ${me} tick --dry-run --now ${new Date(now + 6 * hour).toISOString()}`);
      out(`  ${me} account set grok-2 --paused off`);
      out(`  ${me} refresh team-pro`);
      out(`  ${me} account add codex --login --no-browser   # a login of your own, against the simulator: open the URL it prints`);
      out(`  ${me} account add anthropic --login          # the simulator's page shows CODE#STATE to paste back`);
      out(`\nCtrl-C stops the simulator (the home stays: rm -rf ${home}).`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop).once('SIGTERM', stop).once('SIGHUP', stop);
      });
      out('simulator stopped');
      return EXIT_OK;
    }
    out('\nNext steps, for real accounts:');
    out(`  ${me} account import                 # Claude Code and Codex CLI logins already on this machine`);
    out(`  ${me} account add anthropic --login  # or codex --login; grok: --name ID < cookies.txt`);
    out(`  ${me} schedule systemd --user        # or: schedule cron; prints the timer or crontab line`);
    out(`  ${me} status`);
    return EXIT_OK;
  } finally {
    await sim.stop();
    if (!o.keep) rmSync(home, { recursive: true, force: true });
  }
}
