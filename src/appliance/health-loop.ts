/**
 * The health loop behind the systemd watchdog: every interval it measures event-loop lag and runs
 * the daemon's health checks (the database answers, the SMTP listener is up); only when all pass
 * does it send WATCHDOG=1. A daemon that is wedged — loop blocked, database gone, listener dead —
 * stops feeding the watchdog and systemd restarts it (WatchdogSec=, Restart=on-failure).
 * It also keeps STATUS= current (shown by `systemctl status alertline`), sending it only when it
 * changes. Time comes from an injected Clock; lag from an injected sampler.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { LagSampler } from './event-loop-lag.js';
import type { Notifier } from './notifier.js';

export interface HealthCheck {
  name: string;
  /** null when healthy, else what is wrong (one short line). May throw: that counts as a problem. */
  run(): string | null | Promise<string | null>;
}

export interface HealthReport {
  healthy: boolean;
  lagMs: number;
  problems: string[];
  /** Whether WATCHDOG=1 went out on this tick. */
  fedWatchdog: boolean;
}

export interface HealthLoopOptions {
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  /** Time between ticks (WATCHDOG_USEC/2 under a watchdog). */
  intervalMs: number;
  /** Send WATCHDOG=1 on healthy ticks (false: only keep STATUS= current). */
  watchdog: boolean;
  checks: HealthCheck[];
  lag: LagSampler;
  /** Event-loop lag above this makes the tick unhealthy (default 5 s). */
  maxLagMs?: number;
  /** A check that takes longer than this is a problem (default 5 s). */
  checkTimeoutMs?: number;
  /** The STATUS= line while healthy. */
  statusText?: () => string | Promise<string>;
}

export class HealthLoop {
  private cancelTimer: (() => void) | null = null;
  private running = false;
  private stopped = false;
  private ticking = false;
  private lastStatus: string | null = null;
  private wasHealthy = true;
  private ticks = 0;

  constructor(private readonly opts: HealthLoopOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError('health loop interval must be positive');
  }

  /** Ticks once now, then every intervalMs until stop(). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  get tickCount(): number {
    return this.ticks;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.cancelTimer = this.opts.clock.setTimer(() => {
      this.cancelTimer = null;
      const started = this.opts.clock.now();
      void this.tick().finally(() => {
        const spent = this.opts.clock.now() - started;
        this.schedule(Math.max(0, this.opts.intervalMs - spent));
      });
    }, ms);
  }

  /** One round: measure, check, feed the watchdog if healthy, update STATUS=. Never rejects. */
  async tick(): Promise<HealthReport> {
    if (this.ticking) return { healthy: false, lagMs: 0, problems: ['previous health check still running'], fedWatchdog: false };
    this.ticking = true;
    try {
      this.ticks++;
      const problems: string[] = [];
      const lagMs = Math.round(this.opts.lag.takeMaxMs());
      const maxLag = this.opts.maxLagMs ?? 5000;
      if (lagMs > maxLag) problems.push(`event loop blocked for ${lagMs} ms (limit ${maxLag} ms)`);
      const results = await Promise.all(this.opts.checks.map((c) => this.runCheck(c)));
      for (const r of results) if (r) problems.push(r);
      const healthy = problems.length === 0;
      // Stopped while the checks ran (shutdown began): report, but say nothing more to systemd.
      let fed = false;
      if (healthy && this.opts.watchdog && !this.stopped) {
        this.opts.notifier.watchdog();
        fed = true;
      }
      if (healthy !== this.wasHealthy) {
        if (healthy) this.opts.logger.info('health.recovered', {});
        else this.opts.logger.warn('health.unhealthy', { problems: problems.join('; '), watchdog: this.opts.watchdog ? 'not fed' : 'off' });
        this.wasHealthy = healthy;
      }
      let status: string;
      try {
        status = healthy ? ((await this.opts.statusText?.()) ?? 'running') : `UNHEALTHY: ${problems.join('; ')}`;
      } catch (e) {
        status = `running (status unavailable: ${(e as Error).message})`;
      }
      if (status !== this.lastStatus && !this.stopped) {
        this.opts.notifier.status(status);
        this.lastStatus = status;
      }
      return { healthy, lagMs, problems, fedWatchdog: fed };
    } finally {
      this.ticking = false;
    }
  }

  private async runCheck(c: HealthCheck): Promise<string | null> {
    const limit = this.opts.checkTimeoutMs ?? 5000;
    let cancel: (() => void) | undefined;
    const timeout = new Promise<string>((res) => {
      cancel = this.opts.clock.setTimer(() => res(`${c.name}: no answer within ${limit} ms`), limit);
    });
    try {
      const r = await Promise.race([Promise.resolve().then(() => c.run()), timeout]);
      return r === null ? null : r.startsWith(`${c.name}:`) ? r : `${c.name}: ${r}`;
    } catch (e) {
      return `${c.name}: ${(e as Error).message}`;
    } finally {
      cancel?.();
    }
  }
}
