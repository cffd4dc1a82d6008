import type { Config, NotifyChannel } from '../config/types.js';
import type { NotifyEvent } from '../core/events.js';
import { redact } from '../util/secrets.js';
import { userAgent } from '../version.js';
import { channelLabel, commandArgv, messageOf, webhookBody } from './message.js';

/**
 * One adapter per kind of channel, registered like the providers: each delivers one event within a deadline
 * and says how it went, as data. A failure's words never hold the channel's URL (it may carry a token).
 */
export type Delivery = { ok: true } | { ok: false; error: string };
type Adapter<C extends NotifyChannel> = (ch: C, e: NotifyEvent, o: { timeoutMs: number; cfg: Config }) => Promise<Delivery>;

const scrub = (text: string, ch: NotifyChannel) => redact(ch.kind === 'webhook' ? text.split(ch.url).join(channelLabel(ch)) : text);

const webhook: Adapter<Extract<NotifyChannel, { kind: 'webhook' }>> = async (ch, e, o) => {
  const { sendOnce } = await import('../net/http.js');
  const b = webhookBody(ch.format, e);
  try {
    const res = await sendOnce(
      { method: 'POST', url: ch.url, headers: { 'content-type': b.contentType, 'user-agent': userAgent(), ...b.headers }, body: b.body },
      { timeoutMs: o.timeoutMs, proxy: ch.proxy ?? o.cfg.proxyUrl },
    );
    if (res.status >= 200 && res.status < 300) return { ok: true };
    return { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, error: scrub((err as Error).message, ch) };
  }
};

const command: Adapter<Extract<NotifyChannel, { kind: 'command' }>> = async (ch, e, o) => {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const [program, ...args] = commandArgv(ch.argv, e.host);
    let stderr = '';
    let settled = false;
    const done = (d: Delivery) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(d);
    };
    const child = spawn(program!, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, REFRESHER_EVENT: JSON.stringify(e) } });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, error: `no answer within ${o.timeoutMs} ms (killed)` });
    }, o.timeoutMs);
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-400)));
    child.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code === 'ENOENT' ? `cannot run ${program}: not found` : `cannot run ${program}: ${err.code ?? err.message}` }));
    child.on('close', (code, signal) => {
      const last = stderr.trim().split('\n').pop()?.slice(0, 200);
      done(code === 0 ? { ok: true } : { ok: false, error: `${signal ? `killed by ${signal}` : `exited with ${code}`}${last ? `: ${scrub(last, ch)}` : ''}` });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(messageOf(e).text + '\n');
  });
};

const adapters = { webhook, command } satisfies { [K in NotifyChannel['kind']]: Adapter<Extract<NotifyChannel, { kind: K }>> };

export function deliver(ch: NotifyChannel, e: NotifyEvent, o: { timeoutMs: number; cfg: Config }): Promise<Delivery> {
  return ch.kind === 'webhook' ? adapters.webhook(ch, e, o) : adapters.command(ch, e, o);
}
