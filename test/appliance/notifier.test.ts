import { afterEach, describe, expect, it } from 'vitest';
import { NullNotifier, SystemdNotify, systemdSupervisionFromEnv, type CommandRunner, type CommandResult } from '../../src/appliance/notifier.js';
import { memoryLogger } from '../../src/util/log.js';
import { startNotifyReceiver, type NotifyReceiver } from './notify-receiver.js';

/** Records each command; answers with what the test says, when the test says. */
function recordingRunner(answer: (argv: readonly string[]) => CommandResult = () => ({ code: 0, signal: null, stderr: '' })) {
  const calls: { argv: readonly string[]; env: Record<string, string>; release: () => void }[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  let manual = false;
  const run: CommandRunner = (argv, env) => new Promise((resolve) => {
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    const release = () => {
      concurrent--;
      resolve(answer(argv));
    };
    calls.push({ argv, env, release });
    if (!manual) queueMicrotask(release);
  });
  return { run, calls, get maxConcurrent() { return maxConcurrent; }, hold() { manual = true; } };
}

describe('SystemdNotify (systemd-notify as the sender)', () => {
  it('sends calls made in one turn as one message, with only NOTIFY_SOCKET and PATH in the child environment', async () => {
    const r = recordingRunner();
    const n = new SystemdNotify({ socket: '/run/systemd/notify', logger: memoryLogger(), run: r.run, path: '/usr/bin:/bin' });
    n.status('all fine');
    n.watchdog();
    await n.close();
    expect(r.calls.map((c) => c.argv)).toEqual([['systemd-notify', 'WATCHDOG=1', 'STATUS=all fine']]);
    expect(r.calls[0]!.env).toEqual({ NOTIFY_SOCKET: '/run/systemd/notify', PATH: '/usr/bin:/bin' });
  });

  it('runs one child at a time and merges what queues meanwhile (newest STATUS wins)', async () => {
    const r = recordingRunner();
    r.hold();
    const n = new SystemdNotify({ socket: '@notify', logger: memoryLogger(), run: r.run });
    n.ready('starting');
    await Promise.resolve();
    n.watchdog();
    n.status('one');
    n.status('two');
    n.watchdog();
    await new Promise((res) => setTimeout(res, 10));
    expect(r.calls).toHaveLength(1);
    r.calls[0]!.release();
    await new Promise((res) => setTimeout(res, 10));
    expect(r.calls).toHaveLength(2);
    r.calls[1]!.release();
    await n.close();
    expect(r.calls.map((c) => c.argv.slice(1))).toEqual([['READY=1', 'STATUS=starting'], ['WATCHDOG=1', 'STATUS=two']]);
    expect(r.maxConcurrent).toBe(1);
  });

  it('survives a failing or missing systemd-notify, logs the reason without flooding, and says when it recovers', async () => {
    let fail: CommandResult | null = { code: null, signal: null, stderr: '', error: 'ENOENT' };
    const r = recordingRunner(() => fail ?? { code: 0, signal: null, stderr: '' });
    const log = memoryLogger();
    const n = new SystemdNotify({ socket: '/run/systemd/notify', logger: log, run: r.run });
    for (let i = 0; i < 5; i++) {
      n.watchdog();
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(log.lines.filter((l) => l.includes('notify.failed'))).toHaveLength(1);
    expect(log.lines[0]).toMatch(/systemd-notify not found in PATH/);
    fail = { code: 1, signal: null, stderr: 'Failed to notify init system: Connection refused' };
    n.watchdog();
    await new Promise((res) => setTimeout(res, 5));
    expect(log.lines.filter((l) => l.includes('notify.failed'))).toHaveLength(2);
    expect(log.lines.at(-1)).toMatch(/Connection refused/);
    fail = null;
    n.watchdog();
    await n.close();
    expect(log.lines.at(-1)).toMatch(/notify.recovered after=6/);
  });

  it('ignores calls after close', async () => {
    const r = recordingRunner();
    const n = new SystemdNotify({ socket: '/x', logger: memoryLogger(), run: r.run });
    await n.close();
    n.ready();
    await new Promise((res) => setTimeout(res, 5));
    expect(r.calls).toHaveLength(0);
  });
});

describe('SystemdNotify against a datagram socket (real systemd-notify, fake PID 1)', () => {
  let rx: NotifyReceiver | null = null;
  afterEach(async () => {
    await rx?.close();
    rx = null;
  });

  it('delivers READY, STATUS, WATCHDOG and STOPPING in order; a hostile status stays one STATUS line', async () => {
    rx = await startNotifyReceiver();
    const log = memoryLogger();
    const n = new SystemdNotify({ socket: rx.socket, logger: log });
    n.ready('up');
    await rx.waitFor((m) => m.READY === '1');
    n.status('modem said: ERROR\nREADY=1\nSTOPPING=1');
    n.watchdog();
    await rx.waitFor((m) => m.WATCHDOG === '1');
    n.stopping();
    await n.close();
    await rx.waitFor((m) => m.STOPPING === '1');
    expect(rx.messages).toEqual([
      { READY: '1', STATUS: 'up' },
      { WATCHDOG: '1', STATUS: 'modem said: ERROR READY=1 STOPPING=1' },
      { STOPPING: '1' },
    ]);
    // systemd-notify waited for the barrier each time, as it does with PID 1.
    expect(rx.raw.filter((t) => t === 'BARRIER=1')).toHaveLength(3);
    expect(log.lines.filter((l) => l.includes('notify.failed'))).toEqual([]);
  }, 60_000);

  it('reports a socket nobody listens on as a failure, not a crash', async () => {
    const log = memoryLogger();
    const n = new SystemdNotify({ socket: '/nonexistent-dir/notify.sock', logger: log });
    n.watchdog();
    await n.close();
    expect(log.lines.join('\n')).toMatch(/notify.failed message=WATCHDOG/);
  }, 60_000);
});

describe('systemdSupervisionFromEnv', () => {
  it('without NOTIFY_SOCKET does nothing', () => {
    const s = systemdSupervisionFromEnv({ env: {}, logger: memoryLogger() });
    expect(s.notifier).toBeInstanceOf(NullNotifier);
    expect(s.notifier.active).toBe(false);
    expect(s.watchdogIntervalMs).toBeNull();
  });

  it('takes the socket and watchdog and removes them from the environment children inherit', () => {
    const env: Record<string, string | undefined> = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7', HOME: '/var/lib/alertline' };
    const s = systemdSupervisionFromEnv({ env, pid: 7, logger: memoryLogger() });
    expect(s.notifier).toBeInstanceOf(SystemdNotify);
    expect(s.watchdogIntervalMs).toBe(15000);
    expect(env).toEqual({ HOME: '/var/lib/alertline' });
  });

  it('refuses a NOTIFY_SOCKET that is not a socket address', () => {
    const s = systemdSupervisionFromEnv({ env: { NOTIFY_SOCKET: 'relative/path' }, logger: memoryLogger() });
    expect(s.notifier.active).toBe(false);
    expect(s.problems.join()).toMatch(/NOTIFY_SOCKET/);
  });
});
