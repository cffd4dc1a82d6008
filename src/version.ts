import { readFileSync } from 'node:fs';

// The build stamps the version in; running from source (tests) reads package.json instead.
declare const __REFRESHER_VERSION__: string | undefined;

let cached: string | undefined;
export function version(): string {
  if (cached === undefined) {
    cached =
      typeof __REFRESHER_VERSION__ === 'string'
        ? __REFRESHER_VERSION__
        : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  }
  return cached;
}

export function userAgent(): string {
  return `refresher/${version()}`;
}
