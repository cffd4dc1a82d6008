import type { Provider, Quota, UsageWindow } from '../model/types.js';
import { windowsByLength } from './codex.js';

/**
 * The one reader of the rate-limit headers that upstream answers carry, used by `tick`'s window action and by
 * `serve` after every response. Anthropic: the unified headers (utilization as a 0-1 fraction, stored 0-100
 * like the usage endpoint's). Codex: `x-codex-<primary|secondary>-*`, told apart by their window minutes, never
 * by the words primary and secondary.
 */
export interface HeaderUsage {
  /** when the current five-hour window resets (ms) */
  reset: number | null;
  /** the windows the headers describe, for the account's quota */
  quota: Pick<Quota, 'fiveHour' | 'sevenDay' | 'weekly' | 'windows'> | null;
}

type Headers = Record<string, string | string[] | undefined>;
const one = (h: Headers, k: string) => {
  const v = h[k];
  return Array.isArray(v) ? v[0] : v;
};
const num = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : Number.isFinite(Number(v)) ? Number(v) : null);
const sToMs = (v: string | undefined) => {
  const s = num(v);
  return s !== null && s > 0 ? s * 1000 : null;
};

/** Every header usageFromHeaders reads. */
export const limitKeys: readonly string[] = [
  'anthropic-ratelimit-unified-reset',
  ...['5h', '7d'].flatMap((w) => [`anthropic-ratelimit-unified-${w}-utilization`, `anthropic-ratelimit-unified-${w}-reset`]),
  ...['primary', 'secondary'].flatMap((w) => ['used-percent', 'window-minutes', 'reset-at', 'reset-after-seconds'].map((f) => `x-codex-${w}-${f}`)),
];

export function usageFromHeaders(provider: Provider, h: Headers, now = Date.now()): HeaderUsage {
  if (provider === 'anthropic') {
    const reset = sToMs(one(h, 'anthropic-ratelimit-unified-5h-reset')) ?? sToMs(one(h, 'anthropic-ratelimit-unified-reset'));
    const window = (name: '5h' | '7d'): UsageWindow | null => {
      const u = num(one(h, `anthropic-ratelimit-unified-${name}-utilization`));
      const r = sToMs(one(h, `anthropic-ratelimit-unified-${name}-reset`));
      return u === null && r === null ? null : { utilization: u === null ? null : Math.round(u * 10_000) / 100, resetsAt: r };
    };
    const fiveHour = window('5h');
    const sevenDay = window('7d');
    return { reset, quota: fiveHour || sevenDay ? { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}) } : null };
  }
  if (provider === 'codex') {
    const found: { minutes: number | null; window: UsageWindow }[] = [];
    for (const which of ['primary', 'secondary']) {
      const used = num(one(h, `x-codex-${which}-used-percent`));
      const minutes = num(one(h, `x-codex-${which}-window-minutes`));
      if (used === null && minutes === null) continue;
      const at = sToMs(one(h, `x-codex-${which}-reset-at`));
      const after = num(one(h, `x-codex-${which}-reset-after-seconds`));
      found.push({ minutes, window: { usedPercent: used, resetAt: at ?? (after !== null ? now + after * 1000 : null) } });
    }
    if (!found.length) return { reset: null, quota: null };
    const q = windowsByLength(found);
    return { reset: q.fiveHour?.resetAt ?? null, quota: q };
  }
  return { reset: null, quota: null };
}

/**
 * For a 429 or 529: when the account can be tried again (ms), from the reset the answer names, or null. The
 * reset that caused a cooldown bounds it: a cooldown never outlives it.
 */
export function retryAtFrom(provider: Provider, status: number, h: Headers, body: string, now: number): number | null {
  // The provider's own reset first, then retry-after: the first that names a future time wins.
  const candidates: (number | null)[] = [];
  if (provider === 'anthropic' && status === 429) candidates.push(sToMs(one(h, 'anthropic-ratelimit-unified-reset')));
  if (provider === 'codex') {
    for (const which of ['primary', 'secondary']) {
      if ((num(one(h, `x-codex-${which}-used-percent`)) ?? 0) >= 100) candidates.push(sToMs(one(h, `x-codex-${which}-reset-at`)));
    }
    try {
      const e = JSON.parse(body)?.error;
      if (e?.type === 'usage_limit_reached') candidates.push(typeof e.resets_at === 'number' ? e.resets_at * 1000 : typeof e.resets_in_seconds === 'number' ? now + e.resets_in_seconds * 1000 : null);
    } catch {
      /* not JSON */
    }
  }
  const ra = one(h, 'retry-after');
  if (ra !== undefined) {
    const s = num(ra);
    candidates.push(s !== null ? now + s * 1000 : Number.isNaN(Date.parse(ra)) ? null : Date.parse(ra));
  }
  return candidates.find((c): c is number => c !== null && c > now) ?? null;
}
