import type { LoggedRequest } from './server.js';
import type { SimState } from './state.js';

/**
 * What the Codex CLI (0.171) asks the ChatGPT backend before and around a turn, so that a real CLI can run
 * against the simulator: workspace routing discovery, the plugin catalogue, user settings, analytics and the
 * hosted MCP server. Shapes as providers.md gives them; the catalogue and MCP are empty (no plugins, no tools).
 * Every one checks the account's bearer token, as the backend does.
 */
type Send = (status: number, body: unknown, headers?: Record<string, string>) => void;

const BASE = '/backend-api';
export const CODEX_CLI_PATHS = {
  accountsCheck: `${BASE}/api/codex/accounts/check`,
  whamAccountsCheck: `${BASE}/wham/accounts/check`,
  pluginsInstalled: `${BASE}/ps/plugins/installed`,
  pluginsList: `${BASE}/ps/plugins/list`,
  pluginsSuggested: `${BASE}/ps/plugins/suggested/codex`,
  settings: `${BASE}/api/codex/settings/user`,
  analytics: `${BASE}/codex/analytics-events/events`,
  mcp: `${BASE}/api/codex/ps/mcp`,
} as const;

/** The routing answer for one account: no residency constraint, the turn may go to the configured base. */
export function accountsCheck(accountId: string, plan: string) {
  return {
    accounts: [{ id: accountId, plan_type: plan, workspace_backend_origin: 'https://chatgpt.com', account_routing_override: 'NO_CONSTRAINT', name: null, profile_picture_url: null, structure: 'personal' }],
    account_ordering: [accountId],
    default_account_id: accountId,
  };
}

/** A JSON-RPC answer of an MCP server that offers nothing. */
function mcp(body: string): { status: number; body: unknown } {
  let msg: any;
  try {
    msg = JSON.parse(body);
  } catch {
    return { status: 400, body: { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } } };
  }
  if (msg.id === undefined) return { status: 202, body: '' }; // a notification (notifications/initialized)
  const result =
    msg.method === 'initialize'
      ? { protocolVersion: msg.params?.protocolVersion ?? '2025-06-18', capabilities: { tools: { listChanged: false } }, serverInfo: { name: 'sim-codex-apps', version: '0' } }
      : msg.method === 'tools/list'
        ? { tools: [] }
        : msg.method === 'ping'
          ? {}
          : null;
  if (!result) return { status: 200, body: { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `Method not found: ${msg.method}` } } };
  return { status: 200, body: { jsonrpc: '2.0', id: msg.id, result } };
}

/** Answers one of the CLI's own endpoints; false when the path is not one of them. */
export function codexCliRoute(state: SimState, method: string, req: LoggedRequest, send: Send, bearer: string, now: number): boolean {
  const p = CODEX_CLI_PATHS;
  const known = Object.values(p) as string[];
  if (!known.includes(req.path)) return false;
  const a = state.byAccessToken(bearer, now);
  if (!a || a.provider !== 'codex') return send(401, { detail: 'Unauthorized' }), true;
  if (method === 'GET' && (req.path === p.accountsCheck || req.path === p.whamAccountsCheck)) send(200, accountsCheck(a.accountId, a.plan));
  else if (method === 'GET' && (req.path === p.pluginsInstalled || req.path === p.pluginsList)) send(200, { plugins: [], pagination: { limit: Number(req.query.get('limit') ?? 1000), next_page_token: null } });
  else if (method === 'GET' && req.path === p.pluginsSuggested) send(200, { plugins: [] });
  else if (method === 'GET' && req.path === p.settings) send(200, {});
  else if (method === 'POST' && req.path === p.analytics) {
    state.codexAnalyticsEvents += ((JSON.parse(req.body || '{}').events as unknown[]) ?? []).length;
    send(200, {});
  } else if (method === 'POST' && req.path === p.mcp) {
    const r = mcp(req.body);
    send(r.status, r.body);
  } else send(405, { detail: 'Method Not Allowed' });
  return true;
}
