import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The official Codex CLI, installed for the tests by scripts/test-deps.sh into a cache directory (it is about
 * 400 MB, so not a dependency); REFRESHER_TEST_CODEX names another binary.
 */
function findCodex(): string | null {
  if (process.env.REFRESHER_TEST_CODEX) return process.env.REFRESHER_TEST_CODEX;
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'refresher-test');
  if (!existsSync(cache)) return null;
  for (const d of readdirSync(cache).filter((n) => n.startsWith('codex-')).sort().reverse()) {
    const bin = join(cache, d, 'node_modules', '.bin', 'codex');
    if (existsSync(bin)) return bin;
  }
  return null;
}
export const CODEX = findCodex();

/** `codex exec PROMPT` headless in CODEX_HOME (also its working directory), no git repository needed. */
export function codexExec(codexHome: string, prompt: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(CODEX!, ['exec', '--skip-git-repo-check', prompt], { cwd: codexHome, env: { ...process.env, CODEX_HOME: codexHome, RUST_LOG: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}
