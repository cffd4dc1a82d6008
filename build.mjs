// One ESM file for the CLI's own code (and commander). The heavy libraries (undici, socks, yaml,
// cli-table3, chalk, smol-toml) stay in node_modules and are imported dynamically, only on the paths
// that use them. Every extra ES module costs an idle cron tick about a millisecond to resolve and load, so
// an idle tick loads three files: bin/refresher, dist/cli.js and package.json.
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

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts', 'src/fast-tick.ts', 'src/sim-entry.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: false,
  // Heavy libraries stay in node_modules and are imported only on the paths that need them.
  external: ['undici', 'socks', 'yaml', 'cli-table3', 'chalk', 'smol-toml'],
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  minify: true,
  sourcemap: false,
  define: { __REFRESHER_VERSION__: JSON.stringify(version) },
  // bundled CommonJS dependencies (commander) call require for Node built-ins
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  plugins: [lazyChildProcess, builtinsAsRequire],
  logLevel: 'warning',
});
