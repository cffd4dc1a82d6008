// One ESM bundle for the CLI, with each dynamically imported part (network, proxies, YAML, locks, tables,
// simulator) in its own chunk, loaded only when used. Fewer files to resolve and load keeps an idle
// cron tick close to the cost of starting Node.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  minify: true,
  sourcemap: false,
  define: { __REFRESHER_VERSION__: JSON.stringify(version) },
  chunkNames: 'chunks/[name]-[hash]',
  // bundled CommonJS dependencies (commander, proper-lockfile) call require for Node built-ins
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  logLevel: 'warning',
});
