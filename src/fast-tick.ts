import { cachedConfig } from './config/cached.js';
import { answerIdleTick } from './commands/tick-idle.js';
import { createLogger } from './log.js';
import { resolveHome } from './store/home.js';
import { AccountDir } from './store/account-dir.js';
import { parseNow } from './util/time.js';
import type { PlanState } from './store/plan-cache.js';

type IdleFlag = { refresherIdleChecked?: boolean; refresherPlanState?: PlanState };

/**
 * The cron hot path, as a bundle of its own: `refresher tick` with plain options, answered from the plan
 * cache when nothing is due, without loading the command-line parser or the rest of the program. Anything
 * else returns false and bin/refresher runs the full CLI, which reports errors its usual way. When the cache
 * was read and something is due, `globalThis.refresherIdleChecked` tells the full tick not to check again, and
 * `refresherPlanState` hands it what the cache still vouches for (see PlanState).
 */
export function tryFastTick(argv: string[]): boolean {
  const o: { home?: string; config?: string; now?: string; json?: boolean; dryRun?: boolean; quiet?: boolean } = {};
  let sawTick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === 'tick' && !sawTick) sawTick = true;
    else if (a === '--json' && sawTick) o.json = true;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--dry-run' && sawTick) o.dryRun = true;
    else if ((a === '--home' || a === '--config' || (a === '--now' && sawTick)) && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      o[a.slice(2) as 'home' | 'config' | 'now'] = argv[++i];
    } else return false;
  }
  // `--now` without `--dry-run` is a usage error: the full CLI says so.
  if (!sawTick || (o.now && !o.dryRun)) return false;
  try {
    const now = o.now ? parseNow(o.now) : Date.now();
    const log = createLogger({ json: o.json, quiet: o.quiet });
    const home = resolveHome(o.home);
    // a config that is not cached (or has a problem) is for the full CLI to load and report
    const cfg = cachedConfig(home, o.config);
    if (!cfg) return false;
    const answer = answerIdleTick(new AccountDir(home), cfg, now, log, o);
    if (answer === true) return true;
    (globalThis as IdleFlag).refresherIdleChecked = true;
    (globalThis as IdleFlag).refresherPlanState = answer ?? undefined;
    return false;
  } catch {
    return false;
  }
}
