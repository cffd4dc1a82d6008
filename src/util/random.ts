/**
 * Random bytes for temp-file names and lock tokens. node:crypto is loaded on the first call, not at startup:
 * requiring it costs a process about 2 ms, and an idle cron tick never needs it.
 */
export function randomBytes(n: number): Buffer {
  return process.getBuiltinModule('node:crypto').randomBytes(n);
}
