import { Command, CommanderError, Option } from 'commander';
import { ExitError, EXIT_FAILED, EXIT_USAGE } from './errors.js';
import { writeErr, writeOut } from './log.js';
import { escapeControl, redact } from './util/secrets.js';
import { version } from './version.js';
import type { GlobalOptions } from './commands/context.js';

/**
 * The command line. Command modules are imported only when their command runs. This file is the only
 * place that calls process.exit.
 */
const program = new Command('refresher')
  .description('Keeps LLM subscription accounts usable from cron: OAuth tokens, usage windows, quotas.')
  .version(version())
  .option('--home <dir>', 'home directory (default: $REFRESHER_HOME, $XDG_DATA_HOME/refresher, ~/.local/share/refresher)')
  .option('--config <file>', 'config file (default: <home>/config.yaml; optional)')
  .option('--quiet', 'print only warnings and errors')
  // one style for every error: `refresher: …`, then where the usage is, not 30 lines of it
  .showHelpAfterError('(run it with --help for its usage)')
  .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'refresher: ')) })
  .configureHelp({ showGlobalOptions: true })
  .exitOverride();

const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;
const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const nowOption = () => new Option('--now <time>', 'pretend it is this time (ISO 8601 or epoch ms); for looking only (tick: with --dry-run)');

let exitCode = 0;

program
  .command('status')
  .description('one table: every account, its state, and what is due next and why')
  .option('--json', 'print a JSON array instead of a table (= --format json)')
  .option('--format <table|json|prometheus>', 'prometheus: the node_exporter textfile-collector format')
  .option('--output <file>', 'with --format prometheus: write the file atomically instead of printing it')
  .addOption(nowOption())
  .option('--all', 'also show proxy, priority, other usage windows and the last failure')
  .option('--wide', 'on a terminal, every column (by default the table fits the terminal, as ps does; COLUMNS is honoured)')
  .option('--no-color', 'no colours (NO_COLOR is honoured too)')
  .addHelpText(
    'after',
    examples(['refresher status', 'refresher status --json --now 2026-11-23T09:00:00Z', 'refresher status --all', 'refresher status --format prometheus --output /var/lib/node_exporter/textfile_collector/refresher.prom']),
  )
  .action(async (opts, cmd: Command) => {
    const { status } = await import('./commands/status.js');
    exitCode = await status(globals(cmd), opts);
  });

program
  .command('tick')
  .description('do what is due now (run it from cron every minute); exit 0 ok, 1 something failed, 2 usage/config error')
  .option('--json', 'print one JSON document on stdout')
  .addOption(nowOption())
  .option('--account <id>', 'only this account (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--dry-run', 'print what would be done and why; sends nothing, writes nothing')
  .addHelpText(
    'after',
    examples(['refresher tick', 'refresher tick --dry-run', 'refresher tick --dry-run --now 2026-11-23T09:00:00Z', 'refresher tick --json --account work-max']),
  )
  .action(async (opts, cmd: Command) => {
    const { tick } = await import('./commands/tick.js');
    exitCode = await tick(globals(cmd), opts);
  });

program
  .command('refresh')
  .description('run the chosen actions for one account now, due or not (all that apply if none is named)')
  .argument('<id>', 'account id')
  .option('--token', 'refresh the OAuth token')
  .option('--window', 'start a usage window (anthropic)')
  .option('--quota', 'update the quota snapshot')
  .option('--json', 'print a JSON report')
  .addHelpText('after', examples(['refresher refresh work-max', 'refresher refresh work-max --token']))
  .action(async (id: string, opts, cmd: Command) => {
    const { refresh } = await import('./commands/refresh.js');
    exitCode = await refresh(globals(cmd), id, opts);
  });

program
  .command('demo')
  .description('see it work with no real account: a local simulator, a temporary home, a real tick')
  .option('--keep', 'keep the home and the simulator running until Ctrl-C, to try more commands against it')
  .addHelpText('after', examples(['refresher demo', 'refresher demo --keep']))
  .action(async (opts) => {
    const { demo } = await import('./commands/demo.js');
    exitCode = await demo(opts);
  });

program
  .command('serve')
  .description('a local forwarding proxy over the accounts: /v1/* (anthropic), /codex/*, /grok/*; records each use')
  .option('--host <address>', 'where to listen (default: serve.host, 127.0.0.1); another address needs client keys')
  .option('--port <n>', 'the port (default: serve.port, 8787)')
  .option('--api-key-file <file>', 'client keys, one per line (never on the command line)')
  .addHelpText('after', examples(['refresher serve', 'ANTHROPIC_BASE_URL=http://127.0.0.1:8787 claude', 'refresher serve --host 0.0.0.0 --api-key-file ~/.config/refresher/keys']))
  .action(async (opts, cmd: Command) => {
    const { serve } = await import('./commands/serve.js');
    exitCode = await serve(globals(cmd), opts);
  });

