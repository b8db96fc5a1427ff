/**
 * The daemon for bench/latency, as a subprocess: the real Daemon with its real channels (gsm to
 * the SIM900 simulator's pty, voip to sipp, the espeak speech service and its prompt cache).
 * Prints {"ready": {"port", "pid"}} on stdout once the channels are up.
 * Usage: node dist/bench/lib/latency-daemon.js CONFIG
 */
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/util/log.js';

async function main() {
  const loaded = loadConfig(process.argv[2]!);
  const logger = createLogger({ level: loaded.config.logLevel, write: (l) => process.stderr.write(l + '\n') });
  const daemon = await Daemon.start({ config: loaded.config, configPath: loaded.path, logger });
  await daemon.channelsReady;
  for (let i = 0; i < 300; i++) {
    const chans = Object.values(daemon.channels.channels);
    if (chans.length && chans.every((c) => c?.health().healthy)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write(JSON.stringify({ ready: { port: daemon.smtpPort(), pid: process.pid } }) + '\n');
  process.on('SIGTERM', () => void daemon.stop(0).then(() => process.exit(0)));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
