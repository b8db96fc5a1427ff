/**
 * The AT command engine: the one I/O class over the serial port. One command in flight at a
 * time (the rest queue); a response is collected until its final result code or the `> ` prompt;
 * unsolicited result codes are split out and emitted as events, even mid-response. A command that
 * gets no final code in time is cancelled with ESC, the input is flushed, and it fails with a
 * clear reason. The port disappearing fails everything pending and is reported as 'disconnect'.
 *
 * A vanished port is not always seen by reading: after the kernel hangs up a tty (USB unplugged,
 * the pty's other end gone), a read may return end-of-file, which the serial library reads again
 * and again without a word, instead of an I/O error; only the next write would fail. So while the
 * port is open the device path is looked at every second (presenceCheck): gone, or a different
 * device under that name, is a disconnect too.
 */
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import {
  AtLineSplitter,
  classifyLine,
  MAX_LINE_LENGTH,
  redactCommand,
  validateCommand,
  validatePduHex,
  type FinalResult,
  type Urc,
} from './at-parser.js';

/** The part of serialport's SerialPort the engine uses (tests and the daemon pass real ones). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  write(data: Buffer | string, cb?: (err: Error | null | undefined) => void): boolean;
  close(cb?: (err: Error | null) => void): void;
  flush?(cb?: (err: Error | null) => void): void;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'close', fn: (err?: Error & { disconnected?: boolean }) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** Creates an unopened port for path/baud rate. */
export type OpenPort = (path: string, baudRate: number) => SerialPortLike;

export const defaultOpenPort: OpenPort = (path, baudRate) =>
  new SerialPort({ path, baudRate, autoOpen: false }) as unknown as SerialPortLike;

export interface AtResponse {
  command: string;
  /** Information lines (no echo, no URCs, no final code). */
  lines: string[];
  final: FinalResult;
  ok: boolean;
}

export type AtErrorKind = 'timeout' | 'port-closed' | 'invalid' | 'no-prompt' | 'final';

/** A command that did not complete: timeout, port gone, refused before sending, or a non-OK final. */
export class AtError extends Error {
  constructor(
    readonly kind: AtErrorKind,
    message: string,
    readonly final?: FinalResult,
  ) {
    super(message);
    this.name = 'AtError';
  }
}

export interface CommandOptions {
  /** Milliseconds to wait for the final result code (default: the engine's commandTimeout). */
  timeout?: number;
  /** For AT+CMGS/AT+CMGW: hex written after the `> ` prompt, followed by Ctrl-Z. */
  pdu?: string;
}

export interface AtEngineOptions {
  path: string;
  baudRate: number;
  openPort?: OpenPort;
  logger: Logger;
  clock?: Clock;
  /** Default per-command timeout in ms (gsm.commandTimeout). */
  commandTimeout?: number;
  /** Quiet time after a cancelled command during which stray output is discarded (ms). */
  settleTime?: number;
  /** How often the device path is checked while open (ms, default 1000; 0: never). */
  presenceCheck?: number;
}

interface Pending {
  command: string;
  pdu?: string;
  timeout: number;
  lines: string[];
  promptSeen: boolean;
  resolve: (r: AtResponse) => void;
  reject: (e: AtError) => void;
  cancelTimer?: () => void;
}

const CTRL_Z = '\x1a';
/** AT+CMGS waits for the network (27.005 allows long waits; SIM900 manual: up to 60 s). */
export const SMS_SEND_TIMEOUT = 60_000;
const ESC = '\x1b';

export interface AtEngineEvents {
  urc: [Urc];
  disconnect: [Error];
}

export class AtEngine extends EventEmitter<AtEngineEvents> {
  private readonly path: string;
  private readonly baudRate: number;
  private readonly openPortFn: OpenPort;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly commandTimeout: number;
  private readonly settleTime: number;
  private readonly presenceCheck: number;
  private cancelPresence: (() => void) | null = null;
  private port: SerialPortLike | null = null;
  private splitter = new AtLineSplitter();
  private queue: Pending[] = [];
  private current: Pending | null = null;
  /** While true (after a cancelled command) output is discarded and the queue waits. */
  private settling = false;

  constructor(opts: AtEngineOptions) {
    super();
    this.path = opts.path;
    this.baudRate = opts.baudRate;
    this.openPortFn = opts.openPort ?? defaultOpenPort;
    this.log = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.commandTimeout = opts.commandTimeout ?? 5000;
    this.settleTime = opts.settleTime ?? 250;
    this.presenceCheck = opts.presenceCheck ?? 1000;
  }

  get isOpen(): boolean {
    return this.port !== null;
  }

