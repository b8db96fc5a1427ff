/**
 * The command table. Every command is known here by name, help line and description only; the
 * module that implements it (and what that module imports: SQLite, the daemon, mail parsing,
 * speech, the serial port...) is imported only when that command runs or shows its own help.
 * `alertline --help` therefore loads commander and this file, nothing else.
 *
 * The terms and descriptions below repeat what each module registers; test/cli/lazy.test.ts
 * checks that they agree.
 */
import { Command, Help } from 'commander';
import { createRequire } from 'node:module';
import { termSafeText } from '../util/terminal.js';
import type { GlobalOpts } from './context.js';
import { CliError } from './errors.js';

type Register = (program: Command, g: () => GlobalOpts) => void;

export interface CommandEntry {
  name: string;
  /** The line `alertline --help` shows for it, as commander writes it: `ack [options] <id>`. */
  term: string;
  description: string;
  load: () => Promise<Register>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'run', term: 'run', description: 'start the appliance in the foreground (systemd runs this)', load: async () => (await import('./run.js')).registerRun },
  { name: 'users', term: 'users', description: 'manage the people Alertline notifies', load: async () => (await import('./users.js')).registerUsers },
  { name: 'groups', term: 'groups', description: 'groups of users (mail to <group>@... reaches every member) and their channel order', load: async () => (await import('./users.js')).registerGroups },
  { name: 'channels', term: 'channels', description: 'which channels are used, and in which order', load: async () => (await import('./channels.js')).registerChannels },
  { name: 'settings', term: 'settings', description: 'runtime settings kept in the database (override the file)', load: async () => (await import('./settings.js')).registerSettings },
  { name: 'alerts', term: 'alerts', description: 'alert history', load: async () => (await import('./alerts.js')).registerAlerts },
  { name: 'ack', term: 'ack [options] <id>', description: 'acknowledge an alert by hand: stops every pending call and message for it', load: async () => (await import('./alerts.js')).registerAck },
  { name: 'send-test', term: 'send-test [options] <email>', description: 'queue a test alert for one user (the running daemon delivers it)', load: async () => (await import('./send-test.js')).registerSendTest },
  { name: 'status', term: 'status [options]', description: 'live state of the running daemon', load: async () => (await import('./status.js')).registerStatus },
  { name: 'say', term: 'say [options] <text>', description: 'synthesize a prompt (8 kHz WAV) to check how calls will sound', load: async () => (await import('./extra.js')).registerExtra },
  { name: 'doctor', term: 'doctor [options]', description: 'check config, data dir, SMTP port, TTS, mail relay, GSM modem and SIP registration', load: async () => (await import('./doctor.js')).registerDoctor },
  { name: 'config', term: 'config', description: 'check the configuration file (the one run would use)', load: async () => (await import('./config.js')).registerConfig },
  { name: 'oncall', term: 'oncall [options] [schedule]', description: 'who is on call now (or at --at), per layer', load: async () => (await import('./oncall.js')).registerOncall },
  { name: 'schedules', term: 'schedules', description: 'on-call rotations: layers (primary, secondary, ...) of members handing off at a local time', load: async () => (await import('./oncall.js')).registerSchedules },
  { name: 'overrides', term: 'overrides', description: 'someone else on call for a while (swaps, cover)', load: async () => (await import('./oncall.js')).registerOverrides },
  { name: 'policies', term: 'policies', description: 'escalation policies: who is notified, how long to wait for an acknowledgement, who next', load: async () => (await import('./policies.js')).registerPolicies },
  { name: 'routes', term: 'routes', description: 'which policy mail to an address uses (noc@… → policy noc), optionally only for some hosts, subjects or severities', load: async () => (await import('./policies.js')).registerRoutes },
  { name: 'backup', term: 'backup [options] <file>', description: 'online copy of the database (safe while the daemon runs), checked before it is kept', load: async () => (await import('./backup.js')).registerBackup },
  { name: 'restore', term: 'restore [options] <file>', description: 'replace the database with a backup (daemon stopped); the current one is kept as alertline.db.bak', load: async () => (await import('./backup.js')).registerRestore },
  { name: 'migrate-store', term: 'migrate-store [options]', description: 'copy every row from one store engine to another (daemon stopped): --from sqlite --to postgres moves a box to a shared PostgreSQL', load: async () => (await import('./migrate-store.js')).registerMigrateStore },
  { name: 'tokens', term: 'tokens', description: 'API tokens (Authorization: Bearer) for webhooks, scripts and the HTTP API', load: async () => (await import('./tokens.js')).registerTokens },
  { name: 'heartbeats', term: 'heartbeats', description: 'dead-man\'s switches: a monitor that stops pinging raises "monitor <name> went quiet"', load: async () => (await import('./heartbeats.js')).registerHeartbeats },
  { name: 'web-users', term: 'web-users', description: 'logins for the web console (viewer reads, responder acts on alerts, admin manages)', load: async () => (await import('./web-users.js')).registerWebUsers },
  { name: 'silences', term: 'silences', description: 'maintenance windows: matching alerts are kept, shown as silenced, not delivered', load: async () => (await import('./silences.js')).registerSilences },
];

/**
 * The command a command line names: the first word that is not an option (skipping --config's
 * value); for `help <command>`, that command. Undefined for `alertline`, `--help`, `--version`.
 */
export function commandNamed(argv: readonly string[]): string | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') {
      if (argv[i + 1] !== undefined) words.push(argv[i + 1]!);
      break;
    }
    if (a === '--config') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    words.push(a);
    if (words[0] !== 'help') break;
  }
  return words[0] === 'help' ? words[1] : words[0];
}

const require = createRequire(import.meta.url);

/** The package version, from dist/src/cli (built) or src/cli (tests run the sources). */
function packageVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const p = require(rel) as { name?: string; version?: string };
      if (p.name === 'alertline' && p.version) return p.version;
    } catch {
      /* not at this level */
    }
  }
  return 'unknown';
}

/**
 * The program for one command line (`argv` as in process.argv). `all` registers every module for
 * real (tests compare it with the lazy program).
 */
export async function buildProgram(argv: readonly string[] = process.argv, opts: { all?: boolean } = {}): Promise<Command> {
  const program = new Command('alertline')
    .description('Alert e-mail in; phone calls, SMS and relayed mail out, until someone acknowledges.')
    .version(packageVersion())
    .option('--config <file>', 'config file (default: $ALERTLINE_CONFIG, /etc/alertline/alertline.yaml, config/alertline.yaml)')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(termSafeText(s)) })
    .exitOverride();
  const g = (): GlobalOpts => program.opts<GlobalOpts>();
  const wanted = opts.all ? null : commandNamed(argv.slice(2));
  const stubTerms = new WeakMap<Command, string>();
  const loaded = new Set<Register>();
  for (const c of COMMANDS) {
    if (opts.all || c.name === wanted) {
      const register = await c.load();
      if (!loaded.has(register)) register(program, g);
      loaded.add(register);
      continue;
    }
    // Named in help only; never run (a command line naming it loads the real one above).
    const stub = program.command(c.name).description(c.description).allowUnknownOption().allowExcessArguments()
      .action(() => {
        throw new CliError(`internal error: command ${c.name} was not loaded`, 1);
      });
    stubTerms.set(stub, c.term);
  }
  program.configureHelp({
    subcommandTerm(cmd: Command): string {
      return stubTerms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
    },
  });
  program.commands.forEach(function exitOverrideAll(c: Command) {
    c.exitOverride();
    c.configureOutput({ writeErr: (s) => process.stderr.write(termSafeText(s)) });
    c.commands.forEach(exitOverrideAll);
  });
  return program;
}
