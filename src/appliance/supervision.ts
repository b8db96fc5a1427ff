/**
 * Running under systemd: READY=1 once the daemon is up (SMTP listening, database open — i.e. after
 * Daemon.start resolved), then the health loop feeding WATCHDOG=1 every WATCHDOG_USEC/2 and keeping
 * STATUS= current, STOPPING=1 when shutdown begins. Outside systemd (no NOTIFY_SOCKET) it does
 * nothing. `alertline run` calls this right after Daemon.start.
 */
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { daemonHealthChecks, daemonStatusLine, type SupervisedDaemon } from './daemon-health.js';
import { eventLoopLagSampler, type LagSampler } from './event-loop-lag.js';
import { HealthLoop } from './health-loop.js';
import { systemdSupervisionFromEnv, type Notifier, type SystemdSupervision } from './notifier.js';

/** STATUS= refresh interval when systemd listens but has no watchdog configured. */
const STATUS_ONLY_INTERVAL_MS = 30_000;

export interface ApplianceSupervisor {
  readonly notifier: Notifier;
  /** The watchdog ping interval in use, or null. */
  readonly watchdogIntervalMs: number | null;
  /** After SIGHUP reloaded the config. */
  reloaded(): void;
  /** Shutdown begins: STOPPING=1, the health loop stops (no more WATCHDOG=1). */
  stopping(): void;
  /** Flushes what is queued for systemd (bounded). */
  close(): Promise<void>;
}

export interface SuperviseOptions {
  logger: Logger;
  /** From systemdSupervisionFromEnv() called before Daemon.start (default: read the environment now). */
  systemd?: SystemdSupervision;
  clock?: Clock;
  lag?: LagSampler;
  maxLagMs?: number;
}

export async function superviseDaemon(daemon: SupervisedDaemon, opts: SuperviseOptions): Promise<ApplianceSupervisor> {
  const logger = opts.logger.child({ part: 'systemd' });
  const systemd = opts.systemd ?? systemdSupervisionFromEnv({ logger });
  for (const p of systemd.problems) logger.warn('systemd.env_problem', { problem: p });
  const { notifier, watchdogIntervalMs } = systemd;
  const statusText = () => daemonStatusLine(daemon);
  let loop: HealthLoop | null = null;
  let lag: LagSampler | null = null;
  if (notifier.active) {
    let first: string;
    try {
      first = await statusText();
    } catch (e) {
      first = `running (${(e as Error).message})`;
    }
    notifier.ready(first);
    lag = opts.lag ?? eventLoopLagSampler();
    loop = new HealthLoop({
      notifier, clock: opts.clock ?? systemClock, logger,
      intervalMs: watchdogIntervalMs ?? STATUS_ONLY_INTERVAL_MS,
      watchdog: watchdogIntervalMs !== null,
      checks: daemonHealthChecks(daemon), lag, statusText,
      ...(opts.maxLagMs !== undefined ? { maxLagMs: opts.maxLagMs } : {}),
    });
    loop.start();
    logger.info('systemd.notify', { ready: true, watchdogIntervalMs: watchdogIntervalMs ?? 'off' });
  }
  let stopped = false;
  const sup: ApplianceSupervisor = {
    notifier,
    watchdogIntervalMs,
    reloaded() {
      void statusText().then((t) => { if (!stopped) notifier.status(`configuration reloaded; ${t}`); }, () => {});
    },
    stopping() {
      if (stopped) return;
      stopped = true;
      loop?.stop();
      lag?.stop();
      notifier.stopping('stopping: refusing new mail, finishing running calls');
    },
    async close() {
      if (!stopped) sup.stopping();
      await notifier.close();
    },
  };
  return sup;
}
