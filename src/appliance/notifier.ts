/**
 * Telling systemd how the service is doing (sd_notify(3)): READY=1 once the SMTP listener is up
 * and the database open, WATCHDOG=1 from the health loop, STOPPING=1 on shutdown, STATUS=<line>.
 *
 * How the datagram gets sent — the choice, and why:
 * Node.js cannot send on a unix datagram socket (net is stream-only, dgram is UDP-only), so
 * something outside JavaScript must do it.
 *  (a) The `sd-notify` npm package (2.8.0, Dec 2024) is a node-gyp addon linked against
 *      libsystemd: it needs a compiler, python3 and libsystemd-dev on every Pi it installs on,
 *      ships no prebuilt binaries, and breaks on Node ABI upgrades. Its one advantage — the
 *      datagram comes from the main PID, so NotifyAccess=main suffices — is not worth making the
 *      install depend on a toolchain.
 *  (b) systemd-notify(1) is part of systemd itself, so it exists wherever NOTIFY_SOCKET can be set.
 *      Sent from a child process, a message is only accepted with NotifyAccess=all (the unit sets
 *      it), and the classic race — the child exits before PID 1 reads the datagram, PID 1 cannot
 *      attribute it and drops it — is closed by systemd-notify itself since systemd 246: unless
 *      --no-block is given it follows the message with a BARRIER=1 and waits until PID 1 has
 *      processed everything (Debian 12 / Raspberry Pi OS bookworm ship 252). Its --pid= option does
 *      not help (an unprivileged process cannot claim another PID in SCM_CREDENTIALS).
 *  (c) socat is not on a stock Pi; python3/perl one-liners would work like (b) but are our own
 *      code in a second language, for no gain over systemd's own tool.
 * So: (b). A stuck event loop spawns nothing, so the watchdog still fires; one child at a time,
 * pending notifications merged (a newer STATUS replaces an older one), each child bounded by a
 * timeout and killed past it. Swapping the transport means replacing SystemdNotify only: the
 * rest of the daemon sees the Notifier interface.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../util/log.js';
import { notifyAssignments, watchdogInterval, type NotifyFields } from './notify-message.js';

export interface Notifier {
  /** False when not running under systemd (no NOTIFY_SOCKET): every call is then a no-op. */
  readonly active: boolean;
  ready(status?: string): void;
  watchdog(): void;
  stopping(status?: string): void;
  status(text: string): void;
  /** Sends what is still queued (bounded wait), then ignores further calls. */
  close(): Promise<void>;
}

export class NullNotifier implements Notifier {
  readonly active = false;
  ready(): void {}
  watchdog(): void {}
  stopping(): void {}
  status(): void {}
  async close(): Promise<void> {}
}

export interface CommandResult {
  code: number | null;
  signal: string | null;
  stderr: string;
  /** Spawn failure (ENOENT, EAGAIN...) or "timeout". */
  error?: string;
}

/** Runs argv without a shell, with exactly env, killed after timeoutMs. */
export type CommandRunner = (argv: readonly string[], env: Record<string, string>, timeoutMs: number) => Promise<CommandResult>;

export const spawnCommand: CommandRunner = (argv, env, timeoutMs) =>
  new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let stderr = '';
    const done = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      resolve({ code: null, signal: null, stderr: '', error: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => done({ code: null, signal: null, stderr, error: e.code ?? e.message }));
    child.on('close', (code, signal) => done({ code, signal, stderr: stderr.trim(), ...(timedOut ? { error: 'timeout' } : {}) }));
  });

export interface SystemdNotifyOptions {
  /** NOTIFY_SOCKET as systemd set it (a path, or @abstract). */
  socket: string;
  logger: Logger;
  run?: CommandRunner;
  /** argv[0] of the sender (default "systemd-notify", looked up in PATH). */
  command?: string;
  /** Per message; the barrier inside systemd-notify itself gives up after 5 s. */
  timeoutMs?: number;
  /** PATH for the child (default: the daemon's PATH, else the Debian default). */
  path?: string;
}

