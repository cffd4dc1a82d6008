import { describeJsonError } from '../util/secrets.js';
import { readFileSync, statSync } from 'node:fs';
import type { CodexCredentials, LinkedSource, OAuthCredentials } from '../model/types.js';
import { codexIdentity } from '../providers/jwt.js';
import { registerSecret } from '../util/secrets.js';

/**
 * Linked imports share their tokens with an official CLI (Claude Code's .credentials.json, the Codex CLI's
 * auth.json). Refresh tokens rotate, so whoever refreshes must hand the new pair to the other: before a
 * refresh we adopt a newer pair from the file, after one we write ours back, in the file's own format,
 * keeping its other fields and its mode.
 */
export type SourceTokens = OAuthCredentials & Partial<Pick<CodexCredentials, 'idToken' | 'accountId'>>;

type Obj = Record<string, any>;

function readJson(path: string): Obj {
  let v;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw e instanceof SyntaxError ? new Error(describeJsonError(e)) : e;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  return v;
}

export function readSourceTokens(src: LinkedSource): SourceTokens {
  const o = readJson(src.path);
  let t: SourceTokens;
  if (src.format === 'claude-credentials') {
    const c = o.claudeAiOauth ?? {};
    t = { accessToken: c.accessToken ?? '', refreshToken: c.refreshToken ?? '', expiresAt: typeof c.expiresAt === 'number' ? c.expiresAt : null };
  } else {
    const k = o.tokens ?? {};
    const who = codexIdentity(k.access_token, k.id_token);
    t = { accessToken: k.access_token ?? '', refreshToken: k.refresh_token ?? '', expiresAt: who.expiresAt, idToken: k.id_token ?? null, accountId: k.account_id ?? who.accountId };
  }
  for (const v of Object.values(t)) registerSecret(v);
  if (!t.refreshToken) throw new Error('it holds no refresh token');
  return t;
}

/** The file holds a different pair that expires later than ours: it was refreshed by the official CLI. */
export function isNewer(theirs: SourceTokens, ours: OAuthCredentials): boolean {
  return theirs.refreshToken !== ours.refreshToken && (theirs.expiresAt ?? 0) > (ours.expiresAt ?? 0);
}

export async function writeBackSource(src: LinkedSource, t: SourceTokens, now: number): Promise<void> {
  const o = readJson(src.path);
  const mode = statSync(src.path).mode & 0o777;
  if (src.format === 'claude-credentials') {
    o.claudeAiOauth = { ...(o.claudeAiOauth ?? {}), accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt };
  } else {
    o.tokens = {
      ...(o.tokens ?? {}),
      access_token: t.accessToken,
      refresh_token: t.refreshToken,
      ...(t.idToken ? { id_token: t.idToken } : {}),
      ...(t.accountId ? { account_id: t.accountId } : {}),
    };
    o.last_refresh = new Date(now).toISOString();
  }
  const text = readFileSync(src.path, 'utf8');
  const pretty = text.includes('\n  ') ? 2 : undefined;
  const { writeFileAtomic } = await import('./atomic.js');
  await writeFileAtomic(src.path, JSON.stringify(o, null, pretty) + (text.endsWith('\n') ? '\n' : ''), mode);
}
