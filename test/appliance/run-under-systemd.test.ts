/**
 * `alertline run` as systemd runs it (Type=notify, WatchdogSec=): a subprocess with NOTIFY_SOCKET
 * pointing at a fake systemd socket and WATCHDOG_USEC set, the real systemd-notify(1) sending.
 * READY=1 must come only when the SMTP port answers, WATCHDOG=1 must keep coming, and SIGTERM
 * must end in STOPPING=1 and exit status 0.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startNotifyReceiver, type NotifyReceiver } from './notify-receiver.js';
import { tempDir } from '../helpers/env.js';

const ROOT = join(import.meta.dirname, '../..');

/** How the appliance is started: the real CLI, as the unit's ExecStart runs it (built by `npm test`). */
function applianceCommand(config: string): { argv: string[]; env: Record<string, string> } {
  return { argv: [process.execPath, join(ROOT, 'bin/alertline.js'), 'run'], env: { ALERTLINE_CONFIG: config } };
}

function smtpGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('no SMTP greeting'));
    }, 10_000);
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        clearTimeout(t);
        s.end('QUIT\r\n');
        s.destroy();
        resolve(got.split('\r\n')[0]!);
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

describe('alertline run under systemd (fake NOTIFY_SOCKET, real systemd-notify)', () => {
  let rx: NotifyReceiver;
  let tmp: { dir: string; cleanup: () => void };
  let child: ChildProcess | null = null;
  let output = '';

  beforeEach(async () => {
    rx = await startNotifyReceiver();
    tmp = tempDir('alertline-appliance-');
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    child = null;
    await rx.close();
    tmp.cleanup();
  });

  function start(watchdogUsec: string): Promise<{ code: number | null; signal: string | null }> {
    const config = join(tmp.dir, 'alertline.yaml');
    writeFileSync(config, [
      `dataDir: ${JSON.stringify(join(tmp.dir, 'data'))}`,
      `audioCacheDir: ${JSON.stringify(join(tmp.dir, 'audio-cache'))}`,
      'logLevel: info',
      'smtp: { host: 127.0.0.1, port: 0 }',
      '',
    ].join('\n'));
    const run = applianceCommand(config);
    const [cmd, ...args] = run.argv;
    const env: NodeJS.ProcessEnv = { ...process.env, ...run.env, NOTIFY_SOCKET: rx.socket, WATCHDOG_USEC: watchdogUsec };
    delete env.WATCHDOG_PID;
    child = spawn(cmd!, args, { cwd: tmp.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    output = '';
    child.stdout!.on('data', (d) => (output += d.toString()));
    child.stderr!.on('data', (d) => (output += d.toString()));
    return new Promise((resolve) => child!.once('exit', (code, signal) => resolve({ code, signal })));
  }

  it('sends READY=1 once SMTP answers, feeds the watchdog, and on SIGTERM sends STOPPING=1 and exits 0', async () => {
    const exited = start('1000000'); // WatchdogSec=1s → WATCHDOG=1 every 500 ms
    const readyAt = await rx.waitFor((m) => m.READY === '1', 60_000);
    const ready = rx.messages[readyAt]!;
    // Nothing but READY's own message came first: no watchdog before readiness.
    expect(rx.messages.slice(0, readyAt).some((m) => m.WATCHDOG)).toBe(false);
    const addr = /SMTP 127\.0\.0\.1:(\d+)/.exec(ready.STATUS ?? '');
    expect(addr, `READY carries the listener in STATUS: ${ready.STATUS}`).not.toBeNull();
    // The moment READY=1 is out, the port already greets like Alertline.
    expect(await smtpGreeting(Number(addr![1]))).toMatch(/^220 .*Alertline/);

    // The health loop keeps feeding the watchdog.
    await rx.waitFor((m, i) => i > readyAt && m.WATCHDOG === '1' && rx.messages.slice(readyAt + 1, i + 1).filter((x) => x.WATCHDOG === '1').length >= 3, 30_000);

    child!.kill('SIGTERM');
    const stopAt = await rx.waitFor((m) => m.STOPPING === '1', 30_000);
    const { code, signal } = await exited;
    expect({ code, signal }, output).toEqual({ code: 0, signal: null });
    expect(rx.messages.slice(stopAt + 1).some((m) => m.WATCHDOG)).toBe(false);
    expect(output).toMatch(/daemon\.stopped/);
  }, 120_000);

  it('without WATCHDOG_USEC still reports READY=1 and STOPPING=1 but sends no WATCHDOG=1', async () => {
    const exited = start('');
    const readyAt = await rx.waitFor((m) => m.READY === '1', 60_000);
    // Shut down straight away; a watchdog ping, if any were (wrongly) sent, goes out with the first health tick.
    await new Promise((r) => setTimeout(r, 1500));
    child!.kill('SIGTERM');
    await rx.waitFor((m) => m.STOPPING === '1', 30_000);
    expect((await exited).code).toBe(0);
    expect(rx.messages.slice(readyAt).some((m) => m.WATCHDOG)).toBe(false);
  }, 120_000);
});
