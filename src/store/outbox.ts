import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NotifyChannel } from '../config/types.js';
import { emptyNotifyState, type NotifyEvent, type NotifyState } from '../core/events.js';
import { writeFileAtomic } from './atomic.js';
import { tryLock, type Release } from './lock.js';
import type { AccountStore } from './store.js';

/**
 * The notifications' place in the store: `<home>/notify/state.json` (what has been told, so that overlapping and
 * later runs never tell it twice nor skip it) and `<home>/notify/queue/` (one file per message and channel, kept
 * until it is delivered or given up). Both are changed only under `<home>/notify/outbox.lock`.
 */
export interface OutboxEntry {
  /** the file name */
  name: string;
  event: NotifyEvent;
  /** which channel (a hash of its settings: a channel removed or changed leaves its entries unclaimed) */
  channel: string;
  createdAt: number;
  attempts: number;
  lastError: string | null;
}

/**
 * Where the outbox goes when the home cannot take it (read-only, full, owned by someone else): a directory of
 * this user's under the system's temporary directory, one per home, so that a person still hears, once.
 */
export function fallbackOutboxDir(home: string): string {
  return join(tmpdir(), `refresher-${process.getuid?.() ?? 'user'}`, createHash('sha256').update(home).digest('hex').slice(0, 16));
}

export const channelKey = (ch: NotifyChannel): string => createHash('sha256').update(JSON.stringify(ch)).digest('hex').slice(0, 12);

export class Outbox {
  readonly dir: string;
  readonly queueDir: string;
  constructor(store: AccountStore, dir = join(store.home, 'notify')) {
    this.dir = dir;
    this.queueDir = join(this.dir, 'queue');
  }

  /** The outbox lock, or null when another live process holds it (that one delivers). */
  async lock(): Promise<Release | null> {
    mkdirSync(this.queueDir, { recursive: true, mode: 0o700 });
    return tryLock(this.dir, 'outbox');
  }

  readState(): NotifyState {
    try {
      const s = JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as NotifyState;
      return s && typeof s.accounts === 'object' && typeof s.problems === 'object' ? s : emptyNotifyState();
    } catch {
      return emptyNotifyState();
    }
  }

  async writeState(s: NotifyState): Promise<void> {
    await writeFileAtomic(join(this.dir, 'state.json'), JSON.stringify(s));
  }

  async add(event: NotifyEvent, channel: string, now: number): Promise<void> {
    const entry: Omit<OutboxEntry, 'name'> = { event, channel, createdAt: now, attempts: 0, lastError: null };
    await writeFileAtomic(join(this.queueDir, `${event.id}.${channel}.json`), JSON.stringify(entry));
  }

  /** Every entry waiting, oldest first (an unreadable one is dropped: it cannot be delivered anyway). */
  pending(o: { dropUnreadable?: boolean } = { dropUnreadable: true }): OutboxEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.queueDir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: OutboxEntry[] = [];
    for (const name of names) {
      try {
        out.push({ ...(JSON.parse(readFileSync(join(this.queueDir, name), 'utf8')) as OutboxEntry), name });
      } catch {
        if (o.dropUnreadable) rmSync(join(this.queueDir, name), { force: true });
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }

  async update(e: OutboxEntry): Promise<void> {
    const { name, ...rest } = e;
    await writeFileAtomic(join(this.queueDir, name), JSON.stringify(rest));
  }

  remove(e: OutboxEntry): void {
    rmSync(join(this.queueDir, e.name), { force: true });
  }

  /** For status and metrics, without the lock: how many wait, and how many of those failed at least once. */
  counts(): { pending: number; failed: number } {
    const p = this.pending({ dropUnreadable: false });
    return { pending: p.length, failed: p.filter((e) => e.attempts > 0).length };
  }
}
