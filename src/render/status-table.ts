import type { Quota } from '../model/types.js';
import { formatSpan, relative } from '../util/time.js';
import type { Cell } from './table.js';
import type { StatusRow } from './views.js';

/**
 * `status` as a table: cells made from the same rows `status --json` prints (so that rows remembered by the status
 * cache render exactly as fresh ones).
 */
function quotaText(r: StatusRow): string {
  const q: Quota | null = r.quota;
  if (!q || q.checkedAt === null) return '-';
  const pct = (v: number | null | undefined) => (v == null ? '?' : `${Math.round(v)}%`);
  if (r.provider !== 'grok' && !q.fiveHour && !q.sevenDay && !q.weekly && !q.primary && !q.secondary) return '-';
  const count = (left: number | null | undefined, total: number | null | undefined) => `${left ?? '?'}${total != null ? `/${total}` : ''}`;
  switch (r.provider) {
    case 'grok': {
      const per = q.windowSizeSeconds ? ` per ${formatSpan(q.windowSizeSeconds * 1000)}` : '';
      return `normal ${count(q.remainingQueries, q.totalQueries)}, heavy ${count(q.heavyRemainingQueries, q.heavyTotalQueries)}${per}`;
    }
    case 'anthropic':
      return `5h ${pct(q.fiveHour?.utilization)}, 7d ${pct(q.sevenDay?.utilization)}`;
    case 'codex':
      // Files written before windows were named by their length hold primary/secondary.
      return `5h ${pct((q.fiveHour ?? q.primary)?.usedPercent)}, wk ${pct((q.weekly ?? q.secondary)?.usedPercent)}`;
  }
}

/** Every other window the service reported (anthropic by name, codex by minutes), for `status --all`. */
function otherWindowsText(r: StatusRow): string {
  const w = r.quota?.windows;
  if (!w) return '-';
  const pct = (v: number | null | undefined) => (v == null ? '?' : `${Math.round(v)}%`);
  return Object.entries(w)
    .map(([name, x]) => `${name} ${pct(x.utilization ?? x.usedPercent)}`)
    .join(', ');
}

function stateOf(r: StatusRow, max: number): { text: string; tone: Cell['tone'] } {
  if (r.recovery) return { text: 'tokens in recovery', tone: 'bad' };
  if (r.status === 'expired') return { text: 'expired', tone: 'bad' };
  if (r.paused) return { text: 'paused', tone: 'dim' };
  // past max_failures the count is not a fraction of anything: say how many in a row
  if (r.failedCount >= max) return { text: `cooling down (${r.failedCount} failures in a row)`, tone: 'bad' };
  if (r.failedCount > 0) return { text: `failing ${r.failedCount}/${max}`, tone: 'warn' };
  return { text: 'active', tone: 'good' };
}

function nextText(r: StatusRow, now: number): string {
  if (r.skip) return `- (${r.skip})`;
  if (!r.next) return '-';
  const when = r.next.at <= now ? 'now' : relative(r.next.at, now);
  return `${when}: ${r.next.reason}`;
}

export function statusHeader(all: boolean): string[] {
  const header = ['id', 'provider', 'state', 'token expires', 'window resets', 'quota', 'last used', 'failures', 'next due'];
  if (all) header.push('proxy', 'priority', 'other windows', 'last failure');
  return header;
}

export function statusCells(r: StatusRow, now: number, maxFailures: number, all: boolean): Cell[] {
  const st = stateOf(r, maxFailures);
  const exp = r.expiresAt;
  const row: Cell[] = [
    { text: r.id },
    { text: r.provider },
    { text: st.text, tone: st.tone },
    { text: exp === null ? '-' : `${r.setupToken ? 'setup token, expires ' : ''}${relative(exp, now)}`, tone: exp !== null && exp <= now ? 'warn' : undefined },
    { text: r.window ? `refused (${r.window.method})` : r.rateLimitReset === null ? '-' : relative(r.rateLimitReset, now), tone: r.window ? 'bad' : undefined },
    { text: quotaText(r) },
    { text: r.lastUsedAt === null ? '-' : relative(r.lastUsedAt, now) },
    { text: String(r.failedCount), tone: r.failedCount ? 'warn' : undefined },
    { text: nextText(r, now), tone: r.skip ? 'dim' : undefined },
  ];
  if (all) row.push({ text: r.proxy }, { text: String(r.priority) }, { text: otherWindowsText(r) }, { text: r.lastFailure?.reason ?? '-' });
  return row;
}
