/**
 * alertline: the command line. Exit status 0 on success, 1 on failure, 2 on usage error
 * (unknown command or flag, malformed e-mail, phone not E.164, unknown channel...).
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { CliError, type GlobalOpts } from './context.js';
import { ConfigError } from '../config/load.js';
import { ValidationError } from '../store/user-fields.js';
import { registerUsers, registerGroups } from './users.js';
import { registerChannels } from './channels.js';
import { registerSettings } from './settings.js';
import { registerAlerts, registerAck } from './alerts.js';
import { registerSendTest } from './send-test.js';
import { registerStatus } from './status.js';
import { registerRun } from './run.js';
import { registerExtra } from './extra.js';
import { registerDoctor } from './doctor.js';
import { registerTokens } from './tokens.js';
import { registerHeartbeats } from './heartbeats.js';

const require = createRequire(import.meta.url);
const pkg = require('../../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('alertline')
    .description('Alert e-mail in; phone calls, SMS and relayed mail out, until someone acknowledges.')
    .version(pkg.version)
    .option('--config <file>', 'config file (default: $ALERTLINE_CONFIG, /etc/alertline/alertline.yaml, config/alertline.yaml)')
    .showHelpAfterError()
    .exitOverride();
  const g = (): GlobalOpts => program.opts<GlobalOpts>();
  registerRun(program, g);
  registerUsers(program, g);
  registerGroups(program, g);
  registerChannels(program, g);
  registerSettings(program, g);
  registerAlerts(program, g);
  registerAck(program, g);
  registerSendTest(program, g);
  registerStatus(program, g);
  registerExtra(program, g);
  registerDoctor(program, g);
  registerTokens(program, g);
  registerHeartbeats(program, g);
  program.commands.forEach(function exitOverrideAll(c: Command) {
    c.exitOverride();
    c.commands.forEach(exitOverrideAll);
  });
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof ValidationError) {
      process.stderr.write(`alertline: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CliError) {
      if (e.message) process.stderr.write(`alertline: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`alertline: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`alertline: ${(e as Error).message}\n`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
