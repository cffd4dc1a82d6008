import { usageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `2d`, or a plain number of seconds. Returns ms, or null when it does not parse. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

/** `--now`: ISO 8601 or epoch ms. */
export function parseNow(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw usageError(`--now: cannot read "${value}"; use ISO 8601 (2026-11-23T09:00:00Z) or epoch ms`);
  return ms;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

/** A compact signed duration: `4h12m`, `9m`, `45s`. */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms);
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** `in 4h12m` or `9m ago`, relative to now. */
export function relative(at: number, now: number): string {
  return at >= now ? `in ${formatSpan(at - now)}` : `${formatSpan(now - at)} ago`;
}
