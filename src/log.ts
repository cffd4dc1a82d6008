import { fstatSync, writeSync } from 'node:fs';
import { escapeControl, redact } from './util/secrets.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/**
 * A direct write to fd 2: setting up process.stderr loads Node's whole stream stack, which is a visible
 * part of an idle cron tick. A full pipe (EAGAIN) falls back to the stream.
 */
export function writeErr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    process.stderr.write(text);
  }
}

let stdoutGone = false;
/**
 * Everything a command prints on stdout. When the reader goes away (`status --json | head`) the rest is dropped
 * quietly, and the command still finishes its work with its own exit code: a tick is not cut short by a pager.
 */
export function writeOut(text: string): void {
  if (stdoutGone) return;
  if (!process.stdout.listenerCount('error')) {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stdoutGone = true;
    });
  }
  if ((toFile ??= stdoutIsFile())) writeSync(1, text);
  else process.stdout.write(text);
}

/**
 * A regular file (`> status.json`): Node's stream for it writes each string through a Buffer made for it, which for
 * a 7 MB `status --json` is 7 MB of memory touched for nothing; a string written to the descriptor directly is
 * encoded into a buffer that is reused. Both are synchronous, and neither looks at what write(2) returns.
 */
let toFile: boolean | undefined;
function stdoutIsFile(): boolean {
  try {
    return fstatSync(1).isFile();
  } catch {
    return false;
  }
}

export function isLogLevel(v: string): v is LogLevel {
  return v in ORDER;
}

/**
 * A cron log or a file needs the time on each line; a terminal does not, and the journal stamps lines itself
 * (systemd sets JOURNAL_STREAM for the services it starts).
 */
export function wantsTimestamps(): boolean {
  return !process.env.JOURNAL_STREAM && !stderrIsTTY();
}

let stderrTTY: boolean | undefined;
/**
 * isatty(2), without loading node:tty (which loads net) when stderr is a pipe, a socket or a file, as under
 * cron and systemd: only a character device can be a terminal.
 */
export function stderrIsTTY(): boolean {
  if (stderrTTY === undefined) {
    let chr = false;
    try {
      chr = fstatSync(2).isCharacterDevice();
    } catch {
      /* no stderr at all */
    }
    stderrTTY = chr && process.getBuiltinModule('node:tty').isatty(2);
  }
  return stderrTTY;
}

/**
 * Human lines go to stderr so stdout stays clean for `--json`. With `--json` or `--quiet`, info is silenced
 * (LOG_LEVEL still asks for it explicitly with --json). One format for every command: an optional ISO
 * timestamp, `warning: ` or `error: `, the message; control characters escaped, secrets scrubbed.
 */
/**
 * For a long-running process that logs a line per request (serve): lines are gathered and written once per
 * turn of the event loop, one system call for many lines, and whatever is left is written at exit.
 */
function bufferedWriter(): (text: string) => void {
  let pending: string[] = [];
  const flush = () => {
    if (!pending.length) return;
    const text = pending.join('');
    pending = [];
    writeErr(text);
  };
  process.on('exit', flush);
  return (text) => {
    if (!pending.length) setImmediate(flush);
    pending.push(text);
  };
}

export function createLogger(opts: { json?: boolean; quiet?: boolean; buffered?: boolean } = {}): Logger {
  const write = opts.buffered ? bufferedWriter() : writeErr;
  const env = (process.env.LOG_LEVEL ?? '').toLowerCase();
  const level: LogLevel = opts.quiet ? 'warn' : isLogLevel(env) ? env : opts.json ? 'warn' : 'info';
  let stamp: boolean | undefined; // asked on the first line: a tick that prints nothing never looks
  const emit = (l: LogLevel, msg: string) => {
    if (ORDER[l] < ORDER[level]) return;
    const tag = l === 'warn' ? 'warning: ' : l === 'error' ? 'error: ' : '';
    const text = escapeControl(redact(`${tag}${msg}`), true);
    stamp ??= wantsTimestamps();
    const at = stamp ? `${new Date().toISOString()} ` : '';
    write((at ? text.split('\n').map((line) => at + line).join('\n') : text) + '\n');
  };
  if (env && !isLogLevel(env)) emit('warn', `LOG_LEVEL=${escapeControl(env).slice(0, 20)} is not one of debug, info, warn, error; using ${level}`);
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}