program
  .command('connect')
  .description('point Claude Code (~/.claude/settings.json) or the Codex CLI ($CODEX_HOME/config.toml) at `refresher serve`, and back, exactly as it was')
  .argument('<claude|codex>', 'which client')
  .option('--off', 'back to what the file said before refresher (byte for byte when nothing else changed)')
  .option('--status', 'direct, through refresher, or elsewhere')
  .option('--url <url>', 'the serve URL (default: from serve.host and serve.port)')
  .option('--json', 'print --status as JSON')
  .addHelpText('after', examples(['refresher connect claude', 'refresher connect claude --status', 'refresher connect claude --off', 'refresher connect codex', 'refresher connect codex --status']))
  .action(async (target: string, opts, cmd: Command) => {
    const { connectCommand } = await import('./commands/connect.js');
    exitCode = await connectCommand(globals(cmd), target, opts);
  });

program
  .command('doctor')
  .description('check everything that could stop accounts being maintained; each problem comes with the command that fixes it')
  .option('--json', 'print the checks as JSON')
  .option('--fix', 'apply the safe fixes: file modes, and locks whose owner is gone')
  .option('--offline', 'skip the checks that talk to the upstreams and proxies')
  .addHelpText('after', examples(['refresher doctor', 'refresher doctor --fix', 'refresher doctor --json --offline']))
  .action(async (opts, cmd: Command) => {
    const { doctor } = await import('./commands/doctor.js');
    exitCode = await doctor(globals(cmd), opts);
  });

program
  .command('notify')
  .description('the notify channels in the config')
  .command('test')
  .description('send a test message to every notify channel now and print each result (exit 1 when one failed)')
  .option('--json', 'print the results as JSON')
  .addHelpText('after', examples(['refresher notify test']))
  .action(async (opts, cmd: Command) => {
    const { notifyTest } = await import('./commands/notify.js');
    exitCode = await notifyTest(globals(cmd), opts);
  });

program
  .command('schedule')
  .description('print (or install) the systemd timer or the crontab line that runs `refresher tick`, and with --serve a service for `refresher serve`')
  .argument('<systemd|cron>', 'which scheduler')
  .option('--every <period>', 'how often: 1m, 2m, 5m, … or 1h, 2h, …', '1m')
  .option('--user', 'systemd: user units (~/.config/systemd/user) instead of system units')
  .option('--install', 'write the units, or add the line to your crontab')
  .option('--force', 'replace a different existing unit or crontab line')
  .option('--dir <dir>', 'systemd: write the units here instead')
  .option('--serve', 'systemd: also a service that keeps `refresher serve` running')
  .addHelpText('after', examples(['refresher schedule systemd --user', 'refresher schedule systemd --user --install', 'refresher schedule systemd --user --serve --install', 'refresher schedule cron --every 5m', 'refresher schedule cron --install']))
  .action(async (kind: string, opts, cmd: Command) => {
    const { schedule } = await import('./commands/schedule.js');
    exitCode = await schedule(globals(cmd), kind, opts);
  });

const account = program.command('account').description('add, import, list, change and remove accounts');
const collect = (v: string, prev: string[] = []) => [...prev, v];

account
  .command('add')
  .description('add an account: OAuth login (anthropic, codex), or secrets from stdin / --secrets-file (never argv)')
  .argument('<provider>', 'anthropic, codex or grok')
  .option('--login', 'log in with OAuth (PKCE) instead of pasting tokens')
  .option('--name <id>', 'the account id (default with --login: made from the email)')
  .option('--port <n>', 'codex --login: the local callback port', '1455')
  .option('--no-browser', 'codex --login: only print the URL')
  .option('--timeout <seconds>', 'codex --login: how long to wait for the callback', '300')
  .option('--secrets-file <file>', 'read the secrets from this file instead of stdin')
  .option('--label <text>', 'a label for people')
  .option('--proxy <url>', 'the account proxy (also used for the login)')
  .option('--force', 'replace an existing account with this id, or with the same identity')
  .option('--setup-token', 'anthropic: the access token is a setup token (`claude setup-token`): no refresh token, about a year')
  .option('--json', 'print the result as JSON')
  .addHelpText(
    'after',
    examples([
      'refresher account add anthropic --login',
      'refresher account add codex --login --no-browser',
      'refresher account add grok --name grok-1 < sso.txt',
      'refresher account add anthropic --name work --secrets-file tokens.json',
      'claude setup-token | refresher account add anthropic --name ci --setup-token',
    ]) +
      `
What goes on stdin (or in --secrets-file), never on the command line:
  anthropic  JSON {"accessToken", "refreshToken", "expiresAt": <epoch ms>, "email"?}
             (or, with --setup-token, the token alone as \`claude setup-token\` prints it)
  codex      JSON {"accessToken", "refreshToken", "idToken", "accountId", "expiresAt"?} (snake_case works too)
  grok       a cookie line "sso=…; sso-rw=…", JSON {"sso", "ssoRw"}, or the bare sso value
To bring in the logins of Claude Code and the Codex CLI, use \`refresher account import\` instead.
`,
  )
  .action(async (provider: string, opts, cmd: Command) => {
    const { accountAdd } = await import('./commands/account-add.js');
    exitCode = await accountAdd(globals(cmd), provider, opts);
  });

