import { spawn } from 'node:child_process';
import type { AnthropicAccount } from '../model/types.js';
import { redact } from '../util/secrets.js';
import { iso } from '../util/time.js';
import { refused } from './anthropic.js';
import type { ActionFn, Outcome, ProviderContext } from './types.js';

/**
 * `window_method: claude-cli`: the usage window is started by the user's own Claude Code, run headless with
 * the account's fresh access token, the smallest model, a one-word prompt, one turn and no tools. The
 * official client sends the request itself; refresher impersonates nothing. Then a usage snapshot says when
 * the new window resets.
 */
const OUTPUT_CAP = 256 * 1024;
const EXTRA_USAGE = /draws? from your extra usage/i;

interface Run {
  code: number | null;
  stdout: string;
  error: string | null;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    // Our own timer: spawn's `timeout` option keeps a process alive for its full length after a failed spawn.
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = (r: Run) => {
      clearTimeout(timer);
      resolve(r);
    };
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout.length < OUTPUT_CAP ? (stdout += d) : undefined));
    child.stderr.resume();
    child.on('error', (e: NodeJS.ErrnoException) => done({ code: null, stdout, error: e.code ?? e.message }));
    child.on('close', (code, signal) => done({ code, stdout, error: signal ? `stopped by ${signal} (no answer within ${timeoutMs / 1000} s)` : null }));
  });
}

/** The environment of the run: the account's token, endpoint and proxy, and nothing that would override them. */
export function claudeEnv(ctx: ProviderContext): NodeJS.ProcessEnv {
  const a = ctx.account as AnthropicAccount;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy']) delete env[k];
  Object.assign(env, {
    CLAUDE_CODE_OAUTH_TOKEN: a.credentials.accessToken,
    ANTHROPIC_BASE_URL: a.endpoint ?? ctx.cfg.providers.anthropic.apiBase,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
  });
  if (ctx.proxy) Object.assign(env, { HTTPS_PROXY: ctx.proxy, ALL_PROXY: ctx.proxy });
  return env;
}

export const claudeArgs = (model: string) => ['-p', 'hi', '--model', model, '--max-turns', '1', '--tools', '', '--no-session-persistence', '--output-format', 'json'];

export async function windowByClaudeCli(ctx: ProviderContext, quota: ActionFn): Promise<Outcome> {
  const p = ctx.cfg.providers.anthropic;
  const id = ctx.account.id;
  const timeoutMs = Math.max(ctx.cfg.timeoutMs * 2, 60_000);
  const r = await run(p.claudePath, claudeArgs(p.windowModel), claudeEnv(ctx), timeoutMs);
  if (r.error === 'ENOENT') {
    return { kind: 'transient', reason: `window_method claude-cli: no Claude Code at "${p.claudePath}"; install it (npm i -g @anthropic-ai/claude-code) or set providers.anthropic.claude_path` };
  }
  let result: { is_error?: unknown; result?: unknown; api_error_status?: unknown } | null = null;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    /* not the JSON result: described below */
  }
  const text = typeof result?.result === 'string' ? result.result : '';
  if (EXTRA_USAGE.test(text)) return refused(ctx, 'HTTP 400: third-party apps draw from extra usage, not the plan (answered to Claude Code)', 'claude-cli');
  if (r.error || r.code !== 0 || !result || result.is_error !== false) {
    const what = r.error ?? (r.code !== 0 ? `exit ${r.code}` : result ? `API error ${String(result.api_error_status ?? '')}`.trim() : 'no JSON result');
    const said = text ? `: ${redact(text.replace(/\s+/g, ' ')).slice(0, 120)}` : '';
    return { kind: 'transient', reason: `window_method claude-cli: Claude Code failed (${what})${said}` };
  }
  // The window's reset, as the service counts it.
  const snap = await quota(ctx);
  if (snap.kind !== 'ok') return { ...snap, reason: `window started by Claude Code, but the usage snapshot failed: ${'reason' in snap ? snap.reason : ''}` } as Outcome;
  const reset = snap.patch.quota?.fiveHour?.resetsAt ?? null;
  if (reset === null) return { kind: 'transient', reason: 'window started by Claude Code, but the usage snapshot has no five_hour.resets_at' };
  return { kind: 'ok', patch: { ...snap.patch, rateLimitReset: reset }, message: `window started for ${id} by Claude Code, resets ${iso(reset)}` };
}
