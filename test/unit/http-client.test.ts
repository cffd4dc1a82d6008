import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../src/net/client.js';
import { outcomePatch } from '../../src/core/runner.js';
import type { Account } from '../../src/model/types.js';

const res = (headers: Record<string, string>) => ({ status: 429, headers, text: '' });

describe('retryAfterMs', () => {
  it('reads seconds, ms and HTTP dates', () => {
    expect(retryAfterMs(res({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(res({ 'retry-after-ms': '150' }))).toBe(150);
    expect(retryAfterMs(res({ 'retry-after': new Date(10_000).toUTCString() }), 4000)).toBe(6000);
    expect(retryAfterMs(res({}))).toBeNull();
    expect(retryAfterMs(res({ 'retry-after': 'soon' }))).toBeNull();
  });
});

describe('outcomePatch', () => {
  const a = { failedCount: 2 } as Account;
  it('success resets failures and marks the refresh', () => {
    expect(outcomePatch(a, { kind: 'ok', patch: { rateLimitReset: 5 }, message: '' }, 100)).toEqual({ rateLimitReset: 5, status: 'active', failedCount: 0, lastFailure: null, lastRefreshAt: 100 });
  });
  it('permanent failure expires the account without counting', () => {
    expect(outcomePatch(a, { kind: 'permanent', reason: 'r' }, 100)).toEqual({ status: 'expired', lastFailure: { at: 100, reason: 'r' } });
  });
  it('transient failure counts', () => {
    expect(outcomePatch(a, { kind: 'transient', reason: 'r' }, 100)).toEqual({ failedCount: 3, lastFailure: { at: 100, reason: 'r' } });
  });
  it('a network-path failure changes nothing', () => {
    expect(outcomePatch(a, { kind: 'network', reason: 'r' }, 100)).toBeNull();
  });
});
