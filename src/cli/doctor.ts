/** `alertline doctor [--json]`: checks config, data dir, SMTP port, TTS, relay, modem and SIP registration; exit 1 if any fails. */
import type { Command } from 'commander';
import { CliError, printJson, type GlobalOpts } from './context.js';
import { locateConfig } from '../config/load.js';
import { termSafeText } from '../util/terminal.js';

export function registerDoctor(program: Command, g: () => GlobalOpts): void {
  program
    .command('doctor')
    .description('check config, data dir, SMTP port, TTS, mail relay, GSM modem and SIP registration')
    .option('--json', 'machine-readable output')
    .action(async (f: { json?: boolean }) => {
      const opts = g();
      // The same lookup as `run` (--config, $ALERTLINE_CONFIG, /etc/alertline, ./config): one function.
      const where = locateConfig(opts.config, process.env);
      const [{ formatDoctorReport, runDoctor }, { modemProbe, sipProbe }] = await Promise.all([
        import('../appliance/doctor-checks.js'), import('../appliance/doctor-channel-probes.js'),
      ]);
      const report = await runDoctor({
        ...(where.path ? { configPath: where.path } : {}),
        env: process.env,
        probes: { modem: modemProbe(), sip: sipProbe() },
      });
      if (f.json) printJson(report);
      else process.stdout.write(termSafeText(formatDoctorReport(report)) + '\n');
      if (!report.ok) throw new CliError('', 1);
    });
}
