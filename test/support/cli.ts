import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expectNoCanary } from './canary.js';

/** REFRESHER_TEST_BIN runs the suite against another build (e.g. an older commit, to see a test fail there). */
export const BIN = process.env.REFRESHER_TEST_BIN ?? fileURLToPath(new URL('../../bin/refresher', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  /** leave stdin open for the test to write to (e.g. a pasted login code) */
  keepStdin?: boolean;
  /** the working directory to start in */
  cwd?: string;
}

/** Starts the built CLI as a real process; the test decides when to wait or kill. */
export function startCli(args: string[], o: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult>; stderr: () => string; stdoutSoFar: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', LOG_LEVEL: undefined, ...o.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: o.cwd,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (!o.keepStdin) child.stdin!.end(o.input ?? '');
  // Every run of the CLI in every test is a canary check: no part of any known secret in any output.
  const done = new Promise<CliResult>((resolve, reject) =>
    child.on('close', (code) => {
      try {
        expectNoCanary(stdout, `stdout of refresher ${args.join(' ')}`);
        expectNoCanary(stderr, `stderr of refresher ${args.join(' ')}`);
        resolve({ code, stdout, stderr });
      } catch (e) {
        reject(e);
      }
    }),
  );
  return { child, done, stderr: () => stderr, stdoutSoFar: () => stdout };
}

/** Resolves once the running CLI's stderr matches `re`. */
export async function waitForStderr(h: { stderr: () => string }, re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(h.stderr());
    if (m) return m;
    if (Date.now() > until) throw new Error(`stderr never matched ${re}:\n${h.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return startCli(args, o).done;
}

/** `--json` output parsed, with a useful message when it is not JSON. */
export function parseJson(r: CliResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
