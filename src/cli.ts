import { Command, CommanderError, Option } from 'commander';
import { ExitError, EXIT_FAILED, EXIT_USAGE } from './errors.js';
import { writeErr } from './log.js';
import { redact } from './util/secrets.js';
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
  .showHelpAfterError()
  .exitOverride();

const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;
const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const nowOption = () => new Option('--now <time>', 'pretend it is this time (ISO 8601 or epoch ms)');

let exitCode = 0;

program
  .command('status')
  .description('one table: every account, its state, and what is due next and why')
  .option('--json', 'print a JSON array instead of a table')
  .addOption(nowOption())
  .option('--all', 'also show proxy, priority and the last failure')
  .option('--no-color', 'no colours (NO_COLOR is honoured too)')
  .addHelpText('after', examples(['refresher status', 'refresher status --json --now 2026-11-23T09:00:00Z', 'refresher status --all']))
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
  .option('--keep', 'keep the temporary home and print its path')
  .addHelpText('after', examples(['refresher demo']))
  .action(async (opts) => {
    const { demo } = await import('./commands/demo.js');
    exitCode = await demo(opts);
  });

try {
  await program.parseAsync(process.argv);
  process.exitCode = exitCode;
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors were already printed by commander.
    process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  if (e instanceof ExitError) {
    writeErr(redact(`refresher: ${e.message}`) + '\n');
    process.exit(e.code);
  }
  writeErr(redact(`refresher: unexpected error: ${(e as Error).stack ?? String(e)}`) + '\n');
  process.exit(EXIT_FAILED);
}
