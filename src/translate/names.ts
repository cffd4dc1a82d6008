import { createHash } from 'node:crypto';

/**
 * The backend takes tool names and call ids of at most 64 characters. A longer one is shortened the same way
 * every time (its head and a hash of the whole), so a conversation's later turns name the same call; names
 * are mapped back exactly from the table the request mapper returns.
 */
export const MAX_NAME = 64;

export function shorten(s: string): string {
  if (s.length <= MAX_NAME) return s;
  const hash = createHash('sha256').update(s).digest('hex').slice(0, 12);
  return `${s.slice(0, MAX_NAME - 13)}_${hash}`;
}

/** short name → the client's own name, for the names that had to be shortened */
export type NameTable = Record<string, string>;

export const originalName = (short: string, table: NameTable) => table[short] ?? short;
