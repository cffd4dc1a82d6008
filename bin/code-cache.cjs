'use strict';
// V8's code cache for refresher's own bundles on Node versions without module.enableCompileCache (before 22.1,
// which bin/refresher uses where it exists). Without it, every process compiles dist/cli.cjs afresh: about a
// quarter of `refresher --help` on Node 20. The cache is kept per bundle, per command and per Node version in
// $XDG_CACHE_HOME/refresher/code-cache (or ~/.cache/...), a directory that only this user may write: what is in
// it runs as code. Whatever goes wrong here, the bundle is loaded the plain way (require) and nothing is said.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

/** The cache directory, or null when there is none to use (no HOME, disabled, or not Node's to give). */
function cacheDir(env) {
  if (env.NODE_DISABLE_COMPILE_CACHE || env.REFRESHER_NO_CODE_CACHE) return null;
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : '');
  return path.isAbsolute(base) ? path.join(base, 'refresher', 'code-cache') : null;
}

/** Owned by this user, and writable by nobody else: a cache another user could write would run their code. */
const ownedByMe = (st) => st.uid === process.getuid() && (st.mode & 0o022) === 0;

function usableDir(dir) {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (st) return st.isDirectory() && ownedByMe(st);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return usableDir(dir);
  } catch {
    return false;
  }
}

/** The cached bytes for `name`, or undefined. Opened without following a symlink; checked as the directory is. */
function readCached(file) {
  let fd;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() && ownedByMe(st) && st.size > 0 ? fs.readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the cache atomically and removes the ones an earlier build of the same bundle left. */
function save(dir, name, prefix, data) {
  const tmp = path.join(dir, `${name}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, path.join(dir, name));
    for (const old of fs.readdirSync(dir)) if (old.startsWith(prefix) && old !== name && !old.endsWith('.tmp')) fs.rmSync(path.join(dir, old), { force: true });
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * `load(file)` in place of `require(file)` for a bundle in dist/: compiled as Node's CommonJS loader would
 * (same wrapper, filename and require), with V8's cached code when there is some for this
 * very file (inode, size and mtime), command and Node. A run that had none leaves one behind when it exits,
 * with the functions that run used. Null when there is no cache directory to use: then plain require is the way.
 */
function codeCacheLoader(command, env = process.env) {
  const dir = cacheDir(env);
  if (!dir || typeof process.getuid !== 'function' || !usableDir(dir)) return null;
  const load = (file) => {
    const cached = Module._cache[file];
    if (cached) return cached.exports;
    const fd = fs.openSync(file, 'r');
    let source;
    let st;
    try {
      st = fs.fstatSync(fd);
      source = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
    // an earlier build's cache for this Node is removed when this one is written; another Node's is left alone
    const prefix = `${path.basename(file)}.${command}.${process.version}.${process.arch}.`;
    const name = `${prefix}${st.ino}.${st.size}.${Math.round(st.mtimeMs)}.v8`;
    const cachedData = readCached(path.join(dir, name));
    // No importModuleDynamically: on Node 20 the one that works prints an ExperimentalWarning. The bundles have no
    // import() (build.mjs fails a bundle that has one).
    const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
    if (cachedData && !script.cachedDataRejected) load.used.push(path.basename(file));
    else {
      process.once('exit', () => {
        try {
          save(dir, name, prefix, script.createCachedData());
        } catch {
          /* a cache that cannot be written only costs time */
        }
      });
    }
    const m = new Module(file, module);
    m.filename = file;
    m.paths = Module._nodeModulePaths(path.dirname(file));
    Module._cache[file] = m;
    // the bundles' own require of a sibling bundle (cli.cjs of ./undici.cjs) goes through the cache too
    const plain = Module.createRequire(file);
    const req = Object.assign((id) => (id.startsWith('./') && id.endsWith('.cjs') ? load(path.join(path.dirname(file), id)) : plain(id)), plain);
    try {
      script.runInThisContext().call(m.exports, m.exports, req, m, file, path.dirname(file));
    } catch (e) {
      delete Module._cache[file];
      throw e;
    }
    m.loaded = true;
    return m.exports;
  };
  /** the bundles this process ran from cached code (for tests) */
  load.used = [];
  return load;
}

module.exports = { codeCacheLoader, cacheDir };
