import { Simulator } from '../../src/sim/server.js';
import { canary, expectNoCanary, watchSecrets } from './canary.js';
import { parseJson, runCli, startCli, waitForStderr, type CliResult } from './cli.js';
import { TempHome } from './home.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;

/**
 * A simulator plus a home whose config points at it, and helpers that register an account with the
 * simulator and write its file in one step. `secrets` collects every credential for leak checks.
 */
export class World {
  readonly sim = new Simulator();
  readonly home = new TempHome();
  readonly secrets: string[] = [];

  constructor() {
    watchSecrets(() => [...this.secrets, ...this.sim.state.issued]);
  }

  async start(extraConfig = 'request_delay_ms: 0\n'): Promise<this> {
    await this.sim.start();
    this.home.writeConfig(this.sim.configYaml(extraConfig));
    return this;
  }

  async stop(): Promise<void> {
    await this.sim.stop();
    this.home.cleanup();
  }

  anthropic(id: string, o: { expiresIn?: number; fields?: Record<string, unknown> } = {}) {
    const now = Date.now();
    const c = this.sim.state.addOAuth('anthropic', `${id}@example.com`, now);
    this.secrets.push(c.accessToken, c.refreshToken);
    this.home.writeAccount({
      id,
      provider: 'anthropic',
      credentials: { accessToken: c.accessToken, refreshToken: c.refreshToken, expiresAt: now + (o.expiresIn ?? 6 * HOUR) },
      rateLimitReset: now + 3 * HOUR,
      quota: { checkedAt: now },
      ...o.fields,
    });
    return c;
  }

  codex(id: string, o: { expiresIn?: number; fields?: Record<string, unknown> } = {}) {
    const now = Date.now();
    const c = this.sim.state.addOAuth('codex', `${id}@example.com`, now);
    this.secrets.push(c.accessToken, c.refreshToken, c.idToken);
    this.home.writeAccount({
      id,
      provider: 'codex',
      credentials: { accessToken: c.accessToken, refreshToken: c.refreshToken, idToken: c.idToken, accountId: c.account.accountId, expiresAt: now + (o.expiresIn ?? 6 * HOUR) },
      quota: { checkedAt: now },
      ...o.fields,
    });
    return c;
  }

  grok(id: string, o: { fields?: Record<string, unknown>; normal?: number; heavy?: number } = {}) {
    const g = this.sim.state.addGrok(o.normal, o.heavy);
    this.secrets.push(g.sso, g.ssoRw);
    this.home.writeAccount({ id, provider: 'grok', credentials: { sso: g.sso, ssoRw: g.ssoRw }, quota: { checkedAt: Date.now() }, ...o.fields });
    return g;
  }

  args(...rest: string[]): string[] {
    return ['--home', this.home.dir, ...rest];
  }

  /** Runs the CLI on this home with info logs on, and fails the test if any known secret shows up. */
  async run(args: string[], o: { input?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
    const r = await runCli(this.args(...args), { input: o.input, env: { LOG_LEVEL: 'info', ...o.env } });
    expectNoSecrets(r.stdout + r.stderr, this.secrets);
    return r;
  }

  /** `tick --json …` with its document parsed. */
  async tick(...extra: string[]): Promise<CliResult & { doc: any }> {
    const r = await this.run(['tick', '--json', ...extra]);
    return { ...r, doc: parseJson(r) };
  }
}

export function expectNoSecrets(text: string, secrets: string[]): void {
  canary(...secrets);
  expectNoCanary(text);
}

/** `refresher serve` over the world's home on a free port, as a real process; stop() sends SIGTERM. */
export async function startServe(w: World, extra: string[] = [], env: Record<string, string> = {}) {
  const h = startCli(w.args('serve', '--port', '0', ...extra), { env: { LOG_LEVEL: 'info', ...env } });
  const [, url] = await waitForStderr(h, /listening on (http:\/\/\S+)/, 15_000);
  return { ...h, url: url!, stop: async () => (h.child.kill('SIGTERM'), h.done) };
}
