/**
 * The SIM900 driver: owns the AT engine, brings the module up (echo off, verbose errors, PIN,
 * registration, PDU mode, new-SMS and DTMF indications), keeps polling its health, reopens the
 * port with backoff when it vanishes, serializes voice calls, and turns SMS replies into
 * acknowledgements. The daemon constructs one; the gsm and sms channels use it.
 */
import type { AckSink, ChannelHealth } from '../channel.js';
import type { GsmConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { AtEngine, AtError, type AtResponse, type CommandOptions, type OpenPort } from './at-engine.js';
import {
  parseCmti,
  parseCops,
  parseCpin,
  parseCreg,
  parseCsq,
  parseStoredPdus,
  type Registration,
  type Signal,
  type StoredPdu,
  type Urc,
} from './at-parser.js';
import { Slots } from '../../util/slots.js';
import { decodeSmsDeliver, normalizePhone } from './pdu/index.js';
import { parseSmsReply } from './sms-reply.js';

export type ModemState =
  | 'stopped'
  | 'opening'
  | 'initializing'
  | 'ready'
  | 'disconnected' // port closed or cannot be opened; reopening with backoff
  | 'no-response' // port open, module does not answer AT
  | 'init-failed' // a bring-up command failed; retried at the next health poll
  | 'sim-pin-required' // SIM wants a PIN and gsm.pin is empty
  | 'pin-rejected' // gsm.pin was wrong: never retried (PUK lock risk)
  | 'sim-error' // no SIM, PUK-locked, SIM failure
  | 'powered-down';

export interface ModemStatus {
  state: ModemState;
  port: string;
  healthy: boolean;
  registered: boolean;
  registration?: { stat: number; text: string };
  signal?: { rssi: number; dbm: number | null; ber: number };
  operator?: string;
  lastError?: string;
  lastErrorAt?: number;
  /** Consecutive failed health polls. */
  failures: number;
  reconnects: number;
  lastBringUpAt?: number;
  inCall: boolean;
}

/** What the gsm and sms channels use from the modem. */
export interface ModemLink {
  isReady(): boolean;
  health(): ChannelHealth;
  command(command: string, opts?: CommandOptions): Promise<AtResponse>;
  /** Subscribes to unsolicited result codes; returns the unsubscribe function. */
  onUrc(fn: (urc: Urc) => void): () => void;
  /** One call at a time: resolves with a release function. Rejects if the signal aborts first. */
  acquireCall(signal?: AbortSignal): Promise<() => void>;
}

export interface Sim900ModemOptions {
  config: GsmConfig;
  logger: Logger;
  clock?: Clock;
  openPort?: OpenPort;
  ackSink?: AckSink;
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
}

interface PartialSms {
  total: number;
  parts: Map<number, { text: string; index: number }>;
  firstSeen: number;
}

const PARTIAL_SMS_MAX_AGE = 24 * 3600_000;
const PARTIAL_SMS_MAX = 64;

export class Sim900Modem implements ModemLink {
  readonly engine: AtEngine;
  private readonly cfg: GsmConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly ackSink: AckSink | undefined;
  private readonly opt: Required<
    Pick<
      Sim900ModemOptions,
      'registrationTimeout' | 'registrationPoll' | 'reconnectMin' | 'reconnectMax' | 'probeAttempts' | 'probeTimeout' | 'failureThreshold'
    >
  >;
  /** One voice call at a time per modem. */
  private readonly callLock = new Slots(1);
  private readonly urcListeners = new Set<(urc: Urc) => void>();

  private running = false;
  private state: ModemState = 'stopped';
  private registration: Registration | undefined;
  private signal: Signal | undefined;
  private operator: string | undefined;
  private lastError: string | undefined;
  private lastErrorAt: number | undefined;
  private failures = 0;
  private reconnects = 0;
  private lastBringUpAt: number | undefined;
  /** Set once gsm.pin was refused: the PIN is never sent again by this process. */
  private pinRejected = false;
  private pinRejectedLogged = false;
  private bringingUp: Promise<void> | null = null;
  private cancelHealthTimer: (() => void) | null = null;
  private cancelReconnectTimer: (() => void) | null = null;
  private reconnectDelay: number;
  private smsWork: Promise<void> = Promise.resolve();
  private partials = new Map<string, PartialSms>();

  constructor(opts: Sim900ModemOptions) {
    this.cfg = opts.config;
    this.log = opts.logger.child({ component: 'gsm' });
    this.clock = opts.clock ?? systemClock;
    this.ackSink = opts.ackSink;
    this.opt = {
      registrationTimeout: opts.registrationTimeout ?? 60_000,
      registrationPoll: opts.registrationPoll ?? 2000,
      reconnectMin: opts.reconnectMin ?? 1000,
      reconnectMax: opts.reconnectMax ?? 30_000,
      probeAttempts: opts.probeAttempts ?? 10,
      probeTimeout: opts.probeTimeout ?? 1000,
      failureThreshold: opts.failureThreshold ?? 3,
    };
    this.reconnectDelay = this.opt.reconnectMin;
    this.engine = new AtEngine({
      path: this.cfg.port,
      baudRate: this.cfg.baudRate,
      ...(opts.openPort ? { openPort: opts.openPort } : {}),
      logger: this.log,
      clock: this.clock,
      commandTimeout: this.cfg.commandTimeout,
      ...(opts.settleTime !== undefined ? { settleTime: opts.settleTime } : {}),
    });
    this.engine.on('urc', (urc) => this.onUrcEvent(urc));
    this.engine.on('disconnect', (err) => this.onDisconnect(err));
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
    await this.engine.close();
    await this.bringingUp?.catch(() => {});
    await this.smsWork.catch(() => {});
    this.state = 'stopped';
  }

  isReady(): boolean {
    return this.state === 'ready' && this.engine.isOpen;
  }

  health(): ChannelHealth {
    const s = this.status();
    return { healthy: s.healthy, detail: this.describe(s) };
  }

  status(): ModemStatus {
    const healthy =
      this.state === 'ready' && this.engine.isOpen && (this.registration?.registered ?? false) && this.failures < this.opt.failureThreshold;
    return {
      state: this.state,
      port: this.cfg.port,
      healthy,
      registered: this.registration?.registered ?? false,
      ...(this.registration ? { registration: { stat: this.registration.stat, text: this.registration.text } } : {}),
      ...(this.signal ? { signal: { ...this.signal } } : {}),
      ...(this.operator !== undefined ? { operator: this.operator } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError, lastErrorAt: this.lastErrorAt } : {}),
      failures: this.failures,
      reconnects: this.reconnects,
      ...(this.lastBringUpAt !== undefined ? { lastBringUpAt: this.lastBringUpAt } : {}),
      inCall: this.callLock.inUse > 0,
    };
  }

  command(command: string, opts?: CommandOptions): Promise<AtResponse> {
    return this.engine.command(command, opts);
  }

  onUrc(fn: (urc: Urc) => void): () => void {
    this.urcListeners.add(fn);
    return () => this.urcListeners.delete(fn);
  }

  async acquireCall(signal?: AbortSignal): Promise<() => void> {
    const release = await this.callLock.acquire(signal);
    if (!release) throw new Error('aborted');
    return release;
  }

  /** Resolves when queued incoming-SMS work is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.smsWork;
  }

  // ---- connection and bring-up ----

  private async connect(): Promise<void> {
    if (!this.running) return;
    this.state = 'opening';
    try {
      await this.engine.open();
    } catch (e) {
      this.fail('disconnected', `cannot open ${this.cfg.port}: ${(e as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    this.log.info('gsm.port_open', { port: this.cfg.port });
    await this.bringUp();
  }

  private onDisconnect(err: Error): void {
    this.fail('disconnected', err.message);
    this.registration = undefined;
    this.signal = undefined;
    if (this.running) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.cancelReconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.opt.reconnectMax);
    this.log.info('gsm.reconnect_scheduled', { port: this.cfg.port, delayMs: delay });
    this.cancelReconnectTimer = this.clock.setTimer(() => {
      this.cancelReconnectTimer = null;
      this.reconnects++;
      void this.connect();
    }, delay);
  }

  /** Runs bring-up (once at a time); resolves when it finished, whatever the result. */
  bringUp(): Promise<void> {
    if (!this.bringingUp) {
      this.bringingUp = this.doBringUp()
        .catch((e) => {
          const err = e as Error;
          if (err instanceof AtError && err.kind === 'port-closed') return; // disconnect handler reports it
          this.fail(this.engine.isOpen ? 'init-failed' : 'disconnected', `bring-up failed: ${err.message}`);
        })
        .finally(() => {
          this.bringingUp = null;
        });
    }
    return this.bringingUp;
  }

  private async doBringUp(): Promise<void> {
    this.state = 'initializing';
    this.log.info('gsm.bring_up', { port: this.cfg.port });
    if (!(await this.probe())) {
      this.fail('no-response', `modem on ${this.cfg.port} does not answer AT`);
      return;
    }
    await this.engine.ok('ATE0');
    await this.engine.ok('AT+CMEE=2');
    if (!(await this.unlockSim())) return;
    await this.waitRegistration();
    await this.pollSignal().catch((e) => this.log.warn('gsm.csq_failed', { error: (e as Error).message }));
    await this.readOperator();
    // PDU mode is required: in text mode AT+CMGS=<length> would take the length for a number.
    await this.engine.ok('AT+CMGF=0');
    // The rest degrade one feature each (SMS replies, keypress ack, caller id): warn, carry on.
    for (const cmd of ['AT+CNMI=2,1,0,0,0', 'AT+DDET=1', 'AT+CLIP=1']) {
      const r = await this.engine.command(cmd);
      if (!r.ok) {
        this.setError(`${cmd}: ${r.final.line}`);
        this.log.warn('gsm.setting_refused', { command: cmd, final: r.final.line });
      }
    }
    this.state = 'ready';
    this.failures = 0;
    this.reconnectDelay = this.opt.reconnectMin;
    this.lastBringUpAt = this.clock.now();
    this.log.info('gsm.ready', {
      registered: this.registration?.text,
      rssi: this.signal?.rssi,
      dbm: this.signal?.dbm ?? undefined,
      operator: this.operator,
    });
    this.enqueueSms(() => this.readStored());
  }

  /** `AT` until answered (autobauding, power-up noise). */
  private async probe(): Promise<boolean> {
    for (let i = 0; i < this.opt.probeAttempts; i++) {
      try {
        const r = await this.engine.command('AT', { timeout: this.opt.probeTimeout });
        if (r.ok) return true;
        await this.sleep(this.opt.probeTimeout);
      } catch (e) {
        if (e instanceof AtError && e.kind === 'port-closed') throw e;
      }
    }
    return false;
  }

  /** AT+CPIN? and, if asked for, the configured PIN: once. Returns true when the SIM is ready. */
  private async unlockSim(): Promise<boolean> {
    const pinState = await this.readPinState();
    if (pinState === 'READY') return true;
    if (pinState === 'SIM PIN') {
      if (this.pinRejected) {
        this.fail('pin-rejected', 'SIM PIN was rejected earlier; not retried (PUK lock risk): fix gsm.pin and restart');
        return false;
      }
      if (!this.cfg.pin) {
        this.fail('sim-pin-required', 'SIM asks for a PIN but gsm.pin is empty');
        return false;
      }
      const r = await this.engine.command(`AT+CPIN="${this.cfg.pin}"`, { timeout: Math.max(this.cfg.commandTimeout, 10_000) }).catch((e: Error) => e);
      if (r instanceof Error || !r.ok) {
        // Whatever went wrong (refused, timeout), the attempt may have counted: never send it again.
        this.pinRejected = true;
        const why = r instanceof Error ? r.message : r.final.line;
        this.fail('pin-rejected', `SIM PIN rejected (${why}); not retried to avoid a PUK lock: fix gsm.pin and restart`);
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
      this.fail('sim-error', 'SIM did not become ready after the PIN');
      return false;
    }
    if (pinState === 'SIM PUK') this.fail('sim-error', 'SIM is PUK-locked: unlock it in a phone');
    else this.fail('sim-error', `SIM not usable: ${pinState}`);
    return false;
  }

  /** "READY", "SIM PIN", "SIM PUK", "busy"... or the error text ("SIM not inserted"). */
  private async readPinState(): Promise<string> {
    for (let i = 0; i < 5; i++) {
      const r = await this.engine.command('AT+CPIN?');
      if (r.ok) {
        const line = r.lines.find((l) => l.startsWith('+CPIN:'));
        return (line && parseCpin(line)) ?? 'unknown';
      }
      const text = r.final.errorText ?? r.final.line;
      // 14 "SIM busy": the SIM is still starting.
      if (!/busy/i.test(text) && r.final.errorCode !== 14) return text;
      await this.sleep(1000);
    }
    return 'busy';
  }

  private async waitRegistration(): Promise<void> {
    const deadline = this.clock.now() + this.opt.registrationTimeout;
    for (;;) {
      await this.pollRegistration();
      if (this.registration?.registered) return;
      if (this.clock.now() + this.opt.registrationPoll > deadline) break;
      await this.sleep(this.opt.registrationPoll);
    }
    const text = this.registration?.text ?? 'unknown';
    this.setError(`not registered to the network (${text}) after ${Math.round(this.opt.registrationTimeout / 1000)} s`);
    this.log.warn('gsm.not_registered', { registration: text });
  }

  private async pollRegistration(): Promise<void> {
    const r = await this.engine.ok('AT+CREG?');
    const line = r.lines.find((l) => l.startsWith('+CREG:'));
    const reg = line ? parseCreg(line) : null;
    if (!reg) throw new AtError('final', `AT+CREG?: unexpected answer ${JSON.stringify(r.lines.join(' ').slice(0, 60))}`);
    if (this.registration && this.registration.registered !== reg.registered) {
      this.log.info('gsm.registration', { registration: reg.text });
    }
    this.registration = reg;
  }

  private async pollSignal(): Promise<void> {
    const r = await this.engine.ok('AT+CSQ');
    const line = r.lines.find((l) => l.startsWith('+CSQ:'));
    const sig = line ? parseCsq(line) : null;
    if (!sig) throw new AtError('final', 'AT+CSQ: unexpected answer');
    this.signal = sig;
  }

  private async readOperator(): Promise<void> {
    try {
      const r = await this.engine.command('AT+COPS?');
      const line = r.ok ? r.lines.find((l) => l.startsWith('+COPS:')) : undefined;
      const op = line ? parseCops(line) : null;
      if (op !== null) this.operator = op;
    } catch (e) {
      if (e instanceof AtError && e.kind === 'port-closed') throw e;
    }
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
    if (!this.running || !this.engine.isOpen || this.bringingUp) return;
    const needsBringUp =
      this.state === 'no-response' ||
      this.state === 'init-failed' ||
      this.state === 'powered-down' ||
      (this.state === 'ready' && this.failures >= this.opt.failureThreshold);
    if (needsBringUp) {
      await this.bringUp();
      return;
    }
    if (this.state !== 'ready') return;
    try {
      await this.pollRegistration();
      await this.pollSignal();
      this.failures = 0;
    } catch (e) {
      this.failures++;
      this.setError(`health poll failed: ${(e as Error).message}`);
      if (this.failures === this.opt.failureThreshold) {
        this.log.error('gsm.unhealthy', { failures: this.failures, error: (e as Error).message });
      }
    }
  }

  private describe(s: ModemStatus): string {
    if (s.state !== 'ready') return `modem ${s.state}${s.lastError ? `: ${s.lastError}` : ''}`;
    const parts: string[] = [];
    parts.push(s.registration ? s.registration.text : 'registration unknown');
    if (s.signal) parts.push(s.signal.dbm === null ? 'signal unknown' : `signal ${s.signal.rssi} (${s.signal.dbm} dBm)`);
    if (s.operator) parts.push(s.operator);
    if (s.failures > 0) parts.push(`${s.failures} failed health polls (${s.lastError ?? ''})`);
    return parts.join(', ');
  }

  private fail(state: ModemState, message: string): void {
    this.state = state;
    this.setError(message);
    this.log.warn('gsm.state', { state, error: message });
  }

  private setError(message: string): void {
    this.lastError = message;
    this.lastErrorAt = this.clock.now();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(resolve, ms));
  }

  // ---- URCs ----

  private onUrcEvent(urc: Urc): void {
    for (const fn of [...this.urcListeners]) {
      try {
        fn(urc);
      } catch (e) {
        this.log.error('gsm.urc_listener_failed', { error: (e as Error).message });
      }
    }
    switch (urc.kind) {
      case 'new-sms': {
        const at = parseCmti(urc.value ?? '');
        if (at) this.enqueueSms(() => this.readOne(at.index));
        else this.log.warn('gsm.bad_cmti', { line: urc.line.slice(0, 80) });
        break;
      }
      case 'power-down':
        this.fail('powered-down', `modem says ${urc.line}`);
        break;
      case 'power-warning':
        this.log.warn('gsm.power_warning', { line: urc.line });
        break;
      case 'ready': // RDY: the module restarted; its settings are gone
        if (this.running && this.state !== 'initializing' && !this.bringingUp) {
          this.log.warn('gsm.module_restarted');
          void this.bringUp();
        }
        break;
      case 'registration': {
        const reg = parseCreg(urc.line);
        if (reg) this.registration = reg;
        break;
      }
      default:
        break;
    }
  }

  // ---- incoming SMS ----

  private enqueueSms(work: () => Promise<void>): void {
    this.smsWork = this.smsWork.then(work).catch((e) => {
      this.log.warn('gsm.sms_in_failed', { error: (e as Error).message });
    });
  }

  /** AT+CMGL=4 (all messages, PDU mode) at bring-up: replies that arrived while we were away. */
  private async readStored(): Promise<void> {
    if (!this.isReady()) return;
    const r = await this.engine.ok('AT+CMGL=4');
    const stored = parseStoredPdus(r.lines);
    if (stored.length) this.log.info('gsm.sms_stored', { count: stored.length });
    for (const s of stored) await this.handleStored(s);
  }

  private async readOne(index: number): Promise<void> {
    if (!this.engine.isOpen) return;
    const r = await this.engine.command(`AT+CMGR=${index}`);
    if (!r.ok) {
      this.log.warn('gsm.sms_read_failed', { index, final: r.final.line });
      return;
    }
    const [stored] = parseStoredPdus(r.lines, index);
    if (!stored) {
      this.log.warn('gsm.sms_read_empty', { index });
      await this.deleteSms(index);
      return;
    }
    await this.handleStored(stored);
  }

  private async handleStored(s: StoredPdu): Promise<void> {
    let msg: ReturnType<typeof decodeSmsDeliver>;
    try {
      msg = decodeSmsDeliver(s.pdu);
    } catch (e) {
      this.log.warn('gsm.sms_undecodable', { index: s.index, error: (e as Error).message });
      await this.deleteSms(s.index);
      return;
    }
    if (msg.concat && msg.concat.total > 1) {
      const whole = this.collectPart(msg.sender, msg.concat, msg.text, s.index);
      if (!whole) return; // wait for the other parts; they stay stored on the SIM meanwhile
      const handled = await this.handleText(msg.sender, whole.text);
      if (handled) for (const i of whole.indexes) await this.deleteSms(i);
      return;
    }
    if (await this.handleText(msg.sender, msg.text)) await this.deleteSms(s.index);
  }

  private collectPart(
    sender: string,
    concat: { ref: number; total: number; seq: number },
    text: string,
    index: number,
  ): { text: string; indexes: number[] } | null {
    const now = this.clock.now();
    for (const [k, p] of this.partials) if (now - p.firstSeen > PARTIAL_SMS_MAX_AGE) this.partials.delete(k);
    const key = `${sender}|${concat.ref}|${concat.total}`;
    let p = this.partials.get(key);
    if (!p) {
      if (this.partials.size >= PARTIAL_SMS_MAX) {
        const oldest = this.partials.keys().next().value;
        if (oldest !== undefined) this.partials.delete(oldest);
      }
      p = { total: concat.total, parts: new Map(), firstSeen: now };
      this.partials.set(key, p);
    }
    if (concat.seq >= 1 && concat.seq <= concat.total) p.parts.set(concat.seq, { text, index });
    if (p.parts.size < p.total) return null;
    this.partials.delete(key);
    const ordered = [...p.parts.entries()].sort((a, b) => a[0] - b[0]);
    return { text: ordered.map(([, v]) => v.text).join(''), indexes: ordered.map(([, v]) => v.index) };
  }

  /** Acts on a whole message. Returns false when it must stay stored (acknowledgement not recorded). */
  private async handleText(sender: string, text: string): Promise<boolean> {
    const reply = parseSmsReply(text);
    let phone = sender;
    try {
      phone = normalizePhone(sender);
    } catch {
      // alphanumeric or odd senders cannot be users; keep the raw form for the log
    }
    if (reply.type !== 'ack') {
      this.log.info('gsm.sms_ignored', { sender: phone, text: text.slice(0, 60) });
      return true;
    }
    if (!this.ackSink) {
      this.log.warn('gsm.sms_ack_unhandled', { sender: phone, reason: 'no acknowledgement sink' });
      return true;
    }
    try {
      const acked = await this.ackSink.acknowledgeByPhone(phone, reply.alertId, 'sms-reply');
      if (acked === null) this.log.info('gsm.sms_ack_unmatched', { sender: phone, alertId: reply.alertId });
      else this.log.info('gsm.sms_ack', { sender: phone, alertId: acked });
      return true;
    } catch (e) {
      this.log.error('gsm.sms_ack_failed', { sender: phone, error: (e as Error).message });
      return false;
    }
  }

  private async deleteSms(index: number): Promise<void> {
    const r = await this.engine.command(`AT+CMGD=${index}`);
    if (!r.ok) this.log.warn('gsm.sms_delete_failed', { index, final: r.final.line });
  }
}
