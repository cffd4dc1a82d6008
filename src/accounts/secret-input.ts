import { readFileSync } from 'node:fs';
import { usageError } from '../errors.js';
import { cjs } from '../util/cjs.js';

/**
 * Secrets come from stdin or --secrets-file, never from argv (argv shows in `ps` and shell history). On a
 * terminal the input is read without echo.
 */
export async function readSecretText(o: { secretsFile?: string; prompt: string }): Promise<string> {
  if (o.secretsFile) {
    try {
      return readFileSync(o.secretsFile, 'utf8');
    } catch (e) {
      // the value is not shown: a secret given where its file belongs would be on screen (and in cron mail)
      throw usageError(`--secrets-file: cannot read the file given (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of a file that holds the secrets (the value given is not shown, as it may be a secret itself)`);
    }
  }
  if (process.stdin.isTTY) return readHidden(o.prompt);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One line from the terminal with echo off. */
function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(usageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** One visible line (a pasted CODE#STATE is not a long-lived secret). */
export async function readLine(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const { createInterface } = cjs(await import('node:readline'));
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line.trim();
    return '';
  } finally {
    rl.close();
  }
}
