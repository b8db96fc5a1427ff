/**
 * alertline: the command line. Exit status 0 on success, 1 on failure, 2 on usage error
 * (unknown command or flag, malformed e-mail, phone not E.164, unknown channel, a number out of
 * range, `--config ""`...). Command modules load lazily: see program.ts.
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { CliError } from './errors.js';
import { termSafeText } from '../util/terminal.js';

function report(message: string): void {
  if (message) process.stderr.write(`alertline: ${termSafeText(message)}\n`);
}

/** A reader that went away (`alertline alerts list | head`) ends the output, not the command (as console.log does). */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

export async function main(argv = process.argv): Promise<number> {
  ignoreClosedPipe(process.stdout);
  ignoreClosedPipe(process.stderr);
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof CliError) {
      report(e.message);
      return e.exitCode;
    }
    // By name: importing their modules here would load them for every command (and --help).
    const name = (e as Error)?.name;
    if (name === 'ValidationError') {
      report((e as Error).message);
      return 2;
    }
    if (name === 'ConfigError') {
      report((e as Error).message);
      return (e as { usage?: boolean }).usage ? 2 : 1;
    }
    report((e as Error)?.message ?? String(e));
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
