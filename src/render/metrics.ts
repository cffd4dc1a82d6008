import type { Attention } from '../core/attention.js';
import type { Account } from '../model/types.js';
import { cooldown } from '../core/planner.js';
import type { Config } from '../config/types.js';

/**
 * `status --format prometheus`: the node_exporter textfile-collector format. One series per account and
 * fact, labelled by account and provider; never a secret. Pure: the caller reads the files.
 */
export interface LastTick {
  at: number;
  durationMs: number;
  exitCode: number;
}

const STATES = ['active', 'expired', 'paused', 'cooling_down', 'window_refused', 'tokens_in_recovery'] as const;

function stateOf(a: Account, cfg: Config): (typeof STATES)[number] {
  if (a.recovery) return 'tokens_in_recovery';
  if (a.status === 'expired') return 'expired';
  if (a.paused || !a.autoRefresh) return 'paused';
  if (cooldown(a, cfg)) return 'cooling_down';
  if (a.window) return 'window_refused';
  return 'active';
}

export function prometheusText(accounts: readonly Account[], cfg: Config, attention: readonly Attention[], brokenFiles: number, last: LastTick | null, notifications?: { pending: number; failed: number }): string {
  const families = new Map<string, { help: string; lines: string[] }>();
  const put = (name: string, help: string, labels: Record<string, string>, value: number | null | undefined) => {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    let f = families.get(name);
    if (!f) families.set(name, (f = { help, lines: [] }));
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    f.lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
  };
  const s = (ms: number | null | undefined) => (ms == null ? null : ms / 1000);
  const needs = new Set(attention.map((x) => x.account));
  for (const a of accounts) {
    const who = { account: a.id, provider: a.provider };
    const state = stateOf(a, cfg);
    for (const st of STATES) put('refresher_account_state', 'The state of the account: 1 for the state it is in.', { ...who, state: st }, st === state ? 1 : 0);
    put('refresher_needs_person', '1 while the account needs a person (see refresher status).', who, needs.has(a.id) ? 1 : 0);
    put('refresher_consecutive_failures', 'Failures in a row.', who, a.failedCount);
    put('refresher_last_success_timestamp_seconds', 'When an action last succeeded.', who, s(a.lastRefreshAt));
    put('refresher_window_reset_timestamp_seconds', 'When the current usage window resets.', who, s(a.rateLimitReset));
    if (a.provider !== 'grok') put('refresher_token_expiry_timestamp_seconds', 'When the access token expires.', who, s(a.credentials.expiresAt));
    const q = a.quota;
    if (!q) continue;
    const ratio = (window: string, v: number | null | undefined) => put('refresher_utilization_ratio', 'Used share of a usage window, 0 to 1.', { ...who, window }, v == null ? null : v / 100);
    if (a.provider === 'anthropic') {
      ratio('five_hour', q.fiveHour?.utilization);
      ratio('seven_day', q.sevenDay?.utilization);
      for (const [name, w] of Object.entries(q.windows ?? {})) ratio(name, w.utilization);
    } else if (a.provider === 'codex') {
      ratio('five_hour', (q.fiveHour ?? q.primary)?.usedPercent);
      ratio('weekly', (q.weekly ?? q.secondary)?.usedPercent);
    } else {
      put('refresher_remaining_queries', 'Queries left in the current window.', { ...who, model: 'normal' }, q.remainingQueries);
      put('refresher_remaining_queries', 'Queries left in the current window.', { ...who, model: 'heavy' }, q.heavyRemainingQueries);
    }
  }
  put('refresher_account_file_errors', 'Account files that cannot be read.', {}, brokenFiles);
  if (notifications) {
    put('refresher_notifications_pending', 'Notifications queued, not yet delivered.', {}, notifications.pending);
    put('refresher_notifications_failed', 'Queued notifications whose last delivery failed.', {}, notifications.failed);
  }
  if (last) {
    put('refresher_last_tick_timestamp_seconds', 'When the last tick ended.', {}, last.at / 1000);
    put('refresher_last_tick_duration_seconds', 'How long the last tick took.', {}, last.durationMs / 1000);
    put('refresher_last_tick_exit_code', 'The exit code of the last tick.', {}, last.exitCode);
  }
  let out = '';
  for (const [name, f] of families) out += `# HELP ${name} ${f.help}\n# TYPE ${name} gauge\n${f.lines.join('\n')}\n`;
  return out;
}
