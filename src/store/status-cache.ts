import { readFileSync } from 'node:fs';
import { version } from '../version.js';
import { cacheFile, writeCache, type Fingerprint } from './cache.js';
import { inDir, type Scan } from './account-dir.js';
import type { AccountStore, FileProblem, LoadedAccount } from './store.js';

/**
 * `status` over a pool: each account's row, as the JSON text status printed, remembered per file fingerprint
 * with the time until which it stays the same (see rowStableUntil in render/views.ts). A row is taken from here
 * only while its file is unchanged (inode, size, mtime, ctime), `now` is before that time, no live process
 * holds the account's lock and no tokens of it wait in recovery/; every other account is read and planned as
 * always. The key holds the config, the program's version and the proxy the pool answered.
 *
 * The texts were scrubbed when they were written, and the document they end up in is scrubbed again against
 * every secret this run read. On disk: one line of JSON (key, ids, numbers), then the texts, separated by
 * \x01, which JSON text never holds raw.
 */
const NAME = 'status-rows';
const SEP = '\x01';
/** per row: inode, size, mtime, ctime, stable until (null = forever), priority, needs a person (0/1), text length */
const WIDTH = 8;

export interface CachedRow {
  id: string;
  priority: number;
  /** null: stays the same while the file does */
  until: number | null;
  needsPerson: boolean;
  /** JSON.stringify(row, null, 2), scrubbed */
  text: string;
  fp: Fingerprint;
}

interface Header {
  key: string;
  ids: string;
  values: number[];
}

export const statusCacheKey = (configFingerprint: string, poolAnswer: string | null) => `${configFingerprint}|${version()}|${poolAnswer ?? ''}`;

export function readStatusCache(store: AccountStore, key: string): Map<string, CachedRow> | null {
  let text: string;
  try {
    text = readFileSync(cacheFile(store.home, NAME), 'utf8');
  } catch {
    return null;
  }
  try {
    const nl = text.indexOf('\n');
    const h = JSON.parse(text.slice(0, nl)) as Header;
    if (h.key !== key || typeof h.ids !== 'string' || !Array.isArray(h.values)) return null;
    const ids = h.ids === '' ? [] : h.ids.split('\n');
    const texts = ids.length ? text.slice(nl + 1).split(SEP) : [];
    if (texts.length !== ids.length || h.values.length !== ids.length * WIDTH) return null;
    const out = new Map<string, CachedRow>();
    for (let i = 0; i < ids.length; i++) {
      const v = h.values;
      const k = i * WIDTH;
      const until = v[k + 4];
      // a damaged file (cut short, or edited) is not used: each text has its length, and starts with its id
      if (texts[i]!.length !== v[k + 7] || !texts[i]!.startsWith(`{\n  "id": ${JSON.stringify(ids[i])},`)) return null;
      out.set(ids[i]!, {
        id: ids[i]!,
        fp: [v[k]!, v[k + 1]!, v[k + 2]!, v[k + 3]!],
        until: until === null || until === undefined ? null : until,
        priority: v[k + 5]!,
        needsPerson: v[k + 6] === 1,
        text: texts[i]!,
      });
    }
    return out;
  } catch {
    return null;
  }
}

export function saveStatusCache(store: AccountStore, key: string, rows: readonly CachedRow[]): void {
  const values: (number | null)[] = [];
  for (const r of rows) values.push(...r.fp, r.until, r.priority, r.needsPerson ? 1 : 0, r.text.length);
  const header = JSON.stringify({ key, ids: rows.map((r) => r.id).join('\n'), values });
  writeCache(store.home, NAME, Buffer.from(`${header}\n${rows.map((r) => r.text).join(SEP)}`));
}

export interface StatusLoad {
  /** the accounts read and parsed in this run */
  accounts: LoadedAccount[];
  problems: FileProblem[];
  warnings: string[];
  /** rows taken from the cache */
  cached: CachedRow[];
}

/**
 * loadAll, except that an account whose remembered row is still good is only stat'ed. In directory order, with
 * the same warnings and problems as loadAll.
 */
export function loadForStatus(store: AccountStore, listing: Scan, cache: Map<string, CachedRow> | null, now: number, holders: ReadonlyMap<string, unknown>): StatusLoad {
  const out: StatusLoad = { accounts: [], problems: [], warnings: store.dirWarnings(), cached: [] };
  const recovery = store.pendingRecovery();
  inDir(store.dir, (prefix) => {
    for (const id of listing.ids) readOne(id, prefix);
  });
  return out;

  function readOne(id: string, prefix: string): void {
    const c = cache?.get(id);
    if (c && (c.until === null || now < c.until) && listing.regular.has(id) && !holders.has(id) && !recovery.has(id)) {
      const st = store.statOne(id, prefix);
      const fp = st?.fingerprint;
      if (fp && fp[0] === c.fp[0] && fp[1] === c.fp[1] && fp[2] === c.fp[2] && fp[3] === c.fp[3]) {
        if (st.warning) out.warnings.push(st.warning);
        out.cached.push(c);
        return;
      }
    }
    const r = store.read(id, out.warnings, listing.regular.has(id));
    if ('account' in r) {
      r.account.recovery = recovery.get(id) ?? null;
      out.accounts.push(r);
    } else out.problems.push(r);
  }
}
