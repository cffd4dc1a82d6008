import { writeSync } from 'node:fs';
import { redact } from './util/secrets.js';

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

export function isLogLevel(v: string): v is LogLevel {
  return v in ORDER;
}

/**
 * Human lines go to stderr so stdout stays clean for `--json`. With `--json`, info is silenced unless
 * LOG_LEVEL asks for it explicitly.
 */
export function createLogger(opts: { json?: boolean } = {}): Logger {
  const env = (process.env.LOG_LEVEL ?? '').toLowerCase();
  const level: LogLevel = isLogLevel(env) ? env : opts.json ? 'warn' : 'info';
  const emit = (l: LogLevel, msg: string) => {
    if (ORDER[l] < ORDER[level]) return;
    const tag = l === 'warn' ? 'warning: ' : l === 'error' ? 'error: ' : '';
    writeErr(redact(`${tag}${msg}`) + '\n');
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}
