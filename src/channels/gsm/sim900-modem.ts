/**
 * The SIM900 modem: one object that owns the serial port and everything on it. It composes
 * focused pieces (src/channels/gsm/modem/): the typed AT operations, bring-up, the status book,
 * the URC events, the SMS inbox and call-back, and itself keeps only the lifecycle: open the
 * port, bring the module up, poll its health, reopen with backoff when the port vanishes. The
 * channels see it as a ModemLink (typed operations, events, status), shared through a
 * SharedModem (modem/shared-modem.ts).
 */
import type { ChannelHealth, InboundSink } from '../channel.js';
import type { GsmConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { Slots } from '../../util/slots.js';
import { AtEngine, AtError, type OpenPort } from './at-engine.js';
import type { CallListEntry, FinalResult } from './at-parser.js';
import { BringUp } from './modem/bring-up.js';
import { CallBack } from './modem/call-back.js';
import { ModemEvents, type ModemEvent } from './modem/events.js';
import { SmsInbox } from './modem/inbox.js';
import { ModemOperations, type DialOptions, type SendPduResult } from './modem/operations.js';
import { SmsReplies } from './modem/replies.js';
import { describeStatus, StatusBook, type ModemStatus } from './modem/status.js';
import { SmsSender } from './sms-sender.js';

export type { ModemState, ModemStatus } from './modem/status.js';
export type { ModemEvent } from './modem/events.js';

/** What the gsm and sms channels use from the modem: typed operations, events and status. */
export interface ModemLink {
  isReady(): boolean;
  health(): ChannelHealth;
  status(): ModemStatus;
  /** One call at a time: resolves with a release function. Rejects if the signal aborts first. */
  acquireCall(signal?: AbortSignal): Promise<() => void>;
  /** ATD<number>; — resolves with the final result (OK: the call is being placed). */
  dial(number: string, opts?: DialOptions): Promise<FinalResult>;
  /** ATH. */
  hangUp(): Promise<void>;
  /** AT+CLCC. */
  listCalls(): Promise<CallListEntry[]>;
  /** AT+CMGS=<n>, `> `, the PDU, Ctrl-Z: +CMGS's reference or the refusing final code. */
  sendPdu(tpduLength: number, hex: string): Promise<SendPduResult>;
  /** Subscribes to the modem's events (+DTMF keys, call progress, RING...); returns the unsubscribe. */
  onEvent(fn: (e: ModemEvent) => void): () => void;
}

export interface Sim900ModemOptions {
  config: GsmConfig;
  logger: Logger;
  clock?: Clock;
  openPort?: OpenPort;
  /**
   * Where SMS replies and call-backs go. Without one the modem leaves the SIM's messages and
   * incoming calls alone (what `alertline doctor` wants: the daemon reads them).
   */
  inbound?: InboundSink;
  /** How long bring-up waits for network registration (ms, default 60 s). */
  registrationTimeout?: number;
  /** Pause between AT+CREG? polls during bring-up (ms, default 2 s). */
  registrationPoll?: number;
  /** Reopen backoff after the port vanished (ms, default 1 s doubling up to 30 s). */
  reconnectMin?: number;
  reconnectMax?: number;
  /** How many `AT` probes bring-up sends before giving up (default 10, 1 s each). */
  probeAttempts?: number;
  probeTimeout?: number;
  /** Consecutive failed health polls before the modem counts as unhealthy (default 3). */
  failureThreshold?: number;
  /** Quiet time after a cancelled command (ms). */
  settleTime?: number;
  /** Replies (SMS) per number and hour at most (default 10). */
  repliesPerHour?: number;
  /** A caller's number counts once per this long (RING repeats; ms, default 60 s). */
  callBackCooldown?: number;
}

/** How long stop() waits for inbox / call-back work in flight before closing the port. */
const STOP_GRACE_MS = 5000;

export class Sim900Modem implements ModemLink {
  private readonly engine: AtEngine;
  private readonly ops: ModemOperations;
  private readonly events: ModemEvents;
  private readonly book: StatusBook;
  private readonly bringUpSeq: BringUp;
  private readonly inbox: SmsInbox | undefined;
  private readonly callBack: CallBack | undefined;
  private readonly cfg: GsmConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly reconnectMin: number;
  private readonly reconnectMax: number;
  private readonly failureThreshold: number;
  /** One voice call at a time per modem (rejecting an incoming call takes it too). */
  private readonly callLock = new Slots(1);

  private running = false;
  private bringingUp: Promise<void> | null = null;
  private cancelHealthTimer: (() => void) | null = null;
  private cancelReconnectTimer: (() => void) | null = null;
  private reconnectDelay: number;

  constructor(opts: Sim900ModemOptions) {
    this.cfg = opts.config;
    this.log = opts.logger.child({ component: 'gsm' });
    this.clock = opts.clock ?? systemClock;
    this.reconnectMin = opts.reconnectMin ?? 1000;
    this.reconnectMax = opts.reconnectMax ?? 30_000;
    this.failureThreshold = opts.failureThreshold ?? 3;
    this.reconnectDelay = this.reconnectMin;
    this.engine = new AtEngine({
      path: this.cfg.port,
      baudRate: this.cfg.baudRate,
      ...(opts.openPort ? { openPort: opts.openPort } : {}),
      logger: this.log,
      clock: this.clock,
      commandTimeout: this.cfg.commandTimeout,
      ...(opts.settleTime !== undefined ? { settleTime: opts.settleTime } : {}),
    });
    this.ops = new ModemOperations(this.engine);
    this.events = new ModemEvents(this.log);
    this.book = new StatusBook(this.cfg.port, this.failureThreshold, this.clock, this.log);
    this.bringUpSeq = new BringUp(
      this.ops,
      this.book,
      this.cfg,
      {
        registrationTimeout: opts.registrationTimeout ?? 60_000,
        registrationPoll: opts.registrationPoll ?? 2000,
        probeAttempts: opts.probeAttempts ?? 10,
        probeTimeout: opts.probeTimeout ?? 1000,
      },
      this.clock,
      this.log,
    );
    if (opts.inbound) {
      const replies = new SmsReplies(new SmsSender(this, { clock: this.clock, log: this.log }), this.clock, this.log, opts.repliesPerHour);
      this.inbox = new SmsInbox(this.ops, opts.inbound, replies, this.clock, this.log);
      this.callBack = new CallBack(this.ops, this.callLock, opts.inbound, replies, this.clock, this.log, opts.callBackCooldown);
    }
    this.engine.on('urc', (urc) => this.events.urc(urc));
    this.engine.on('disconnect', (err) => this.onDisconnect(err));
    this.events.on((e) => this.onEventInternal(e));
  }

  /** Opens the port and runs bring-up once; never throws (failures show in status()). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect();
    this.scheduleHealth();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.cancelHealthTimer?.();
    this.cancelHealthTimer = null;
    this.cancelReconnectTimer?.();
    this.cancelReconnectTimer = null;
    // Let the inbox / call-back finish the command in flight (bounded), so the port does not close
    // in the middle of an exchange; whatever is still queued fails with port-closed.
    let cancelGrace = () => {};
    await Promise.race([this.idle().catch(() => {}), new Promise<void>((r) => (cancelGrace = this.clock.setTimer(r, STOP_GRACE_MS)))]);
    cancelGrace();
    await this.engine.close();
    await this.bringingUp?.catch(() => {});
    await this.idle().catch(() => {});
    this.book.state = 'stopped';
  }

  isReady(): boolean {
    return this.book.state === 'ready' && this.engine.isOpen;
  }

  health(): ChannelHealth {
    return describeStatus(this.status());
  }

  status(): ModemStatus {
    return this.book.snapshot(this.engine.isOpen, this.callLock.inUse > 0);
  }

  // ---- ModemLink operations ----

  async acquireCall(signal?: AbortSignal): Promise<() => void> {
    const release = await this.callLock.acquire(signal);
    if (!release) throw new Error('aborted');
    return release;
  }

  dial(number: string, opts?: DialOptions): Promise<FinalResult> {
    return this.ops.dial(number, opts);
  }

  hangUp(): Promise<void> {
    return this.ops.hangUp();
  }

  listCalls(): Promise<CallListEntry[]> {
    return this.ops.listCalls();
  }

  sendPdu(tpduLength: number, hex: string): Promise<SendPduResult> {
    return this.ops.sendPdu(tpduLength, hex);
  }

  onEvent(fn: (e: ModemEvent) => void): () => void {
    return this.events.on(fn);
  }

  /** Resolves when queued inbox and call-back work is done (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const a = this.inbox?.idle();
      const b = this.callBack?.idle();
      await Promise.all([a, b]);
      if (a === this.inbox?.idle() && b === this.callBack?.idle()) return;
    }
  }

  // ---- connection and bring-up ----

  private async connect(): Promise<void> {
    if (!this.running) return;
    this.book.state = 'opening';
    try {
      await this.engine.open();
    } catch (e) {
      this.book.fail('disconnected', `cannot open ${this.cfg.port}: ${(e as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    this.log.info('gsm.port_open', { port: this.cfg.port });
    await this.bringUp();
  }

  private onDisconnect(err: Error): void {
    this.book.lost(err.message);
    if (this.running) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.cancelReconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.reconnectMax);
    this.log.info('gsm.reconnect_scheduled', { port: this.cfg.port, delayMs: delay });
    this.cancelReconnectTimer = this.clock.setTimer(() => {
      this.cancelReconnectTimer = null;
      this.book.reconnects++;
      void this.connect();
    }, delay);
  }

  /** Runs bring-up (once at a time); resolves when it finished, whatever the result. */
  bringUp(): Promise<void> {
    if (!this.bringingUp) {
      this.bringingUp = this.bringUpSeq
        .run()
        .then((ready) => {
          if (!ready) return;
          this.reconnectDelay = this.reconnectMin;
          this.inbox?.readAll();
        })
        .catch((e) => {
          const err = e as Error;
          if (err instanceof AtError && err.kind === 'port-closed') return; // the disconnect handler reports it
          this.book.fail(this.engine.isOpen ? 'init-failed' : 'disconnected', `bring-up failed: ${err.message}`);
        })
        .finally(() => {
          this.bringingUp = null;
        });
    }
    return this.bringingUp;
  }

  // ---- health ----

  private scheduleHealth(): void {
    if (!this.running) return;
    this.cancelHealthTimer = this.clock.setTimer(() => {
      this.cancelHealthTimer = null;
      void this.healthTick().finally(() => this.scheduleHealth());
    }, this.cfg.healthInterval);
  }

  /** One health poll: registration and signal; re-runs bring-up when the module needs it. */
  async healthTick(): Promise<void> {
    const book = this.book;
    if (!this.running || !this.engine.isOpen || this.bringingUp) return;
    const needsBringUp =
      book.state === 'no-response' ||
      book.state === 'init-failed' ||
      book.state === 'powered-down' ||
      (book.state === 'ready' && book.failures >= this.failureThreshold);
    if (needsBringUp) {
      await this.bringUp();
      return;
    }
    if (book.state !== 'ready') return;
    try {
      await this.bringUpSeq.readRegistration();
      await this.bringUpSeq.readSignal();
      book.failures = 0;
    } catch (e) {
      book.failures++;
      book.setError(`health poll failed: ${(e as Error).message}`);
      if (book.failures === this.failureThreshold) {
        this.log.error('gsm.unhealthy', { failures: book.failures, error: (e as Error).message });
      }
    }
  }

  // ---- events the modem itself acts on ----

  private onEventInternal(e: ModemEvent): void {
    switch (e.type) {
      case 'new-sms':
        this.inbox?.arrived(e.index);
        break;
      case 'caller-id':
        this.callBack?.event(e);
        break;
      case 'power-down':
        this.book.fail('powered-down', `modem says ${e.line}`);
        break;
      case 'power-warning':
        this.log.warn('gsm.power_warning', { line: e.line });
        break;
      case 'restarted': // RDY: the module restarted; its settings are gone
        if (this.running && this.book.state !== 'initializing' && !this.bringingUp) {
          this.log.warn('gsm.module_restarted');
          void this.bringUp();
        }
        break;
      case 'registration':
        this.book.registration = e.registration;
        break;
      default:
        break;
    }
  }
}
