import { readFileSync } from 'node:fs';

// Read once from package.json so the User-Agent always matches the published version.
let cached: string | undefined;
export function version(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = pkg.version;
  }
  return cached;
}

export function userAgent(): string {
  return `refresher/${version()}`;
}
