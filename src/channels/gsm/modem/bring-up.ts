/**
 * Bringing the SIM900 up: `AT` until it answers, echo off, verbose errors, the SIM (PIN entered
 * at most once per process: a wrong PIN is never sent again, PUK lock risk), network
 * registration (bounded wait), signal, operator, PDU mode, then the indications (+CMTI, +DTMF,
 * +CLIP), each of which only degrades one feature when refused. Results land in the StatusBook.
 */
import type { GsmConfig } from '../../../config/schema.js';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import { AtError } from '../at-engine.js';
import type { ModemOperations } from './operations.js';
import type { StatusBook } from './status.js';

export interface BringUpTimings {
  /** How long bring-up waits for network registration (ms). */
  registrationTimeout: number;
  /** Pause between AT+CREG? polls during bring-up (ms). */
  registrationPoll: number;
  /** `AT` probes before giving up, and the wait for each (ms). */
  probeAttempts: number;
  probeTimeout: number;
}

export class BringUp {
  /** Set once gsm.pin was refused: the PIN is never sent again by this process. */
  private pinRejected = false;
  private pinRejectedLogged = false;

  constructor(
    private readonly ops: ModemOperations,
    private readonly book: StatusBook,
    private readonly cfg: GsmConfig,
    private readonly t: BringUpTimings,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Runs the sequence; resolves true when the modem is ready. Rejects on a failed command. */
  async run(): Promise<boolean> {
    const { ops, book } = this;
    book.state = 'initializing';
    this.log.info('gsm.bring_up', { port: this.cfg.port });
    if (!(await this.probe())) {
      book.fail('no-response', `modem on ${this.cfg.port} does not answer AT`);
      return false;
    }
    await ops.echoOff();
    await ops.verboseErrors();
    if (!(await this.unlockSim())) return false;
    await this.waitRegistration();
    await this.readSignal().catch((e) => this.log.warn('gsm.csq_failed', { error: (e as Error).message }));
    await this.readOperator();
    await ops.pduMode();
    for (const r of await ops.enableIndications()) {
      book.setError(`${r.command}: ${r.final}`);
      this.log.warn('gsm.setting_refused', { command: r.command, final: r.final, degrades: r.feature });
    }
    book.state = 'ready';
    book.failures = 0;
    book.lastBringUpAt = this.clock.now();
    this.log.info('gsm.ready', {
      registered: book.registration?.text,
      rssi: book.signal?.rssi,
      dbm: book.signal?.dbm ?? undefined,
      operator: book.operator,
    });
    return true;
  }

  /** AT+CREG? into the book (bring-up and the health poll). */
  async readRegistration(): Promise<void> {
    const reg = await this.ops.registration();
    if (this.book.registration && this.book.registration.registered !== reg.registered) {
      this.log.info('gsm.registration', { registration: reg.text });
    }
    this.book.registration = reg;
  }

  /** AT+CSQ into the book. */
  async readSignal(): Promise<void> {
    this.book.signal = await this.ops.signal();
  }

  /** `AT` until answered (autobauding, power-up noise). */
  private async probe(): Promise<boolean> {
    for (let i = 0; i < this.t.probeAttempts; i++) {
      const r = await this.ops.probe(this.t.probeTimeout);
      if (r === 'ok') return true;
      if (r === 'error') await this.sleep(this.t.probeTimeout); // a timeout already waited
    }
    return false;
  }

  /** AT+CPIN? and, if asked for, the configured PIN: once. Returns true when the SIM is ready. */
  private async unlockSim(): Promise<boolean> {
    const { book } = this;
    const pinState = await this.readPinState();
    if (pinState === 'READY') return true;
    if (pinState === 'SIM PIN') {
      if (this.pinRejected) {
        book.fail('pin-rejected', 'SIM PIN was rejected earlier; not retried (PUK lock risk): fix gsm.pin and restart');
        return false;
      }
      if (!this.cfg.pin) {
        book.fail('sim-pin-required', 'SIM asks for a PIN but gsm.pin is empty');
        return false;
      }
      const r = await this.ops.enterPin(this.cfg.pin, Math.max(this.cfg.commandTimeout, 10_000)).catch((e: Error) => e);
      if (r instanceof Error || r.code !== 'OK') {
        // Whatever went wrong (refused, timeout), the attempt may have counted: never send it again.
        this.pinRejected = true;
        const why = r instanceof Error ? r.message : r.line;
        book.fail('pin-rejected', `SIM PIN rejected (${why}); not retried to avoid a PUK lock: fix gsm.pin and restart`);
        if (!this.pinRejectedLogged) {
          this.pinRejectedLogged = true;
          this.log.error('gsm.pin_rejected', { reason: why });
        }
        return false;
      }
      // The SIM takes a moment after the PIN; wait for READY.
      for (let i = 0; i < 10; i++) {
        const s = await this.readPinState();
        if (s === 'READY') return true;
        if (s !== 'SIM PIN' && s !== 'NOT READY' && s !== 'busy') break;
        await this.sleep(500);
      }
      book.fail('sim-error', 'SIM did not become ready after the PIN');
      return false;
    }
    if (pinState === 'SIM PUK') book.fail('sim-error', 'SIM is PUK-locked: unlock it in a phone');
    else book.fail('sim-error', `SIM not usable: ${pinState}`);
    return false;
  }

  /** "READY", "SIM PIN", "SIM PUK", "busy"... or the error text ("SIM not inserted"). */
  private async readPinState(): Promise<string> {
    for (let i = 0; i < 5; i++) {
      const r = await this.ops.pinState();
      if ('state' in r) return r.state;
      if (!r.busy) return r.error;
      await this.sleep(1000);
    }
    return 'busy';
  }

  private async waitRegistration(): Promise<void> {
    const deadline = this.clock.now() + this.t.registrationTimeout;
    for (;;) {
      await this.readRegistration();
      if (this.book.registration?.registered) return;
      if (this.clock.now() + this.t.registrationPoll > deadline) break;
      await this.sleep(this.t.registrationPoll);
    }
    const text = this.book.registration?.text ?? 'unknown';
    this.book.setError(`not registered to the network (${text}) after ${Math.round(this.t.registrationTimeout / 1000)} s`);
    this.log.warn('gsm.not_registered', { registration: text });
  }

  private async readOperator(): Promise<void> {
    try {
      const op = await this.ops.operator();
      if (op !== null) this.book.operator = op;
    } catch (e) {
      if (e instanceof AtError && e.kind === 'port-closed') throw e;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(resolve, ms));
  }
}
