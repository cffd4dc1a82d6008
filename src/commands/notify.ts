import { writeOut } from '../log.js';
import { EXIT_FAILED, EXIT_OK } from '../errors.js';
import type { NotifyEvent } from '../core/events.js';
import { openContext, printJson, type GlobalOptions } from './context.js';

/**
 * `refresher notify test`: one test message to every channel in the config, at once and not through the queue,
 * with each result printed. Exit 1 when any channel failed, 2 when there are none.
 */
export async function notifyTest(g: GlobalOptions, o: { json?: boolean }): Promise<number> {
  const { cfg, log } = await openContext(g, { json: o.json });
  const { usageError } = await import('../errors.js');
  if (!cfg.notify.length) throw usageError(`no notify channels in ${cfg.source ?? 'the config (there is no config file)'}: add a notify: list (see "Notifications" in the README)`);
  const { deliver } = await import('../notify/deliver.js');
  const { channelLabel } = await import('../notify/message.js');
  const { host } = await import('../notify/run.js');
  const now = Date.now();
  const event: NotifyEvent = { id: `test-${now.toString(36)}`, kind: 'test', host: host(), at: now, account: null, provider: null, reason: 'a test', fix: null, since: null };
  const results = await Promise.all(cfg.notify.map(async (ch) => ({ channel: channelLabel(ch), ...(await deliver(ch, event, { timeoutMs: cfg.timeoutMs, cfg })) })));
  const { closeDispatchers } = await import('../net/dispatcher.js');
  await closeDispatchers();
  if (o.json) printJson(results);
  else for (const r of results) r.ok ? writeOut(`ok      ${r.channel}\n`) : log.error(`failed  ${r.channel}: ${r.error}`);
  return results.every((r) => r.ok) ? EXIT_OK : EXIT_FAILED;
}