export class SystemdNotify implements Notifier {
  readonly active = true;
  private pending: NotifyFields | null = null;
  private inflight: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  private failures = 0;
  private lastFailure = '';
  private readonly run: CommandRunner;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: SystemdNotifyOptions) {
    this.run = opts.run ?? spawnCommand;
  }

  ready(status?: string): void {
    this.send({ READY: '1', ...(status !== undefined ? { STATUS: status } : {}) });
  }

  watchdog(): void {
    this.send({ WATCHDOG: '1' });
  }

  stopping(status?: string): void {
    this.send({ STOPPING: '1', ...(status !== undefined ? { STATUS: status } : {}) });
  }

  status(text: string): void {
    this.send({ STATUS: text });
  }

  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    const idle = new Promise<void>((res) => {
      if (!this.inflight && !this.pending) res();
      else this.idleWaiters.push(res);
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([idle, new Promise<void>((res) => (timer = setTimeout(res, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    this.pending = null;
  }

  private send(fields: NotifyFields): void {
    if (this.closed) return;
    this.pending = { ...(this.pending ?? {}), ...fields };
    // Calls made in the same turn of the event loop (status + watchdog) go out as one message.
    if (this.inflight || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.inflight) return;
    const fields = this.pending;
    this.pending = null;
    if (!fields) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    let assignments: string[];
    try {
      assignments = notifyAssignments(fields);
    } catch (e) {
      this.opts.logger.error('notify.bad_message', { error: e as Error });
      this.drain();
      return;
    }
    this.inflight = this.sendNow(assignments).finally(() => {
      this.inflight = null;
      this.drain();
    });
  }

  private async sendNow(assignments: string[]): Promise<void> {
    const env = { NOTIFY_SOCKET: this.opts.socket, PATH: this.opts.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
    const r = await this.run([this.opts.command ?? 'systemd-notify', ...assignments], env, this.opts.timeoutMs ?? 10_000);
    const ok = r.code === 0 && !r.error;
    const keys = assignments.map((a) => a.slice(0, a.indexOf('='))).join(',');
    if (ok) {
      if (this.failures > 0) this.opts.logger.info('notify.recovered', { after: this.failures });
      this.failures = 0;
      this.lastFailure = '';
      return;
    }
    this.failures++;
    const why = r.error === 'ENOENT'
      ? `${this.opts.command ?? 'systemd-notify'} not found in PATH (it comes with systemd)`
      : r.error ?? (r.stderr || `exit ${r.code ?? r.signal}`);
    // Every new kind of failure is logged; a repeating one every 20th time, so a broken socket does not flood the journal.
    if (why !== this.lastFailure || this.failures % 20 === 1) {
      this.opts.logger.warn('notify.failed', { message: keys, reason: why, failures: this.failures });
    }
    this.lastFailure = why;
  }
}

export interface SystemdSupervision {
  notifier: Notifier;
  /** How often to send WATCHDOG=1 (half of WatchdogSec=), or null when the watchdog is off. */
  watchdogIntervalMs: number | null;
  /** Malformed variables, worth a warning. */
  problems: string[];
}

/**
 * Reads NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID and, like sd_notify(unset_environment=1),
 * removes them from env so that child processes (aplay, TTS commands) cannot talk to systemd on
 * the service's behalf (NotifyAccess=all would let them).
 */
export function systemdSupervisionFromEnv(opts: { env?: Record<string, string | undefined>; pid?: number; logger: Logger; run?: CommandRunner; unsetEnvironment?: boolean }): SystemdSupervision {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET ?? '';
  const wd = watchdogInterval(env, opts.pid ?? process.pid);
  const problems: string[] = wd.problem ? [wd.problem] : [];
  if (opts.unsetEnvironment ?? true) {
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
  }
  if (!socket) return { notifier: new NullNotifier(), watchdogIntervalMs: null, problems };
  if (!/^(\/|@|vsock:)/.test(socket) || /[\0-\x1f]/.test(socket)) {
    problems.push(`NOTIFY_SOCKET=${JSON.stringify(socket.slice(0, 80))} is neither a socket path, an abstract socket nor vsock:; not notifying systemd`);
    return { notifier: new NullNotifier(), watchdogIntervalMs: null, problems };
  }
  return {
    notifier: new SystemdNotify({ socket, logger: opts.logger, ...(opts.run ? { run: opts.run } : {}) }),
    watchdogIntervalMs: wd.intervalMs,
    problems,
  };
}
