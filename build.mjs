// One ESM file for the CLI's own code (and commander). The heavy libraries (undici, socks, yaml,
// cli-table3, chalk, smol-toml) stay in node_modules and are imported dynamically, only on the paths
// that use them. The idle cron tick has a CommonJS bundle of its own (dist/fast-tick.cjs), required by a
// CommonJS bin/refresher: Node's ES module loader alone costs a process about 7% of `node -e 0` (it reads
// files through fs/promises, which loads readline and streams), so the hot path never enters it.
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
await build({
  ...common,
  entryPoints: ['src/cli.ts', 'src/sim-entry.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: false,
  // Heavy libraries stay in node_modules and are imported only on the paths that need them.
  external: ['socks', 'yaml', 'cli-table3', 'chalk', 'smol-toml'],
  format: 'esm',
  // bundled CommonJS dependencies (commander) call require for Node built-ins
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  plugins: [lazyChildProcess, builtinsAsRequire, undiciLite],
});
await build({
  ...common,
  entryPoints: ['scripts/undici-lite.cjs'],
  outfile: 'dist/undici.cjs',
  format: 'cjs',
});
await build({
  ...common,
  entryPoints: ['src/fast-tick.ts'],
  outfile: 'dist/fast-tick.cjs',
  external: ['yaml', 'smol-toml'],
  format: 'cjs',
  // what import.meta.url means in CommonJS (version.ts reads package.json through it when not stamped)
  define: { ...common.define, 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl=require('node:url').pathToFileURL(__filename).href;" },
});
