/**
 * `process.binding(name)`: one of Node's own native modules, for the few loops where the public call costs more
 * than the work (see quick-stat.ts, crc32.ts); callers check its answers against the public call's before using
 * it. process.binding is deprecated (DEP0111, printed only under --pending-deprecation): a cron tick that printed
 * it would mail its owner every minute, so that one warning is held back for this one call. Throws as it does.
 */
export function quietBinding(name: string): Record<string, unknown> {
  const quiet = process.noDeprecation;
  try {
    process.noDeprecation = true;
    return (process as unknown as { binding(name: string): Record<string, unknown> }).binding(name);
  } finally {
    process.noDeprecation = quiet;
  }
}
