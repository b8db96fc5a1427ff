import type { Command } from 'commander';
import { loadCli, type GlobalOpts } from './context.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../util/log.js';

export function registerRun(program: Command, g: () => GlobalOpts): void {
  program.command('run').description('start the appliance in the foreground (systemd runs this)').action(async () => {
    const loaded = loadCli(g(), ['dataDir', 'audioCacheDir']);
    // The daemon and everything it wires (SMTP, mail parsing, modem, SIP, speech): loaded only to run, not for `run --help`.
    const [{ Daemon }, { systemdSupervisionFromEnv }, { superviseDaemon }] = await Promise.all([
      import('../daemon.js'), import('../appliance/notifier.js'), import('../appliance/supervision.js'),
    ]);
    const logger = createLogger({ level: loaded.config.logLevel });
    for (const w of loaded.warnings) logger.warn('config.warning', { warning: w });
    // A bug must be loud, not fatal in the middle of someone's call: log it and keep serving.
    // (A truly stuck daemon stops feeding the systemd watchdog and gets restarted.)
    process.on('unhandledRejection', (e) => logger.error('bug.unhandled_rejection', { error: e instanceof Error ? `${e.message} ${e.stack?.split('\n')[1]?.trim() ?? ''}` : String(e) }));
    const systemd = systemdSupervisionFromEnv({ logger });
    const daemon = await Daemon.start({ config: loaded.config, configPath: loaded.path, logger, announce: (l) => process.stdout.write(`${l}\n`) });
    const supervisor = await superviseDaemon(daemon, { logger, systemd });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('daemon.signal', { signal });
      supervisor.stopping();
      try {
        await daemon.stop(30_000);
        await supervisor.close();
        process.exit(0);
      } catch (e) {
        logger.error('daemon.stop_failed', { error: e as Error });
        process.exit(1);
      }
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGHUP', () => {
      try {
        const next = loadConfig(g().config);
        for (const w of next.warnings) logger.warn('config.warning', { warning: w });
        daemon.reload(next.config);
        supervisor.reloaded();
      } catch (e) {
        logger.error('config.reload_failed', { error: (e as Error).message, note: 'keeping the previous configuration' });
      }
    });
    await new Promise(() => {}); // runs until a signal
  });
}
