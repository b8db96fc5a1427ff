import type { Command } from 'commander';
import { loadCli, type GlobalOpts } from './context.js';
import { loadConfig } from '../config/load.js';
import { Daemon } from '../daemon.js';
import { createLogger } from '../util/log.js';

export function registerRun(program: Command, g: () => GlobalOpts): void {
  program.command('run').description('start the appliance in the foreground (systemd runs this)').action(async () => {
    const loaded = loadCli(g());
    const logger = createLogger({ level: loaded.config.logLevel });
    for (const w of loaded.warnings) logger.warn('config.warning', { warning: w });
    const daemon = await Daemon.start({ config: loaded.config, configPath: loaded.path, logger });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('daemon.signal', { signal });
      try {
        await daemon.stop(30_000);
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
      } catch (e) {
        logger.error('config.reload_failed', { error: (e as Error).message, note: 'keeping the previous configuration' });
      }
    });
    await new Promise(() => {}); // runs until a signal
  });
}
