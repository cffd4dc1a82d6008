/**
 * Random bytes (cache tokens, and the base of uniqueHex). node:crypto is loaded on the first call, not at startup:
 * requiring it costs a process about 2 ms, and an idle cron tick never needs it.
 */
export function randomBytes(n: number): Buffer {
  return process.getBuiltinModule('node:crypto').randomBytes(n);
}

/**
 * Hex that no other process (and no earlier call in this one) gives: a random base drawn once per process, and a
 * counter. For temp-file names and lock tokens, where a crypto call each adds up (a busy tick makes thousands).
 */
let base: string | null = null;
let counter = 0;
export function uniqueHex(): string {
  base ??= randomBytes(8).toString('hex');
  return `${base}${(counter++).toString(16)}`;
}
