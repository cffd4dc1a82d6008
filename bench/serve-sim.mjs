// A simulator in a process of its own for bench/serve.mjs: prints {url, credentials} as one JSON line.
// argv[2] = bytes: /v1/messages answers every request with that many bytes of server-sent events.
// CODEX_DELAY_MS: the codex Responses endpoint pauses this long after each event (streams that stay open).
import { Simulator, SIM_PATHS } from '../dist/sim-entry.js';

const sim = new Simulator();
sim.state.anthropicTtlS = 30 * 86_400;
await sim.start();
const c = sim.state.addOAuth('anthropic', 'bench@example.com', Date.now());
const cx = sim.state.addOAuth('codex', 'bench-codex@example.com', Date.now());
if (process.env.CODEX_DELAY_MS) sim.state.codexDefault = { text: 'a translated answer of a few words', delayMs: Number(process.env.CODEX_DELAY_MS) };
const streamBytes = Number(process.argv[2] ?? 0);
if (streamBytes) sim.fault(SIM_PATHS.messages, { streamBytes, times: Infinity });
// The request log would grow for ever under load.
setInterval(() => (sim.requests.length = 0), 1000).unref();
process.stdout.write(JSON.stringify({ url: sim.url, config: sim.configYaml('request_delay_ms: 0\n'), credentials: { accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: c.expiresAt }, codex: { accessToken: cx.accessToken, refreshToken: cx.refreshToken, idToken: cx.idToken, accountId: cx.account.accountId, expiresAt: cx.expiresAt } }) + '\n');
