import type { NotifyChannel } from '../config/types.js';
import type { NotifyEvent } from '../core/events.js';
import { iso } from '../util/time.js';

/**
 * An event in words, and in the body each receiver expects. Pure. Every message names the host, the account and
 * its provider, what is wrong and the command that fixes it; the words come from the attention reasons and run
 * problems, which never hold a credential (and the sender scrubs the result once more).
 */
export function messageOf(e: NotifyEvent): { title: string; text: string } {
  const who = e.account ? `account ${e.account}${e.provider ? ` (${e.provider})` : ''}` : null;
  const since = e.since !== null ? ` since ${iso(e.since)}` : '';
  const fix = e.fix ? `\nTo fix it, run: ${e.fix}` : '';
  const title = `refresher on ${e.host}`;
  switch (e.kind) {
    case 'needs-person':
      return { title, text: `${title}: ${who} needs a person: ${e.reason}.${fix}` };
    case 'reminder':
      return { title, text: `${title}: ${who ?? 'refresher'} still needs a person${since}: ${e.reason}.${fix}` };
    case 'recovered':
      return { title, text: `${title}: ${who} is fine again (it needed a person${since}: ${e.reason}).` };
    case 'run-problem':
      return { title, text: `${title}: a run could not do its work: ${e.reason}.${fix}` };
    case 'run-recovered':
      return { title, text: `${title}: runs work again (they could not${since}: ${e.reason}).` };
    case 'test':
      return { title, text: `${title}: a test message from \`refresher notify test\`; this channel works.` };
  }
}

/** Discord refuses a content over 2000 characters; Slack folds long texts itself. */
const DISCORD_MAX = 2000;

/** The request body of a webhook in its format. */
export function webhookBody(format: Extract<NotifyChannel, { kind: 'webhook' }>['format'], e: NotifyEvent): { contentType: string; body: string; headers: Record<string, string> } {
  const m = messageOf(e);
  switch (format) {
    case 'text':
      // ntfy takes the title from a header; the body is the message as it is
      return { contentType: 'text/plain; charset=utf-8', body: m.text, headers: { title: m.title, tags: e.kind === 'recovered' || e.kind === 'run-recovered' || e.kind === 'test' ? 'white_check_mark' : 'warning' } };
    case 'json':
      return { contentType: 'application/json', body: JSON.stringify({ ...e, title: m.title, message: m.text }), headers: {} };
    case 'slack':
      return { contentType: 'application/json', body: JSON.stringify({ text: m.text }), headers: {} };
    case 'discord':
      return { contentType: 'application/json', body: JSON.stringify({ content: m.text.length > DISCORD_MAX ? `${m.text.slice(0, DISCORD_MAX - 1)}…` : m.text, allowed_mentions: { parse: [] } }), headers: {} };
  }
}

/** A command's argv with %h (the host) put in; never through a shell. */
export function commandArgv(argv: readonly string[], host: string): string[] {
  return argv.map((a) => a.replace(/%h/g, host));
}

/**
 * How a channel is named in output: a webhook by its origin only (Slack, Discord and ntfy URLs carry their
 * secret in the path or the query), a command by its program.
 */
export function channelLabel(ch: NotifyChannel): string {
  if (ch.kind === 'command') return `command ${ch.argv[0]}`;
  try {
    const u = new URL(ch.url);
    return `${ch.format} webhook ${u.protocol}//${u.host}${u.pathname.length > 1 || u.search ? '/…' : ''}`;
  } catch {
    return `${ch.format} webhook`;
  }
}