account
  .command('import')
  .description('import token files of the official CLIs and other tools; Claude Code and Codex CLI files stay linked')
  .option('--from <path>', 'a file or directory to import (repeatable; default: ~/.claude/.credentials.json, ~/.codex/auth.json)', collect)
  .option('--dry-run', 'list what would be imported (ids and providers only)')
  .option('--no-link', 'make detached copies of the official CLIs\' tokens (see the warning it prints)')
  .option('--json', 'print the result as JSON')
  .addHelpText('after', examples(['refresher account import', 'refresher account import --from ~/grok2api/data/token.json', 'refresher account import --from ./exports --dry-run']))
  .action(async (opts, cmd: Command) => {
    const { accountImport } = await import('./commands/account-import.js');
    exitCode = await accountImport(globals(cmd), opts);
  });

account
  .command('list')
  .description('every account with its settings and link')
  .option('--json', 'print a JSON array')
  .option('--no-color', 'no colours')
  .addHelpText('after', examples(['refresher account list', 'refresher account list --json']))
  .action(async (opts, cmd: Command) => {
    const { accountList } = await import('./commands/account-list.js');
    exitCode = await accountList(globals(cmd), opts);
  });

account
  .command('set')
  .description("change an account's settings (under its lock: a running tick loses nothing)")
  .argument('<id>', 'account id')
  .option('--auto-refresh <on|off>', 'let tick maintain the account')
  .option('--paused <on|off>', 'pause the account')
  .option('--proxy <url|direct|default>', 'the account proxy; direct = none; default = the config')
  .option('--endpoint <url|default>', 'a custom API base URL; default = providers.<provider>.api_base')
  .option('--priority <n>', 'lower is first, by tick and by serve (1 before 2; default 0)')
  .option('--label <text>', 'a label for people ("" clears it)')
  .option('--last-used <now|time>', 'record a use made outside refresher (quota is refreshed an hour after the last use)')
  .option('--window <on>', 'anthropic: start usage windows again after the provider refused one')
  .option('--window-method <message|claude-cli|default>', 'anthropic: how a window is started (see the README)')
  .option('--json', 'print the result as JSON')
  .addHelpText(
    'after',
    examples(['refresher account set work-max --paused on --proxy socks5h://127.0.0.1:1080 --priority 1', 'refresher account set work-max --proxy default', 'refresher account set grok-1 --last-used now']),
  )
  .action(async (id: string, opts, cmd: Command) => {
    const { accountSet } = await import('./commands/account-set.js');
    exitCode = await accountSet(globals(cmd), id, opts);
  });

account
  .command('remove')
  .description('remove an account file (a linked source file is never touched)')
  .argument('<id>', 'account id')
  .option('--yes', 'do not ask (required without a terminal)')
  .option('--json', 'print the result as JSON')
  .addHelpText('after', examples(['refresher account remove work-max --yes']))
  .action(async (id: string, opts, cmd: Command) => {
    const { accountRemove } = await import('./commands/account-remove.js');
    exitCode = await accountRemove(globals(cmd), id, opts);
  });

// A function, not top-level await: the bundle is CommonJS (see build.mjs).
async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
    process.exitCode = exitCode;
  } catch (e) {
    // With --json, a usage or config error is also a document on stdout; the exit code is the same.
    const asJson = (code: number, message: string) => {
      if (process.argv.includes('--json')) writeOut(JSON.stringify({ error: { code, message: redact(message) } }, null, 2) + '\n');
    };
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      if (e.exitCode !== 0) asJson(EXIT_USAGE, e.message.replace(/^error: /, ''));
      process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    if (e instanceof ExitError) {
      writeErr(escapeControl(redact(`refresher: ${e.message}`), true) + '\n');
      asJson(e.code, e.message);
      process.exit(e.code);
    }
    writeErr(redact(`refresher: unexpected error: ${(e as Error).stack ?? String(e)}`) + '\n');
    process.exit(EXIT_FAILED);
  }
}
void main();
