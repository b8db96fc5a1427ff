import { afterEach, describe, expect, it } from 'vitest';
import { HealthLoop, type HealthCheck } from '../../src/appliance/health-loop.js';
import { eventLoopLagSampler } from '../../src/appliance/event-loop-lag.js';
import { daemonHealthChecks, daemonStatusLine } from '../../src/appliance/daemon-health.js';
import { superviseDaemon } from '../../src/appliance/supervision.js';
import type { Notifier } from '../../src/appliance/notifier.js';
import { ManualClock } from '../../src/util/clock.js';
import { memoryLogger } from '../../src/util/log.js';
import { startDaemon } from '../helpers/env.js';

class RecordingNotifier implements Notifier {
  readonly active = true;
  events: string[] = [];
  ready(status?: string) { this.events.push(`READY ${status ?? ''}`.trim()); }
  watchdog() { this.events.push('WATCHDOG'); }
  stopping(status?: string) { this.events.push(`STOPPING ${status ?? ''}`.trim()); }
  status(text: string) { this.events.push(`STATUS ${text}`); }
  async close() {}
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function setup(checks: HealthCheck[], lagMs: number[] = []) {
  const clock = new ManualClock();
  const notifier = new RecordingNotifier();
  const logger = memoryLogger();
  const lag = { takeMaxMs: () => lagMs.shift() ?? 0, stop() {} };
  const loop = new HealthLoop({ notifier, clock, logger, intervalMs: 15_000, watchdog: true, checks, lag, maxLagMs: 5000, checkTimeoutMs: 5000, statusText: () => 'all good' });
  return { clock, notifier, logger, loop };
}

describe('HealthLoop', () => {
  it('feeds the watchdog every interval while healthy; STATUS only when it changes', async () => {
    const { clock, notifier, loop } = setup([{ name: 'db', run: () => null }]);
    loop.start();
    clock.advance(0);
    await flush();
    clock.advance(15_000);
    await flush();
    clock.advance(15_000);
    await flush();
    expect(notifier.events).toEqual(['WATCHDOG', 'STATUS all good', 'WATCHDOG', 'WATCHDOG']);
    loop.stop();
    clock.advance(60_000);
    await flush();
    expect(notifier.events).toHaveLength(4);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a blocked event loop withholds WATCHDOG=1 and says why in STATUS, then recovers', async () => {
    const { notifier, logger, loop } = setup([], [12_000, 30]);
    const r1 = await loop.tick();
    expect(r1).toMatchObject({ healthy: false, lagMs: 12_000, fedWatchdog: false });
    expect(notifier.events).toEqual(['STATUS UNHEALTHY: event loop blocked for 12000 ms (limit 5000 ms)']);
    const r2 = await loop.tick();
    expect(r2.healthy).toBe(true);
    expect(notifier.events.slice(1)).toEqual(['WATCHDOG', 'STATUS all good']);
    expect(logger.lines.join('\n')).toMatch(/health.unhealthy[^\n]*event loop blocked[\s\S]*health.recovered/);
  });

  it('a failing or throwing check withholds WATCHDOG=1', async () => {
    const { notifier, loop } = setup([
      { name: 'database', run: () => { throw new Error('SQLITE_CORRUPT: database disk image is malformed'); } },
      { name: 'smtp', run: () => 'listener is not listening' },
    ]);
    const r = await loop.tick();
    expect(r.healthy).toBe(false);
    expect(r.problems).toEqual(['database: SQLITE_CORRUPT: database disk image is malformed', 'smtp: listener is not listening']);
    expect(notifier.events).toEqual(['STATUS UNHEALTHY: database: SQLITE_CORRUPT: database disk image is malformed; smtp: listener is not listening']);
  });

  it('a check that never answers times out as a problem instead of hanging the loop', async () => {
    const { clock, notifier, loop } = setup([{ name: 'database', run: () => new Promise<string | null>(() => {}) }]);
    const p = loop.tick();
    await flush();
    clock.advance(5000);
    const r = await p;
    expect(r.problems).toEqual(['database: no answer within 5000 ms']);
    expect(notifier.events).not.toContain('WATCHDOG');
  });

  it('after stop() a tick in flight says nothing more to systemd', async () => {
    let release!: (v: null) => void;
    const { notifier, loop } = setup([{ name: 'db', run: () => new Promise<null>((r) => (release = r)) }]);
    const p = loop.tick();
    await flush();
    loop.stop();
    release(null);
    await p;
    expect(notifier.events).toEqual([]);
  });
});

describe('event loop lag sampler', () => {
  it('sees a synchronous block of the loop', async () => {
    const s = eventLoopLagSampler(10);
    try {
      await new Promise((r) => setTimeout(r, 50));
      s.takeMaxMs();
      const until = Date.now() + 400;
      while (Date.now() < until) { /* block the loop */ }
      await new Promise((r) => setTimeout(r, 50));
      expect(s.takeMaxMs()).toBeGreaterThanOrEqual(300);
    } finally {
      s.stop();
    }
  });
});

describe('daemon health and status line (real daemon)', () => {
  let d: Awaited<ReturnType<typeof startDaemon>> | null = null;
  afterEach(async () => {
    await d?.stop().catch(() => {});
    d = null;
  });

  it('checks pass on a running daemon and fail once the database or the listener is gone', async () => {
    d = await startDaemon({ channels: { mail: { enabled: true, host: '127.0.0.1', port: 1 } } });
    const checks = daemonHealthChecks(d.daemon);
    expect(await Promise.all(checks.map((c) => c.run()))).toEqual([null, null]);
    expect(await daemonStatusLine(d.daemon)).toMatch(new RegExp(`^SMTP 127\\.0\\.0\\.1:${d.port}; 0 open deliveries, 0 running; mail (ok|DOWN)`));
    await d.daemon.receiver.close();
    expect(checks[1]!.run()).toBe('listener is not listening');
    d.daemon.stores.db.close();
    await expect(Promise.resolve().then(() => checks[0]!.run())).rejects.toThrow(/database connection is not open/);
  });

  it('superviseDaemon: READY with the status line, then the watchdog; STOPPING stops the loop', async () => {
    d = await startDaemon();
    const notifier = new RecordingNotifier();
    const clock = new ManualClock();
    const sup = await superviseDaemon(d.daemon, {
      logger: memoryLogger(), clock, lag: { takeMaxMs: () => 0, stop() {} },
      systemd: { notifier, watchdogIntervalMs: 15_000, problems: [] },
    });
    expect(notifier.events[0]).toBe(`READY SMTP 127.0.0.1:${d.port}; 0 open deliveries, 0 running; no channel enabled`);
    clock.advance(0);
    await flush();
    expect(notifier.events[1]).toBe('WATCHDOG');
    sup.stopping();
    clock.advance(60_000);
    await flush();
    expect(notifier.events.at(-1)).toMatch(/^STOPPING /);
    expect(notifier.events.filter((e) => e === 'WATCHDOG')).toHaveLength(1);
    await sup.close();
  });
});
