import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIM_PATHS } from '../../src/sim/server.js';
import { expectNoCanary } from '../support/canary.js';
import { MIN, startServe, World } from '../support/fixtures.js';
import { makeUnwritable, sleep, until } from '../support/hostile.js';
import { fallbackOutboxDir } from '../../src/store/outbox.js';
import { CODEX_RESPONSES_PATH } from '../../src/sim/codex-responses.js';
import { Receiver } from '../support/receiver.js';

const INVALID_GRANT = { status: 400, body: { error: 'invalid_grant', error_description: 'Refresh token not found or invalid' } };

/** Notifications end to end: real ticks, a real HTTP receiver per webhook format, a command that writes a file. */
describe('notifications', () => {
  let w: World;
  let rx: Receiver;
  let outFile: string;
  beforeEach(async () => {
    rx = await new Receiver().start();
    w = new World();
    outFile = join(w.home.dir, '..', `notify-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  });
  afterEach(async () => {
    // the canary check covers every message sent, not only the output
    for (const g of rx.got) expectNoCanary(g.body);
    if (existsSync(outFile)) expectNoCanary(readFileSync(outFile, 'utf8'));
    await rx.stop();
    await w.stop();
  });
  const channels = (extra = '') =>
    [
      'notify:',
      `  - webhook: ${rx.url}/ntfy/my-topic-secret`,
      '    format: text',
      `  - webhook: ${rx.url}/json`,
      '    format: json',
      `  - webhook: ${rx.url}/services/T0/B0/slack-secret`,
      '    format: slack',
      `  - webhook: ${rx.url}/api/webhooks/1/discord-secret`,
      '    format: discord',
      `  - command: [/bin/sh, -c, 'cat >> ${outFile}; printf "%s\\n" "$REFRESHER_EVENT" >> ${outFile}.events', 'refresher on %h']`,
      extra,
    ].join('\n');
  const commandMessages = () => (existsSync(outFile) ? readFileSync(outFile, 'utf8').trim().split('\n').filter(Boolean) : []);
  const events = () => (existsSync(`${outFile}.events`) ? readFileSync(`${outFile}.events`, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : []);

  it('an account that fails with invalid_grant: one message per channel across three ticks, in each format; a recovery one more; remind_every a reminder', async () => {
    await w.start(`request_delay_ms: 0\nremind_every: 3s\n${channels()}\n`);
    w.anthropic('a1', { expiresIn: 5 * MIN, fields: { rateLimitReset: null } });
    w.sim.fault(SIM_PATHS.anthropicToken, INVALID_GRANT);
    const t1 = await w.tick();
    expect(t1.code).toBe(1);
    expect(t1.doc.attention).toMatchObject([{ account: 'a1', kind: 'expired' }]); // after the run, not before
    for (const t of [await w.tick(), await w.tick()]) expect(t.code).toBe(0);
    for (const path of ['/ntfy/my-topic-secret', '/json', '/services/T0/B0/slack-secret', '/api/webhooks/1/discord-secret']) expect(rx.to(path)).toHaveLength(1);
    const host = hostname();
    const text = rx.to('/ntfy/my-topic-secret')[0]!;
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.headers.title).toBe(`refresher on ${host}`);
    expect(text.headers['user-agent']).toMatch(/^refresher\//);
    expect(text.body).toMatch(new RegExp(`^refresher on ${host}: account a1 \\(anthropic\\) needs a person: expired \\(.*invalid_grant.*\\)\\.\\nTo fix it, run: refresher account add anthropic --login --name a1 --force$`, 's'));
    expect(JSON.parse(rx.to('/json')[0]!.body)).toMatchObject({ kind: 'needs-person', host, account: 'a1', provider: 'anthropic', fix: 'refresher account add anthropic --login --name a1 --force', message: text.body });
    expect(JSON.parse(rx.to('/services/T0/B0/slack-secret')[0]!.body)).toEqual({ text: text.body });
    expect(JSON.parse(rx.to('/api/webhooks/1/discord-secret')[0]!.body)).toMatchObject({ content: text.body });
    expect(commandMessages()).toHaveLength(2); // the message's two lines
    expect(events()).toMatchObject([{ kind: 'needs-person', account: 'a1' }]);
    // still true after remind_every: a reminder, once
    await sleep(3100);
    await w.tick();
    await w.tick();
    expect(rx.to('/json').map((g) => JSON.parse(g.body).kind)).toEqual(['needs-person', 'reminder']);
    // a new login: recovered, once
    w.anthropic('a1');
    await w.tick();
    await w.tick();
    expect(rx.to('/json').map((g) => JSON.parse(g.body).kind)).toEqual(['needs-person', 'reminder', 'recovered']);
    expect(rx.to('/ntfy/my-topic-secret').at(-1)!.body).toContain('account a1 (anthropic) is fine again');
    expect(events().map((e) => e.kind)).toEqual(['needs-person', 'reminder', 'recovered']);
    expectNoCanary(readFileSync(`${outFile}.events`, 'utf8'));
  });

  it('a receiver down for two ticks: both exit 1 and say why (the URL without its secret); the message arrives once, on the third', async () => {
    await w.start(`request_delay_ms: 0\nnotify:\n  - webhook: ${rx.url}/ntfy/topic-secret-123\n`);
    w.anthropic('a1', { expiresIn: 5 * MIN, fields: { rateLimitReset: null } });
    w.sim.fault(SIM_PATHS.anthropicToken, INVALID_GRANT);
    rx.status = 503;
    const t1 = await w.tick();
    const t2 = await w.tick();
    for (const t of [t1, t2]) {
      expect(t.code).toBe(1);
      expect(t.stderr).toMatch(/\[notify\] text webhook http:\/\/127\.0\.0\.1:\d+\/…: HTTP 503; the message is kept and tried again by the next run/);
      expect(t.stderr).not.toContain('topic-secret-123');
    }
    const prom = await w.run(['status', '--format', 'prometheus']);
    expect(prom.stdout).toContain('refresher_notifications_pending 1\n');
    expect(prom.stdout).toContain('refresher_notifications_failed 1\n');
    rx.status = 200;
    const t3 = await w.tick();
    expect(t3.code).toBe(0);
    expect(rx.got).toHaveLength(1);
    expect(rx.got[0]!.body).toContain('account a1 (anthropic) needs a person');
    await w.tick();
    expect(rx.got).toHaveLength(1);
    expect(readdirSync(join(w.home.dir, 'notify', 'queue')).filter((n) => n.endsWith('.json'))).toEqual([]);
  });

  it('a receiver that hangs: the tick ends within timeout_ms and a margin, and one slow channel does not hold the others', async () => {
    const fast = await new Receiver().start();
    try {
      await w.start(`request_delay_ms: 0\ntimeout_ms: 1500\nnotify:\n  - webhook: ${rx.url}/hang\n  - webhook: ${fast.url}/fast\n`);
      w.anthropic('a1', { expiresIn: 5 * MIN, fields: { rateLimitReset: null } });
      w.sim.fault(SIM_PATHS.anthropicToken, INVALID_GRANT);
      rx.hang = true;
      const t = await w.tick();
      expect(t.code).toBe(1);
      expect(fast.got).toHaveLength(1);
      // the deadline ended the hanging delivery (no time asserted: the failure line is the proof)
      expect(t.stderr).toMatch(/\[notify\] text webhook http:\/\/127\.0\.0\.1:\d+\/…: .*(timed out|no answer|deadline).*kept and tried again/i);
    } finally {
      await fast.stop();
    }
  });

  it('20 overlapping ticks on one home produce each notification once', async () => {
    await w.start(`request_delay_ms: 0\n${channels()}\n`);
    for (let i = 0; i < 5; i++) {
      w.anthropic(`a${i}`, { expiresIn: 5 * MIN, fields: { rateLimitReset: null } });
    }
    w.sim.fault(SIM_PATHS.anthropicToken, { ...INVALID_GRANT, times: 5 });
    await Promise.all(Array.from({ length: 20 }, () => w.tick()));
    // the ones that found the outbox busy left their messages to the holder, or to a later tick
    await w.tick();
    const accounts = rx.to('/json').map((g) => JSON.parse(g.body)).filter((e) => e.kind === 'needs-person').map((e) => e.account).sort();
    expect(accounts).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    const kinds = rx.to('/json').map((g) => `${JSON.parse(g.body).kind} ${JSON.parse(g.body).account}`);
    expect(kinds, kinds.join('\n')).toHaveLength(5);
    for (const path of ['/ntfy/my-topic-secret', '/services/T0/B0/slack-secret', '/api/webhooks/1/discord-secret']) expect(rx.to(path)).toHaveLength(5);
    expect(events()).toHaveLength(5);
  });

  it('a config with problems: the runs stop, and the channels it still names hear it once; fixed, they hear that too', async () => {
    await w.start(`request_delay_ms: 0\nnotify:\n  - webhook: ${rx.url}/json\n    format: json\n`);
    w.anthropic('a1');
    const good = readFileSync(join(w.home.dir, 'config.yaml'), 'utf8');
    w.home.writeConfig(good + 'max_failures: many\n');
    for (let i = 0; i < 3; i++) expect((await w.tick()).code).toBe(2);
    expect(rx.got.map((g) => JSON.parse(g.body))).toMatchObject([{ kind: 'run-problem', reason: expect.stringMatching(/config .* has 1 problem, so no account is maintained/) }]);
    w.home.writeConfig(good);
    await w.tick();
    expect(rx.got.map((g) => JSON.parse(g.body).kind)).toEqual(['run-problem', 'run-recovered']);
  });

  it('serve: every account of a provider cooling down longer than serve.notify_after is told once, through the same queue', async () => {
    await w.start(`request_delay_ms: 0\nserve:\n  notify_after: 1s\nnotify:\n  - webhook: ${rx.url}/json\n    format: json\n`);
    w.codex('c1');
    w.codex('c2');
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    w.sim.fault(CODEX_RESPONSES_PATH, { status: 429, times: 2, body: { error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', resets_at: resetsAt } } });
    const s = await startServe(w);
    try {
      const res = await fetch(`${s.url}/codex/codex/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-5.5', input: [] }) });
      expect(res.status).toBe(429);
      await until(() => rx.got.length > 0, 10_000, 'the notification');
      await sleep(1500);
      expect(rx.got).toHaveLength(1);
      expect(JSON.parse(rx.got[0]!.body)).toMatchObject({ kind: 'run-problem', reason: expect.stringMatching(/^every codex account \(2\) is cooling down, the first until /) });
    } finally {
      await s.stop();
    }
  });

  it('notify test: a test message to every channel, each result printed; exit 1 when one fails', async () => {
    await w.start(`request_delay_ms: 0\nnotify:\n  - webhook: ${rx.url}/slack/secret-path\n    format: slack\n  - command: [/nonexistent/mailer]\n`);
    const r = await w.run(['notify', 'test']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ok {6}slack webhook http:\/\/127\.0\.0\.1:\d+\/…$/m);
    expect(r.stderr).toContain('failed  command /nonexistent/mailer: cannot run /nonexistent/mailer: not found');
    expect(r.stdout + r.stderr).not.toContain('secret-path');
    expect(JSON.parse(rx.got[0]!.body).text).toMatch(/a test message from `refresher notify test`/);
    const d = await w.run(['doctor', '--json']);
    const checks = JSON.parse(d.stdout).checks;
    expect(checks.find((c: any) => c.name === 'notify command /nonexistent/mailer')).toMatchObject({ ok: false, detail: '/nonexistent/mailer is not an executable file' });
    // the webhook's host is asked at its origin only: nothing is posted, and its secret path is not shown
    expect(checks.find((c: any) => /^notify slack webhook http:\/\/127\.0\.0\.1:\d+\/…$/.test(c.name))).toMatchObject({ ok: true, detail: expect.stringMatching(/its host answers \(HTTP \d+\)/) });
    expect(rx.to('/slack/secret-path')).toHaveLength(1); // only the test message
    expect(rx.to('/')).toHaveLength(1); // doctor's question
    expect(d.stdout).not.toContain('secret-path');
    await rx.stop();
    const down = JSON.parse((await w.run(['doctor', '--json'])).stdout).checks;
    expect(down.find((c: any) => /^notify slack webhook/.test(c.name))).toMatchObject({ ok: false, detail: expect.stringMatching(/^its host does not answer/) });
  });

  it('a home that cannot be written: the person still hears it, once, from a directory of their own in the temporary directory', async (t) => {
    await w.start(`request_delay_ms: 0\nnotify:\n  - webhook: ${rx.url}/json\n    format: json\n`);
    w.anthropic('a1', { expiresIn: 5 * MIN });
    const undoHome = makeUnwritable(w.home.dir);
    const undoAccounts = makeUnwritable(w.home.accountsDir);
    if (!undoHome || !undoAccounts) return t.skip('this machine cannot make a directory unwritable');
    try {
      const r1 = await w.tick();
      const r2 = await w.tick();
      expect(r1.code).toBe(1);
      expect(r1.stderr).toMatch(/\[notify\] .*notify cannot be written \(E\w+\); notifications wait in /);
      const kinds = rx.got.map((g) => JSON.parse(g.body)).map((e) => [e.kind, e.reason]);
      expect(kinds).toContainEqual(['run-problem', expect.stringMatching(/^the refresher home .* cannot be written/)]);
      // told once (the locks, which cannot be made in that home either, are a problem of their own)
      expect(rx.got.filter((g) => /^the refresher home/.test(JSON.parse(g.body).reason))).toHaveLength(1);
      expect(r2.stderr).not.toContain('TypeError');
    } finally {
      undoAccounts();
      undoHome();
      rmSync(fallbackOutboxDir(w.home.dir), { recursive: true, force: true });
    }
  });

  it('locks that cannot be used: the run problem is told once, and that it works again', async () => {
    await w.start(`request_delay_ms: 0\nnotify:\n  - webhook: ${rx.url}/json\n    format: json\n`);
    w.anthropic('a1', { expiresIn: 5 * MIN });
    writeFileSync(join(w.home.dir, 'locks'), 'x');
    for (let i = 0; i < 2; i++) expect((await w.tick()).code).toBe(1);
    expect(rx.got.map((g) => JSON.parse(g.body))).toMatchObject([{ kind: 'run-problem', reason: expect.stringMatching(/^the locks directory .* cannot be used .*, so 1 account was not worked on$/) }]);
    rmSync(join(w.home.dir, 'locks'));
    expect((await w.tick()).code).toBe(0);
    expect(rx.got.map((g) => JSON.parse(g.body).kind)).toEqual(['run-problem', 'run-recovered']);
  });

  it('an account whose file breaks after it was told is not "fine again": the broken file is told instead', async () => {
    await w.start(`request_delay_ms: 0\nnotify:\n  - webhook: ${rx.url}/json\n    format: json\n`);
    w.anthropic('a1', { expiresIn: 5 * MIN, fields: { rateLimitReset: null } });
    w.sim.fault(SIM_PATHS.anthropicToken, INVALID_GRANT);
    await w.tick();
    w.home.writeRaw('a1', '{"version": 1, "id": "a1", ');
    expect((await w.tick()).code).toBe(1);
    const kinds = rx.got.map((g) => JSON.parse(g.body)).map((e) => `${e.kind}${e.account ? ` ${e.account}` : ''}`);
    expect(kinds).toEqual(['needs-person a1', 'run-problem']);
  });
});
