// One CommonJS file for the CLI's own code (and commander). The heavy libraries (socks, yaml, cli-table3,
// chalk, smol-toml) stay in node_modules and are imported dynamically, only on the paths that use them;
// undici is bundled on its own (dist/undici.cjs). The idle cron tick has a bundle of its own
// (dist/fast-tick.cjs). bin/refresher, also CommonJS, requires them: Node's ES module loader alone costs a
// process about 7% of `node -e 0` (it reads files through fs/promises, which loads readline and streams).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// commander loads child_process (and with it net, streams, dgram) at startup only to run executable
// subcommands, which refresher does not have. Deferring that require saves a cron tick ~10 ms.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const src = readFileSync(args.path, 'utf8');
      const from = "const childProcess = require('node:child_process');";
      if (!src.includes(from)) throw new Error('commander changed: update the lazy-child-process plugin in build.mjs');
      const to = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: src.replace(from, to), loader: 'js' };
    });
  },
};

// An ESM `import ... from 'node:fs'` makes Node build the module's whole export list, which runs lazy
// getters (fs.promises, fs.ReadStream) and loads the stream stack. A plain require does not.
const builtinsAsRequire = {
  name: 'builtins-as-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

// The bundles import undici as dist/undici.cjs: only the part we use, one file (see scripts/undici-lite.cjs).
const undiciLite = {
  name: 'undici-lite',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: './undici.cjs', external: true }));
  },
};

// In the CommonJS bundles, `await import()` of a CommonJS package goes through Node's ES module loader, which
// parses the whole file with cjs-module-lexer to find its exports: about 50 ms for yaml and undici.cjs in a
// tick that loads both. A plain require, wrapped as import() would give it ({ default: exports, ...exports }),
// is the same module, loaded the same lazy way; so are Node's built-ins. The ES-only packages (chalk,
// smol-toml) are bundled as CommonJS files of their own in dist/ (ESM_PACKAGES) and required the same way.
// So the CommonJS bundles have no import() left: bin/code-cache.cjs compiles them where Node 20 could only
// run an import() with an experimental feature that prints a warning (the build checks, below).
const CJS_PACKAGES = ['yaml', 'socks', 'undici', 'cli-table3'];
const ESM_PACKAGES = ['chalk', 'smol-toml'];
const requireCjsImports = {
  name: 'require-cjs-imports',
  setup(b) {
    // a value, not a type (`st: import('node:fs').Stats`): after await or void
    const pattern = new RegExp(`(?<=\\b(?:await|void) )import\\('(${[...CJS_PACKAGES, ...ESM_PACKAGES].join('|')}|node:[a-z_/]+)'\\)`, 'g');
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const contents = src.replace(pattern, (_, name) =>
        ESM_PACKAGES.includes(name)
          ? `Promise.resolve().then(() => require('./${name}.cjs'))`
          : `Promise.resolve().then(() => { const m = require('${name}'); return { ...m, default: m }; })`,
      );
      return contents === src ? undefined : { contents, loader: 'ts' };
    });
  },
};

rmSync('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20.18',
  minify: true,
  sourcemap: false,
  define: { __REFRESHER_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
};
// CommonJS bundles: what import.meta.url means there (version.ts, schedule.ts and demo.ts use it)
const commonJs = {
  format: 'cjs',
  define: { ...common.define, 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl=require('node:url').pathToFileURL(__filename).href;" },
};
// The CLI is CommonJS, so that no command pays for Node's ES module loader.
await build({
  ...common,
  ...commonJs,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.cjs',
  // Heavy libraries stay in node_modules and are imported only on the paths that need them.
  external: ['socks', 'yaml', 'cli-table3', ...ESM_PACKAGES.map((n) => `./${n}.cjs`)],
  plugins: [lazyChildProcess, undiciLite, requireCjsImports],
});
// chalk and smol-toml, each a CommonJS file of its own (its namespace, as import() gives it), loaded where used
for (const name of ESM_PACKAGES) {
  await build({
    ...common,
    stdin: { contents: `export * from '${name}';`, resolveDir: '.', loader: 'js' },
    outfile: `dist/${name}.cjs`,
    format: 'cjs',
  });
}
// The simulator, for the benches and `demo`'s tests: an ES module they import.
await build({
  ...common,
  entryPoints: ['src/sim-entry.ts'],
  outdir: 'dist',
  external: ['socks', 'yaml', 'cli-table3', 'chalk', 'smol-toml'],
  format: 'esm',
  // bundled CommonJS dependencies call require for Node built-ins
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  plugins: [builtinsAsRequire, undiciLite],
});
await build({
  ...common,
  entryPoints: ['scripts/undici-lite.cjs'],
  outfile: 'dist/undici.cjs',
  format: 'cjs',
});
// The idle tick's bundle does not use import.meta.url: no banner (it loads node:url and makes a URL each start);
// should it ever come to, the build says so instead of the tick failing over to the full CLI every minute.
await build({
  ...common,
  ...commonJs,
  banner: {},
  entryPoints: ['src/fast-tick.ts'],
  outfile: 'dist/fast-tick.cjs',
  external: ['yaml', 'smol-toml'],
  plugins: [requireCjsImports],
});
if (readFileSync('dist/fast-tick.cjs', 'utf8').includes('__importMetaUrl')) {
  throw new Error('dist/fast-tick.cjs uses import.meta.url: give its build the banner of the other CommonJS bundles');
}
for (const f of ['cli.cjs', 'fast-tick.cjs', 'undici.cjs', ...ESM_PACKAGES.map((n) => `${n}.cjs`)]) {
  if (/\bimport\(/.test(readFileSync(`dist/${f}`, 'utf8'))) throw new Error(`dist/${f} has an import(): require it instead (see requireCjsImports in build.mjs)`);
}
