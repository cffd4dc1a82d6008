import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Recorder } from '../../src/serve/recorder.js';
import { AccountStore } from '../../src/store/store.js';
import { TempHome } from '../support/home.js';

// What serve learns from answers reaches the file once per account per flush; the headers are read then, and
// an answer without rate-limit headers (or with fewer) never erases what an earlier answer said.
const account = { version: 1, id: 'a', provider: 'anthropic', credentials: { accessToken: 'sk-ant-oat01-aaaaaaaaaaaa', refreshToken: 'sk-ant-ort01-bbbbbbbbbbbb', expiresAt: 1 } };
const T = 1_800_000_000_000;
const full = (util5h: string, util7d: string) => ({
  'anthropic-ratelimit-unified-reset': String(T / 1000 + 3600),
  'anthropic-ratelimit-unified-5h-utilization': util5h,
  'anthropic-ratelimit-unified-5h-reset': String(T / 1000 + 3600),
  'anthropic-ratelimit-unified-7d-utilization': util7d,
  'anthropic-ratelimit-unified-7d-reset': String(T / 1000 + 86_400),
});

describe('serve recorder', () => {
  let home: TempHome;
  let store: AccountStore;
  let rec: Recorder;
  beforeEach(() => {
    home = new TempHome();
    home.writeAccount(account);
    store = new AccountStore(home.dir);
    rec = new Recorder(store, createLogger({ quiet: true }));
  });
  afterEach(() => home.cleanup());
  const read = () => {
    const r = store.read('a');
    if (!('account' in r)) throw new Error('unreadable');
    return r.account;
  };

  it('the newest answer wins; an answer without the headers erases nothing', async () => {
    rec.note('a', 'anthropic', { lastUsedAt: T, headers: full('0.1', '0.2') });
    rec.note('a', 'anthropic', { lastUsedAt: T + 10, headers: full('0.3', '0.4') });
    rec.note('a', 'anthropic', { lastUsedAt: T + 20, headers: { 'content-type': 'application/json' } });
    await rec.flushAll();
    const a = read();
    expect(a.lastUsedAt).toBe(T + 20);
    expect(a.rateLimitReset).toBe(T + 3_600_000);
    expect(a.quota?.fiveHour?.utilization).toBe(30);
    expect(a.quota?.sevenDay?.utilization).toBe(40);
  });

  it('an answer with fewer headers keeps the windows it does not name', async () => {
    rec.note('a', 'anthropic', { lastUsedAt: T, headers: full('0.1', '0.2') });
    rec.note('a', 'anthropic', { lastUsedAt: T + 10, headers: { 'anthropic-ratelimit-unified-5h-utilization': '0.5' } });
    await rec.flushAll();
    const a = read();
    expect(a.quota?.fiveHour?.utilization).toBe(50);
    expect(a.quota?.sevenDay?.utilization).toBe(20);
  });

  it('a cooldown is written with the use, and a later use in the same second never moves lastUsedAt back', async () => {
    rec.note('a', 'anthropic', { lastUsedAt: T + 50, headers: {}, cooldownUntil: T + 60_000 });
    rec.note('a', 'anthropic', { lastUsedAt: T + 40, headers: {} });
    await rec.flushAll();
    const a = read();
    expect(a.cooldownUntil).toBe(T + 60_000);
    expect(a.lastUsedAt).toBe(T + 50);
    expect(JSON.stringify(a.credentials)).toBe(JSON.stringify(account.credentials));
  });
});
