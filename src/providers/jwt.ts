/** Reads JWT claims without verifying them: we only need `exp` and identity claims of our own tokens. */
export function jwtClaims(token: string | null | undefined): Record<string, any> | null {
  if (!token) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const v = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null ? v : null;
  } catch {
    return null;
  }
}

export interface CodexIdentity {
  email: string | null;
  accountId: string | null;
  plan: string | null;
  expiresAt: number | null;
}

/** Identity from the OpenAI auth claims of an id_token or access_token. */
export function codexIdentity(...tokens: (string | null | undefined)[]): CodexIdentity {
  const out: CodexIdentity = { email: null, accountId: null, plan: null, expiresAt: null };
  for (const t of tokens) {
    const c = jwtClaims(t);
    if (!c) continue;
    const auth = c['https://api.openai.com/auth'] ?? {};
    out.email ??= c.email ?? c['https://api.openai.com/profile']?.email ?? null;
    out.accountId ??= auth.chatgpt_account_id ?? null;
    out.plan ??= auth.chatgpt_plan_type ?? null;
  }
  const access = jwtClaims(tokens[0]);
  if (typeof access?.exp === 'number') out.expiresAt = access.exp * 1000;
  return out;
}
