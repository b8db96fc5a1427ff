/**
 * The daemon for bench/storm, as a subprocess: the real Daemon (SMTP receiver, group commit,
 * SQLite, dispatcher, escalation policy) with a fake-fast voice channel standing in for the PBX,
 * so the figures are Alertline's and not a phone network's. Every call start is printed on stdout
 * as one JSON line: {"call": {"at", "to", "alert", "more"}}.
 * Usage: node dist/bench/lib/storm-daemon.js CONFIG CALL_MS LINES
 */
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/util/log.js';
import type { Channel, DeliveryJob, Outcome } from '../../src/channels/channel.js';

const [confPath, callMsArg, linesArg] = process.argv.slice(2);
const callMs = Number(callMsArg ?? 3000);
const lines = Number(linesArg ?? 4);

const voice: Channel = {
  name: 'voip',
  kind: 'voice',
  capacity: lines,
  address: (r) => r.sip ?? null,
  health: () => ({ healthy: true, detail: 'fake PBX' }),
  deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    process.stdout.write(JSON.stringify({ call: { at: Date.now(), to: job.recipient.email, alert: job.alert.id, more: job.moreAlerts } }) + '\n');
    return new Promise((resolve) => {
      // The person listens to the message and presses 1.
      const t = setTimeout(() => resolve({ kind: 'acknowledged', reason: 'key 1', retryable: false }), callMs);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve({ kind: 'failed', reason: 'aborted', retryable: false });
      }, { once: true });
    });
  },
};

async function main() {
  const loaded = loadConfig(confPath);
  const logger = createLogger({ level: loaded.config.logLevel, write: (l) => process.stderr.write(l + '\n') });
  const daemon = await Daemon.start({ config: loaded.config, configPath: loaded.path, logger, factories: { voip: async () => voice } });
  await daemon.channelsReady;
  process.stdout.write(JSON.stringify({ ready: { port: daemon.smtpPort(), pid: process.pid } }) + '\n');
  process.on('SIGTERM', () => void daemon.stop(0).then(() => process.exit(0)));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
