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

export function statusHeader(all: boolean): string[] {
  const header = ['id', 'provider', 'state', 'token expires', 'window resets', 'quota', 'last used', 'failures', 'next due'];
  if (all) header.push('proxy', 'priority', 'other windows', 'last failure');
  return header;
}

/**
 * What the table needs of a row, with everything that does not depend on `now` worked out: the status cache keeps
 * this beside the row's JSON, so that a table over 10,000 remembered rows parses a fifth of the text. Cached and
 * fresh rows both go through tableSeed and seedCells, so they render the same.
 */
export type TableSeed = [
  id: string,
  provider: string,
  state: string,
  stateTone: Cell['tone'] | null,
  expiresAt: number | null,
  setupToken: boolean,
  /** the window was refused: how it was tried */
  windowRefused: string | null,
  rateLimitReset: number | null,
  quota: string,
  lastUsedAt: number | null,
  failedCount: number,
  skip: string | null,
  nextAt: number | null,
  nextReason: string | null,
  proxy: string,
  priority: number,
  otherWindows: string,
  lastFailure: string | null,
  attention: StatusRow['attention'],
];

export function tableSeed(r: StatusRow, maxFailures: number): TableSeed {
  const st = stateOf(r, maxFailures);
  return [
    r.id,
    r.provider,
    st.text,
    st.tone ?? null,
    r.expiresAt,
    r.setupToken,
    r.window ? r.window.method : null,
    r.rateLimitReset,
    quotaText(r),
    r.lastUsedAt,
    r.failedCount,
    r.skip,
    r.next ? r.next.at : null,
    r.next ? r.next.reason : null,
    r.proxy,
    r.priority,
    otherWindowsText(r),
    r.lastFailure?.reason ?? null,
    r.attention,
  ];
}

export const seedAttention = (s: TableSeed): StatusRow['attention'] => s[18];

function nextText(skip: string | null, at: number | null, reason: string | null, now: number): string {
  if (skip) return `- (${skip})`;
  if (at === null) return '-';
  return `${at <= now ? 'now' : relativeOnce(at, now)}: ${reason}`;
}

/**
 * relative(at, now) for a whole table: a span is formatted once per unit that formatSpan shows (seconds under a
 * minute, else minutes), since a pool's rows share most of them (10,000 rows, 40,000 times, a few hundred texts).
 */
let memoNow = NaN;
const memo = new Map<number, string>();
function relativeOnce(at: number, now: number): string {
  if (now !== memoNow) {
    memo.clear();
    memoNow = now;
  }
  const s = Math.floor(Math.abs(at - now) / 1000);
  // 1..60: seconds; 101 and up: minutes; negative: in the past
  const key = (at >= now ? 1 : -1) * (s < 60 ? s + 1 : 100 + Math.floor(s / 60));
  let text = memo.get(key);
  if (text === undefined) memo.set(key, (text = relative(at, now)));
  return text;
}

/** The cells' texts, for a table piped as plain columns (no tones: 90,000 cell objects over 10,000 rows spared). */
export function seedTexts(s: TableSeed, now: number, all: boolean): string[] {
  const [id, provider, state, , exp, setupToken, refused, reset, quota, lastUsed, failed, skip, nextAt, nextReason, proxy, priority, otherWindows, lastFailure] = s;
  const row = [
    id,
    provider,
    state,
    exp === null ? '-' : `${setupToken ? 'setup token, expires ' : ''}${relativeOnce(exp, now)}`,
    refused !== null ? `refused (${refused})` : reset === null ? '-' : relativeOnce(reset, now),
    quota,
    lastUsed === null ? '-' : relativeOnce(lastUsed, now),
    String(failed),
    nextText(skip, nextAt, nextReason, now),
  ];
  if (all) row.push(proxy, String(priority), otherWindows, lastFailure ?? '-');
  return row;
}

/** The same cells with their tones, for a terminal. */
export function seedCells(s: TableSeed, now: number, all: boolean): Cell[] {
  const [, , , stateTone, exp, , refused, , , , failed, skip] = s;
  const tones: Cell['tone'][] = [undefined, undefined, stateTone ?? undefined, exp !== null && exp <= now ? 'warn' : undefined, refused !== null ? 'bad' : undefined, undefined, undefined, failed ? 'warn' : undefined, skip ? 'dim' : undefined];
  return seedTexts(s, now, all).map((text, i) => ({ text, tone: tones[i] }));
}
