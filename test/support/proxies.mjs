// Real proxies from Debian for the tests and the benchmarks: dante (SOCKS5), microsocks (SOCKS5 with
// user/pass) and tinyproxy (HTTP CONNECT), each started on a free loopback port in a temp dir and stopped
// again. Plain JS so the .mjs benchmarks can use it too.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function have(binary) {
  return spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, name, logFile) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  let log = '';
  try {
    log = readFileSync(logFile, 'utf8').slice(-2000);
  } catch {}
  throw new Error(`${name} did not start on 127.0.0.1:${port} (exit ${child.exitCode})\n${log}`);
}

async function run(name, cmd, args, port, dir, logFile) {
  const out = join(dir, 'stdout.log');
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let captured = '';
  child.stdout.on('data', (d) => (captured += d));
  child.stderr.on('data', (d) => (captured += d));
  try {
    await waitForPort(port, child, name, logFile ?? out);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n${captured}`);
  }
  return {
    port,
    dir,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return captured;
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => (child.kill('SIGKILL'), r()), 2000);
          child.once('exit', () => (clearTimeout(t), r()));
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** dante with debug logging, so the log shows what address type each request carried (ATYP 1 = IPv4, 3 = name). */
export async function startDante() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dante-'));
  chmodSync(dir, 0o777);
  const log = join(dir, 'danted.log');
  const conf = join(dir, 'danted.conf');
  writeFileSync(
    conf,
    [
      `logoutput: ${log}`,
      'debug: 1',
      `internal: 127.0.0.1 port = ${port}`,
      'external: 127.0.0.1',
      'socksmethod: none',
      'clientmethod: none',
      'user.privileged: root',
      'user.unprivileged: nobody',
      'client pass {',
      '  from: 127.0.0.0/8 to: 0.0.0.0/0',
      '  log: error',
      '}',
      'socks pass {',
      '  from: 127.0.0.0/8 to: 0.0.0.0/0',
      '  command: connect',
      '  log: connect error',
      '}',
      '',
    ].join('\n'),
  );
  const p = await run('danted', 'danted', ['-f', conf, '-p', join(dir, 'danted.pid')], port, dir, log);
  return { ...p, url: `socks5h://127.0.0.1:${port}`, socks5: `socks5://127.0.0.1:${port}` };
}

export async function startMicrosocks(user, pass) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'microsocks-'));
  const p = await run('microsocks', 'microsocks', ['-i', '127.0.0.1', '-p', String(port), '-u', user, '-P', pass], port, dir);
  return { ...p, url: `socks5://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}` };
}

/**
 * tinyproxy allows CONNECT only to the ports listed (ConnectPort), so the upstream's port must be given.
 * @param {number[]} connectPorts
 * @param {{ user: string, pass: string } | null} [auth] BasicAuth credentials
 */
export async function startTinyproxy(connectPorts, auth = null) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tinyproxy-'));
  chmodSync(dir, 0o777);
  const log = join(dir, 'tinyproxy.log');
  const conf = join(dir, 'tinyproxy.conf');
  writeFileSync(
    conf,
    [
      'User nobody',
      'Group nogroup',
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      'MaxClients 200',
      'Allow 127.0.0.1',
      `LogFile "${log}"`,
      'LogLevel Connect',
      ...connectPorts.map((p) => `ConnectPort ${p}`),
      ...(auth ? [`BasicAuth ${auth.user} ${auth.pass}`] : []),
      '',
    ].join('\n'),
  );
  const p = await run('tinyproxy', 'tinyproxy', ['-d', '-c', conf], port, dir, log);
  const creds = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : '';
  return { ...p, url: `http://${creds}127.0.0.1:${port}` };
}

/** A TCP server that accepts connections and never says a word: a hung proxy. */
export async function startSilent() {
  const sockets = new Set();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    stop: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