  /** Opens the port. Rejects with the OS's reason (no such device, permission...). */
  async open(): Promise<void> {
    if (this.port) return;
    const port = this.openPortFn(this.path, this.baudRate);
    await new Promise<void>((resolve, reject) => {
      port.open((err) => (err ? reject(err) : resolve()));
    });
    this.splitter.reset();
    this.port = port;
    port.on('data', (chunk) => this.onData(port, chunk));
    port.on('error', (err) => this.log.warn('gsm.port_error', { port: this.path, error: err.message }));
    port.on('close', (err) => this.onClose(port, err));
    await this.watchPresence(port);
    // Output left over from an earlier session (the late answer to a command that was in flight
    // when the port was closed) must not answer this session's first command and shift every
    // answer after it: flush what is buffered, then discard what still arrives for settleTime.
    this.settling = true;
    await new Promise<void>((resolve) => {
      if (!port.flush) return resolve();
      try {
        port.flush(() => resolve());
      } catch {
        resolve();
      }
    });
    this.clock.setTimer(() => {
      if (this.port !== port || !this.settling) return;
      this.settling = false;
      this.splitter.reset();
      this.pump();
    }, this.settleTime);
  }

  /**
   * Looks at the device path every presenceCheck ms while `port` is open: missing, or another
   * device under the name, closes it as disconnected. A path that is not a device when opened
   * (a test's stand-in port) is not watched.
   */
  private async watchPresence(port: SerialPortLike): Promise<void> {
    if (!(this.presenceCheck > 0)) return;
    const dev = await stat(this.path).then((st) => (st.isCharacterDevice() ? st.rdev : null), () => null);
    if (dev === null) return;
    const check = () => {
      this.cancelPresence = this.clock.setTimer(() => {
        this.cancelPresence = null;
        if (this.port !== port) return;
        void stat(this.path).then((st) => (st.rdev === dev ? null : 'another device under that name'), (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENODEV' || e.code === 'ENXIO' ? `${e.code}: the device is gone` : null))
          .then((gone) => {
            if (this.port !== port) return;
            if (!gone) return check();
            this.onClose(port, Object.assign(new Error(`${this.path}: ${gone}`), { disconnected: true }));
            try {
              port.close(() => {});
            } catch { /* already closed */ }
          });
      }, this.presenceCheck);
    };
    check();
  }

  /** Closes the port on purpose; pending commands fail. */
  async close(): Promise<void> {
    const port = this.port;
    if (!port) return;
    this.port = null;
    this.cancelPresence?.();
    this.cancelPresence = null;
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    this.failAll(new AtError('port-closed', 'serial port closed'));
    await new Promise<void>((resolve) => {
      try {
        port.close(() => resolve());
      } catch {
        resolve();
      }
    });
    port.removeAllListeners();
    port.on('error', () => {}); // a late error from a closed port must not become an uncaught exception
  }

  /**
   * Sends one command (queued behind any in flight). Resolves with the response for every final
   * result code, OK or not; rejects with AtError on timeout, a closed port or an unsafe command.
   */
  command(command: string, opts: CommandOptions = {}): Promise<AtResponse> {
    const bad = validateCommand(command) ?? (opts.pdu !== undefined ? validatePduHex(opts.pdu) : null);
    if (bad) return Promise.reject(new AtError('invalid', `refusing ${redactCommand(command)}: ${bad}`));
    if (!this.port) return Promise.reject(new AtError('port-closed', `${redactCommand(command)}: serial port not open`));
    return new Promise<AtResponse>((resolve, reject) => {
      this.queue.push({
        command,
        ...(opts.pdu !== undefined ? { pdu: opts.pdu.toUpperCase() } : {}),
        timeout: opts.timeout ?? (/^AT\+CMG[SW]=/i.test(command) ? SMS_SEND_TIMEOUT : this.commandTimeout),
        lines: [],
        promptSeen: false,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Like command(), but a final code other than OK rejects with AtError('final'). */
  async ok(command: string, opts: CommandOptions = {}): Promise<AtResponse> {
    const r = await this.command(command, opts);
    if (!r.ok) throw new AtError('final', `${redactCommand(command)}: ${r.final.line}`, r.final);
    return r;
  }

  /** Number of commands waiting or in flight. */
  get busy(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  private pump(): void {
    if (this.current || this.settling || !this.port) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next;
    this.log.debug('gsm.at_send', { command: redactCommand(next.command) });
    next.cancelTimer = this.clock.setTimer(() => this.onTimeout(next), next.timeout);
    this.write(next.command + '\r');
  }

  private write(data: string): void {
    const port = this.port;
    if (!port) return;
    try {
      port.write(Buffer.from(data, 'latin1'), (err) => {
        if (err) this.log.warn('gsm.write_failed', { error: err.message });
      });
    } catch (e) {
      this.log.warn('gsm.write_failed', { error: (e as Error).message });
    }
  }

  private onData(port: SerialPortLike, chunk: Buffer): void {
    if (port !== this.port) return;
    for (const token of this.splitter.push(chunk)) {
      if (token.type === 'prompt') this.onPrompt();
      else if (token.type === 'overflow') this.log.warn('gsm.line_dropped', { length: token.length, limit: MAX_LINE_LENGTH });
      else this.onLine(token.text);
    }
  }

  private onPrompt(): void {
    const cur = this.current;
    if (!cur || this.settling) return;
    if (cur.promptSeen) return;
    cur.promptSeen = true;
    if (cur.pdu === undefined) {
      // A prompt nobody asked for: cancel the text entry so the modem returns to command mode.
      this.cancel(cur, new AtError('no-prompt', `${redactCommand(cur.command)}: unexpected "> " prompt`));
      return;
    }
    this.write(cur.pdu + CTRL_Z);
  }

  private onLine(line: string): void {
    const cur = this.settling ? null : this.current;
    const meaning = classifyLine(line, cur?.command);
    if (meaning.type === 'urc') {
      this.log.debug('gsm.urc', { line });
      this.emit('urc', meaning.urc);
      return;
    }
    if (!cur) {
      if (!this.settling) this.log.debug('gsm.unexpected_line', { line: line.slice(0, 80) });
      return;
    }
    if (meaning.type === 'echo') return;
    if (meaning.type === 'response') {
      if (cur.pdu !== undefined && line.toUpperCase() === cur.pdu) return; // PDU echoed while echo is on
      if (cur.lines.length < 1000) cur.lines.push(meaning.text);
      return;
    }
    if (meaning.type === 'final') {
      const final = meaning.final;
      if (cur.pdu !== undefined && !cur.promptSeen && final.code === 'OK') {
        // OK without the prompt cannot be a sent SMS.
        this.finish(cur);
        cur.reject(new AtError('no-prompt', `${cur.command}: OK without "> " prompt`));
        return;
      }
      this.finish(cur);
      this.log.debug('gsm.at_done', { command: redactCommand(cur.command), final: final.line });
      cur.resolve({ command: cur.command, lines: cur.lines, final, ok: final.code === 'OK' });
    }
  }

  private onTimeout(p: Pending): void {
    if (this.current !== p) return;
    this.log.warn('gsm.at_timeout', { command: redactCommand(p.command), timeoutMs: p.timeout });
    this.cancel(
      p,
      new AtError('timeout', `${redactCommand(p.command)}: no final result code within ${p.timeout} ms (cancelled with ESC)`),
    );
  }

  /** ESC, flush, discard stray output for settleTime, fail p, then continue with the queue. */
  private cancel(p: Pending, err: AtError): void {
    this.finish(p);
    this.settling = true;
    this.splitter.reset();
    const port = this.port;
    let escaped = false;
    let settleStarted = false;
    const settle = () => {
      if (settleStarted) return;
      settleStarted = true;
      this.clock.setTimer(() => {
        if (!this.settling) return;
        this.settling = false;
        this.splitter.reset();
        this.pump();
      }, this.settleTime);
    };
    // The quiet period starts once the ESC is out, so the next command cannot overtake it; a port
    // that never confirms the write must not stall the queue, hence the fallback.
    const cancelFallback = this.clock.setTimer(settle, Math.max(2000, this.settleTime * 4));
    const escape = () => {
      if (escaped) return;
      escaped = true;
      if (this.port !== port || !port) return;
      try {
        port.write(Buffer.from(ESC, 'latin1'), () => {
          cancelFallback();
          settle();
        });
      } catch {
        settle();
      }
    };
    // Flush first (it drops unsent output too), then ESC: the order must not lose the ESC.
    if (port?.flush) {
      try {
        port.flush(() => escape());
      } catch {
        escape();
      }
    } else escape();
    p.reject(err);
  }

  private finish(p: Pending): void {
    p.cancelTimer?.();
    if (this.current === p) this.current = null;
    // Let the caller's continuation run before the next command is written.
    queueMicrotask(() => this.pump());
  }

  private onClose(port: SerialPortLike, err?: Error & { disconnected?: boolean }): void {
    if (port !== this.port) return;
    this.port = null;
    this.cancelPresence?.();
    this.cancelPresence = null;
    port.removeAllListeners();
    port.on('error', () => {});
    const reason = err?.message ? `serial port closed: ${err.message}` : 'serial port closed';
    this.log.warn('gsm.port_closed', { port: this.path, reason });
    this.failAll(new AtError('port-closed', reason));
    this.emit('disconnect', new Error(reason));
  }

  private failAll(err: AtError): void {
    const all = [...(this.current ? [this.current] : []), ...this.queue];
    this.current = null;
    this.queue = [];
    this.settling = false;
    for (const p of all) {
      p.cancelTimer?.();
      p.reject(new AtError(err.kind, `${redactCommand(p.command)}: ${err.message}`));
    }
  }
}
