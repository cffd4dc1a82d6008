import type { CodexAnswer } from './codex-responses.js';
import { createHash, randomBytes } from 'node:crypto';

/**
 * The upstreams' memory: which tokens and cookies are live, rotation, usage windows and query counts.
 * Kept apart from the HTTP layer so its rules read like providers.md.
 */
export type SimProvider = 'anthropic' | 'codex';

export interface SimOAuthAccount {
  provider: SimProvider;
  email: string;
  accountId: string;
  plan: string;
  /** the one refresh token that works now */
  refreshToken: string;
  accessTokens: Map<string, number>;
  /** anthropic: when the current 5-hour window resets (ms), null = none running */
  windowResetAt: number | null;
  messages: number;
  /** Anthropic's third-party policy applies to this account (see server.ts, fromClaudeCode); 'all' refuses Claude Code too */
  thirdPartyPolicy: boolean | 'all';
}

export interface SimGrokAccount {
  sso: string;
  ssoRw: string;
  normalRemaining: number;
  heavyRemaining: number;
  blocked: boolean;
  /** rate-limit requests answered: asking can itself use quota */
  asked: number;
}

const rand = (n = 24) => randomBytes(n).toString('base64url');
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

export class SimState {
  /** every refresh token ever issued -> its account; rotated ones stay here to detect reuse */
  readonly refreshTokens = new Map<string, SimOAuthAccount>();
  readonly accessTokens = new Map<string, SimOAuthAccount>();
  readonly grok = new Map<string, SimGrokAccount>();
  readonly oauth: SimOAuthAccount[] = [];
  /** authorization codes waiting to be exchanged (PKCE) */
  readonly codes = new Map<string, { account: SimOAuthAccount; challenge: string; redirectUri: string }>();
  private logins = 0;
  /** every secret this simulator ever issued, so that tests can check no output holds any part of one */
  readonly issued: string[] = [];
  /** counters tests assert on */
  refreshCalls = 0;
  refreshReuses = 0;
  /**
   * What the OAuth security BCP recommends: a reused refresh token revokes its whole family, the live
   * refresh token and every access token of the account included.
   */
  revokeFamilyOnReuse = false;
  /** codex wham/usage: put the weekly window first, as the service once did */
  codexWindowsSwapped = false;
  /** scripted answers of the codex Responses endpoint, taken in order by the requests they fit */
  codexAnswers: CodexAnswer[] = [];
  /** the answer when no scripted one fits (null: text, or a quote of the last tool result) */
  codexDefault: CodexAnswer | null = null;
  /** when set, the codex WebSocket endpoint refuses every upgrade with this status */
  codexWebSocketRefusal: number | null = null;
  /** prompt_cache_key -> input tokens of its last request (counted as cached by the next) */
  readonly codexCache = new Map<string, number>();
  /** every Responses body the backend accepted, over HTTP or a WebSocket, in order */
  readonly codexTurns: any[] = [];
  /** analytics events the Codex CLI posted */
  codexAnalyticsEvents = 0;
  /** grok rate-limits: answer without windowSizeSeconds, as older answers did */
  grokOmitWindow = false;
  /** lifetimes the simulator hands out */
  anthropicTtlS = 28_800;
  codexTtlS = 864_000;

  private accessToken(a: SimOAuthAccount, now: number): { token: string; expiresAt: number } {
    const ttl = a.provider === 'anthropic' ? this.anthropicTtlS : this.codexTtlS;
    const expiresAt = now + ttl * 1000;
    const token =
      a.provider === 'anthropic'
        ? `sk-ant-oat01-${rand()}`
        : `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
            exp: Math.floor(expiresAt / 1000),
            iat: Math.floor(now / 1000),
            email: a.email,
            'https://api.openai.com/auth': { chatgpt_account_id: a.accountId, chatgpt_plan_type: a.plan, chatgpt_user_id: `user-${a.accountId}` },
          })}.${rand(16)}`;
    a.accessTokens.set(token, expiresAt);
    this.accessTokens.set(token, a);
    this.issued.push(token);
    return { token, expiresAt };
  }

