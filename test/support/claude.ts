import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The official Claude Code CLI, a dev dependency: a native binary that runs offline against a local server. */
export const CLAUDE = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

/** `claude -p hi` headless: the smallest model, one turn, no tools, no session kept. */
export function claudeHi(env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(CLAUDE, ['-p', 'hi', '--model', 'claude-haiku-4-5', '--max-turns', '1', '--tools', '', '--no-session-persistence'], {
      env: { ...process.env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}
