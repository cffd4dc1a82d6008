import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slug, type Candidate } from '../accounts/formats.js';
import type { Config } from '../config/types.js';
import { ExitError, EXIT_FAILED, usageError } from '../errors.js';
import type { HttpClient } from '../net/client.js';
import type { HttpResponse } from '../net/http.js';
import { json, num, oauthErrorCode, parseJsonObject } from './common.js';
import { codexIdentity } from './jwt.js';

export const ANTHROPIC_SCOPES = 'org:create_api_key user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload';
import { cjs } from '../util/cjs.js';

/** OAuth logins with PKCE (S256) and a random state, for `account add <provider> --login`. */
export interface LoginContext {
  cfg: Config;
  http: HttpClient;
  proxy: string | null;
  /** shows the user what to do (stderr) */
  say: (text: string) => void;
  now: () => number;
}

export function pkce(): { verifier: string; challenge: string; state: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), state: randomBytes(16).toString('base64url') };
}

function refused(res: HttpResponse): ExitError {
  const code = oauthErrorCode(parseJsonObject(res));
  return new ExitError(EXIT_FAILED, `the token endpoint refused the login code: HTTP ${res.status}${code ? ` ${code}` : ''}; run the login again`);
}

/** Anthropic: the user opens the URL, logs in, and pastes back the CODE#STATE the page shows. */
export async function anthropicLogin(ctx: LoginContext, readCode: () => Promise<string>): Promise<Candidate> {
  const p = ctx.cfg.providers.anthropic;
  const { verifier, challenge, state } = pkce();
  const url = new URL(p.authorizeUrl);
  for (const [k, v] of Object.entries({
    code: 'true',
    client_id: p.clientId,
    response_type: 'code',
    redirect_uri: p.redirectUri,
    // What Claude Code asks for; a login with fewer scopes works for less.
    scope: ANTHROPIC_SCOPES,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  }))
    url.searchParams.set(k, v);
  ctx.say(`Open this URL in a browser, log in, and paste the code it shows (CODE#STATE):\n\n  ${url}\n`);
  const input = (await readCode()).trim();
  const [code, pastedState] = input.split('#');
  if (!code) throw usageError('no code was pasted; run the login again');
  if (pastedState !== state) throw usageError('the pasted state does not match this login (a code from another attempt?); run the login again');
  const res = await ctx.http.request(
    {
      method: 'POST',
      url: p.tokenUrl,
      headers: json,
      body: JSON.stringify({ grant_type: 'authorization_code', code, state, client_id: p.clientId, redirect_uri: p.redirectUri, code_verifier: verifier }),
    },
    { proxy: ctx.proxy, final: () => true },
  );
  const body = res.status === 200 ? parseJsonObject(res) : null;
  if (!body || typeof body.access_token !== 'string') throw refused(res);
  const email: string | null = typeof body.account?.email_address === 'string' ? body.account.email_address : null;
  return {
    provider: 'anthropic',
    format: 'login',
    identity: `anthropic:${email ?? `login:${ctx.now()}`}`,
    suggestedId: email ? slug(email) : 'claude',
    email,
    label: null,
    credentials: { accessToken: body.access_token, refreshToken: body.refresh_token ?? '', expiresAt: ctx.now() + (num(body.expires_in) ?? 3600) * 1000 },
    state: {},
    link: null,
  };
}

const PAGE = (msg: string) => `<!doctype html><html><body><p>${msg}</p><p>You can close this tab.</p></body></html>`;

/** Codex: a one-shot callback server on 127.0.0.1 receives the code from the browser. */
export async function codexLogin(ctx: LoginContext, o: { port: number; openBrowser: boolean; timeoutMs: number }): Promise<Candidate> {
  const p = ctx.cfg.providers.codex;
  const { verifier, challenge, state } = pkce();
  let settle!: { resolve: (code: string) => void; reject: (e: Error) => void };
  const gotCode = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://localhost');
    if (q.pathname !== '/auth/callback') {
      res.writeHead(404).end();
      return;
    }
    const error = q.searchParams.get('error');
    if (error) {
      res.writeHead(400, { 'content-type': 'text/html' }).end(PAGE('Login failed.'));
      settle.reject(new ExitError(EXIT_FAILED, `the login was refused: ${error}`));
    } else if (q.searchParams.get('state') !== state) {
      res.writeHead(400, { 'content-type': 'text/html' }).end(PAGE('This login link does not belong to the running refresher.'));
      settle.reject(usageError('the callback carried the wrong state (a stale or forged login link); run the login again'));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE('Logged in to refresher.'));
      settle.resolve(q.searchParams.get('code') ?? '');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(usageError(`cannot listen on 127.0.0.1:${o.port} for the login callback (${(e as NodeJS.ErrnoException).code}); pass --port`)));
    server.listen(o.port, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const redirectUri = `http://localhost:${port}/auth/callback`;
  const url = new URL(p.authorizeUrl);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: p.clientId,
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    id_token_add_organizations: 'true',
    state,
  }))
    url.searchParams.set(k, v);
  ctx.say(`Open this URL in a browser and log in; refresher is waiting on ${redirectUri}:\n\n  ${url}\n`);
  if (o.openBrowser) openInBrowser(url.toString());
  const timer = setTimeout(() => settle.reject(new ExitError(EXIT_FAILED, `no login callback within ${Math.round(o.timeoutMs / 1000)} s; run the login again`)), o.timeoutMs);
  let code: string;
  try {
    code = await gotCode;
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: p.clientId, code_verifier: verifier });
  const res = await ctx.http.request(
    { method: 'POST', url: p.tokenUrl, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
    { proxy: ctx.proxy, final: () => true },
  );
  const body = res.status === 200 ? parseJsonObject(res) : null;
  if (!body || typeof body.access_token !== 'string') throw refused(res);
  const who = codexIdentity(body.access_token, body.id_token);
  const key = who.email ?? who.accountId ?? `login:${ctx.now()}`;
  return {
    provider: 'codex',
    format: 'login',
    identity: `codex:${key}`,
    suggestedId: who.email ? slug(who.email) : 'codex',
    email: who.email,
    label: who.plan ? `ChatGPT ${who.plan}` : null,
    credentials: { accessToken: body.access_token, refreshToken: body.refresh_token ?? '', idToken: body.id_token ?? null, accountId: who.accountId, expiresAt: who.expiresAt },
    state: {},
    link: null,
  };
}

/** Best effort: the platform's opener, if there is one. The URL has been printed either way. */
function openInBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  void import('node:child_process').then((m) => {
    const { spawn } = cjs(m);
    try {
      const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
      child.on('error', () => undefined);
      child.unref();
    } catch {
      /* no opener: the printed URL is enough */
    }
  });
}