  idToken(a: SimOAuthAccount, now: number): string {
    return this.issue(`${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
      exp: Math.floor(now / 1000) + 3600,
      email: a.email,
      'https://api.openai.com/auth': { chatgpt_account_id: a.accountId, chatgpt_plan_type: a.plan },
    })}.${rand(16)}`);
  }

  private issue(secret: string): string {
    this.issued.push(secret);
    return secret;
  }

  private newRefreshToken(a: SimOAuthAccount): string {
    const t = a.provider === 'anthropic' ? `sk-ant-ort01-${rand()}` : `rt_${rand()}`;
    a.refreshToken = t;
    this.refreshTokens.set(t, a);
    this.issued.push(t);
    return t;
  }

  /** Registers an account and returns the credentials a login would have produced. */
  addOAuth(provider: SimProvider, email: string, now: number, plan = provider === 'anthropic' ? 'max' : 'plus') {
    const a: SimOAuthAccount = {
      provider,
      email,
      accountId: `acct-${rand(6)}`,
      plan,
      refreshToken: '',
      accessTokens: new Map(),
      windowResetAt: null,
      messages: 0,
      thirdPartyPolicy: false,
    };
    this.oauth.push(a);
    const access = this.accessToken(a, now);
    const refreshToken = this.newRefreshToken(a);
    return { account: a, accessToken: access.token, refreshToken, expiresAt: access.expiresAt, idToken: this.idToken(a, now) };
  }

  addGrok(normal = 95, heavy = 18): SimGrokAccount {
    const g: SimGrokAccount = { sso: this.issue(`eyJ${rand(30)}`), ssoRw: this.issue(`eyJ${rand(30)}`), normalRemaining: normal, heavyRemaining: heavy, blocked: false, asked: 0 };
    this.grok.set(g.sso, g);
    return g;
  }

  /** The authorize step of a login: a new account (or the one with `email`) and a one-time code. */
  authorize(provider: SimProvider, challenge: string, redirectUri: string, now: number, email?: string): string {
    const existing = email ? this.oauth.find((a) => a.provider === provider && a.email === email) : undefined;
    const account = existing ?? this.addOAuth(provider, email ?? `login${++this.logins}@example.com`, now).account;
    const code = `code_${rand(12)}`;
    this.codes.set(code, { account, challenge, redirectUri });
    return code;
  }

  /** The authorization_code grant: the code once, and only with the verifier that matches its challenge. */
  exchange(provider: SimProvider, code: string, verifier: string, redirectUri: string, now: number) {
    const pending = this.codes.get(code);
    if (!pending || pending.account.provider !== provider) return null;
    this.codes.delete(code);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (challenge !== pending.challenge || redirectUri !== pending.redirectUri) return null;
    const a = pending.account;
    const access = this.accessToken(a, now);
    return { account: a, accessToken: access.token, refreshToken: this.newRefreshToken(a), expiresAt: access.expiresAt };
  }

  /**
   * The refresh grant. Rotation: the presented token must be the account's current one; any older one is a
   * reuse, and the answer is the provider's permanent error.
   */
  refresh(provider: SimProvider, token: string, now: number):
    | { ok: true; account: SimOAuthAccount; accessToken: string; refreshToken: string; expiresAt: number }
    | { ok: false; reason: 'unknown' | 'reused' } {
    this.refreshCalls++;
    const a = this.refreshTokens.get(token);
    if (!a || a.provider !== provider) return { ok: false, reason: 'unknown' };
    if (a.refreshToken !== token) {
      this.refreshReuses++;
      if (this.revokeFamilyOnReuse) {
        a.refreshToken = `revoked-${rand(8)}`;
        for (const t of a.accessTokens.keys()) a.accessTokens.set(t, 0);
      }
      return { ok: false, reason: 'reused' };
    }
    const access = this.accessToken(a, now);
    return { ok: true, account: a, accessToken: access.token, refreshToken: this.newRefreshToken(a), expiresAt: access.expiresAt };
  }

  /** The account behind a live (unexpired) access token. */
  byAccessToken(token: string | undefined, now: number): SimOAuthAccount | null {
    if (!token) return null;
    const a = this.accessTokens.get(token);
    if (!a) return null;
    const exp = a.accessTokens.get(token)!;
    return exp > now ? a : null;
  }
}
