/**
 * The SMTP receiver (smtp-server): who may connect (smtp.allowFrom), AUTH and STARTTLS, which
 * recipients exist (users and groups), capacity (filter.maxPending → 452), size (552), checks on
 * the raw message, parsing, and the rule that matters most: "250" is sent only after the alert and
 * its deliveries are committed to SQLite. A failed commit answers 451 and nothing half-stored stays.
 *
 * Against hostile neighbours: sessions per client address are capped and idle ones closed early
 * (connection-limits.ts), failed AUTH is slowed down and locked out per address (FailureLimiter),
 * and with smtp.tls AUTH is neither offered nor accepted before STARTTLS.
 */
import { readFileSync } from 'node:fs';
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerAuthenticationResponse, type SMTPServerSession, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { SmtpConfig } from '../config/schema.js';
import type { UserStore, User } from '../store/users.js';
import type { AdmitResult } from '../store/rows.js';
import type { Logger } from '../util/log.js';
import type { Clock } from '../util/clock.js';
import { ClientNetworks, clientKey } from './client-networks.js';
import { ConnectionLimits } from './connection-limits.js';
import { FailureLimiter } from '../util/failure-limiter.js';
import { clampDelay } from '../util/timers.js';
import { checkRawMessage } from './message-checks.js';
import { inlineParse, ParseTempFail, type MailParser } from './parse-pool/pool.js';
import type { AlertWriter } from './alert-writer.js';
import { isOwnRelay } from '../compose/relayed-mail.js';

export interface ReceiverDeps {
  config: SmtpConfig;
  users: UserStore;
  writer: AlertWriter;
  /** Deliveries still to do; at or above maxPending() new mail gets 452. */
  openDeliveries: () => number | Promise<number>;
  maxPending: () => number;
  /** Whether an address that is no user or group is a route's (noc@ → an escalation policy). */
  routes?: (address: string) => Promise<boolean>;
  /** Heartbeats by mail: a message to heartbeat+<name>@… is a ping of that dead-man's switch. */
  heartbeat?: { known(name: string): Promise<boolean>; ping(name: string): Promise<unknown> };
  /** Room on the data disk (store.minFreeSpace); when not ok, new mail gets 452 at MAIL FROM. */
  diskSpace?: () => Promise<{ ok: boolean; free: number; min: number }>;
  /** How mail is parsed: inline (default) or by a ParsePool's workers. */
  parse?: MailParser;
  clock: Clock;
  logger: Logger;
}

const MAX_RECIPIENTS = 100;
/**
 * Longest command line read (RFC 5321 allows 512 octets, RFC 4954 more for AUTH; the longest
 * real ones here are AUTH PLAIN with a long password). Longer lines end the session with 421.
 */
const MAX_COMMAND_LINE = 4096;
/** The most the AUTH failure delay grows to, as a multiple of smtp.auth.failureDelay. */
const MAX_DELAY_FACTOR = 16;

function smtpError(code: number, message: string): Error {
  const e = new Error(message) as Error & { responseCode: number };
  e.responseCode = code;
  return e;
}

export class SmtpReceiver {
  private server: SMTPServer | null = null;
  private readonly networks: ClientNetworks;
  /**
   * Who each accepted RCPT resolved to, kept per transaction: smtp-server gives every transaction
   * a new envelope object (at RSET, HELO/EHLO, STARTTLS, AUTH and after DATA), so a map keyed by
   * the envelope can never carry recipients from an abandoned transaction into the next one.
   */
  /** Heartbeats named by this transaction's recipients (heartbeat+<name>@…). */
  private readonly beats = new WeakMap<SMTPServerSession['envelope'], Set<string>>();
  private readonly resolved = new WeakMap<SMTPServerSession['envelope'], Map<string, User[]>>();
  private closing = false;
  private accepted = 0;
  private readonly limits: ConnectionLimits;
  private readonly authFailures: FailureLimiter;
  /** AUTH failures whose delayed answer is still due (answered at once when the receiver closes). */
  private readonly delayedAnswers = new Set<{ answer: () => void; cancel: () => void }>();
  /** Client keys already logged as over their connection cap (logged again once below it). */
  private readonly overCap = new Set<string>();
  private fullLogged = false;
  private diskLowLogged = false;
  private missingConnectionWarned = false;

  constructor(private readonly d: ReceiverDeps) {
    const c = d.config;
    this.networks = new ClientNetworks(c.allowFrom);
    const users = Object.keys(c.auth.users);
    if (c.auth.required && !users.length) throw new Error('smtp.auth.required is true but smtp.auth.users is empty');
    this.limits = new ConnectionLimits({ maxClients: c.maxClients, maxPerAddress: this.maxPerAddress(), idleTimeoutMs: c.idleTimeout }, d.clock);
    this.authFailures = new FailureLimiter({
      baseDelayMs: c.auth.failureDelay, maxDelayMs: c.auth.failureDelay * MAX_DELAY_FACTOR,
      maxFailures: c.auth.maxFailures, lockoutMs: c.auth.lockout,
    }, d.clock);
  }

  /** smtp.maxClientsPerAddress, by default half of smtp.maxClients (at least 1). */
  private maxPerAddress(): number {
    const c = this.d.config;
    return Math.min(c.maxClients, c.maxClientsPerAddress ?? Math.max(1, Math.floor(c.maxClients / 2)));
  }

  get acceptedCount(): number {
    return this.accepted;
  }

  address(): AddressInfo | null {
    const s = this.server as unknown as { server?: { address(): AddressInfo | string | null } };
    const a = s?.server?.address();
    return a && typeof a === 'object' ? a : null;
  }

  async listen(): Promise<AddressInfo> {
    const c = this.d.config;
    const hasAuth = Object.keys(c.auth.users).length > 0;
    const disabled = [...(c.tls ? [] : ['STARTTLS']), ...(hasAuth ? [] : ['AUTH'])];
    // With TLS configured, AUTH is hidden and refused until the session is encrypted (unless
    // smtp.auth.allowInsecure): the per-session command list drops AUTH, and onSecure restores it.
    const authAfterTls = Boolean(c.tls) && hasAuth && !c.auth.allowInsecure;
    const opts: SMTPServerOptions = {
      name: c.hostname,
      banner: 'Alertline alert receiver',
      size: c.maxMessageSize,
      // The sessions themselves are limited in onConnect (ConnectionLimits: per address, closing
      // an idle one to make room, a bounded wait before the greeting); smtp-server's own ceiling,
      // above sessions plus waiting ones, only stops a flood of raw connections.
      maxClients: c.maxClients * 3,
      socketTimeout: c.socketTimeout,
      closeTimeout: 10_000,
      maxCommandLength: MAX_COMMAND_LINE,
      disableReverseLookup: true,
      logger: false,
      authOptional: !c.auth.required,
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: !c.tls || c.auth.allowInsecure,
      disabledCommands: disabled,
      ...(c.tls ? { key: readFileSync(c.tls.key), cert: readFileSync(c.tls.cert) } : {}),
      onConnect: (session, cb) => {
        if (authAfterTls) session.disabledCommands = [...disabled, 'AUTH'];
        this.onConnect(session, cb);
      },
      onSecure: (_socket, session, cb) => {
        if (authAfterTls) session.disabledCommands = [...disabled];
        cb();
      },
      onAuth: (auth, session, cb) => this.onAuth(auth, session, cb),
      onMailFrom: (addr, session, cb) => this.onMailFrom(addr, session, cb),
      onRcptTo: (addr, session, cb) => this.onRcptTo(addr, session, cb),
      onData: (stream, session, cb) => this.onData(stream, session, cb),
      onClose: (session) => this.onClose(session),
    };
    this.server = new SMTPServer(opts);
    this.server.on('error', (e) => this.d.logger.warn('smtp.error', { error: e }));
    await new Promise<void>((resolve, reject) => {
      const srv = this.server!;
      const onErr = (e: Error) => reject(e);
      (srv as unknown as { server: NodeJS.EventEmitter }).server.once('error', onErr);
      srv.listen(c.port, c.host, () => {
        (srv as unknown as { server: NodeJS.EventEmitter }).server.off('error', onErr);
        resolve();
      });
    });
    const a = this.address()!;
    this.d.logger.info('smtp.listening', { address: a.address, port: a.port, tls: Boolean(c.tls), authMode: c.auth.required ? 'required' : hasAuth ? 'optional' : 'off' });
    return a;
  }

  /** Stop accepting: new connections and transactions get 421; open sessions may finish. */
  async close(): Promise<void> {
    this.closing = true;
    const srv = this.server;
    if (!srv) return;
    this.server = null;
    // Sessions between transactions have nothing to finish: tell them now instead of waiting.
    this.limits.closeIdle(421, '4.3.2 Service shutting down, try later');
    for (const p of [...this.delayedAnswers]) p.answer();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    this.limits.clear();
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (this.closing) return cb(smtpError(421, '4.3.2 Service shutting down, try later'));
    if (!this.networks.allows(session.remoteAddress)) {
      this.d.logger.warn('smtp.refused', { client: session.remoteAddress, reason: 'not in smtp.allowFrom' });
      return cb(smtpError(554, '5.7.1 Client host not allowed'));
    }
    const key = clientKey(session.remoteAddress);
    const conn = this.connectionOf(session);
    this.limits.request({
      id: session.id, key,
      inTransaction: () => Boolean(session.envelope?.mailFrom),
      close: (code, message) => conn?.send(code, message),
    }, (admission) => {
      if (!admission.ok) {
        // Logged once per address (or once while the server is full), not once per connection.
        const first = admission.reason === 'per-address' ? !this.overCap.has(key) : !this.fullLogged;
        if (admission.reason === 'per-address') this.overCap.add(key);
        else this.fullLogged = true;
        if (first) this.d.logger.warn('smtp.refused', { client: session.remoteAddress, reason: admission.reason === 'per-address' ? 'smtp.maxClientsPerAddress reached' : 'smtp.maxClients reached, every session busy' });
        return cb(smtpError(admission.code, admission.message));
      }
      this.fullLogged = false;
      if (admission.evicted !== undefined) this.d.logger.info('smtp.idle_closed', { closed: admission.evicted, reason: 'smtp.maxClients reached', for: session.remoteAddress });
      cb();
    });
  }

  /** smtp-server's connection object for a session (to close it with a reply); null if not found. */
  private connectionOf(session: SMTPServerSession): { send(code: number, message: string): void } | null {
    for (const conn of this.server?.connections ?? []) if (conn.session === session) return conn;
    if (!this.missingConnectionWarned) {
      this.missingConnectionWarned = true;
      this.d.logger.warn('smtp.internal', { problem: 'session without a connection: idle sessions cannot be closed early' });
    }
    return null;
  }

  private onClose(session: SMTPServerSession): void {
    this.limits.release(session.id);
    const key = clientKey(session.remoteAddress);
    if (this.overCap.has(key) && this.limits.countFor(key) < this.maxPerAddress()) this.overCap.delete(key);
  }

  private onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void {
    const key = clientKey(session.remoteAddress);
    const status = this.authFailures.status(key);
    if (status.locked) {
      // No credentials are checked while locked out, right or wrong.
      return cb(smtpError(454, `4.7.0 Too many failed authentication attempts from your address, try again in ${Math.ceil(status.retryAfterMs / 1000)} s`));
    }
    const users = this.d.config.auth.users;
    const known = typeof auth.username === 'string' && Object.hasOwn(users, auth.username);
    const expected = known ? users[auth.username!] : undefined;
    const ok = typeof expected === 'string' && typeof auth.password === 'string' && timingSafeEqualStr(auth.password, expected);
    if (ok) return cb(null, { user: auth.username });
    const r = this.authFailures.recordFailure(key);
    // Never the password; an unknown user name is not logged either (people type passwords there).
    this.d.logger.warn('smtp.auth_failed', { client: session.remoteAddress, user: known ? auth.username : '(unknown)', failures: r.failures, delayMs: r.delayMs });
    if (r.lockedNow) this.d.logger.warn('smtp.auth_locked', { client: session.remoteAddress, key, failures: r.failures, seconds: Math.ceil(r.retryAfterMs / 1000) });
    const reply = r.locked
      ? smtpError(454, `4.7.0 Too many failed authentication attempts from your address, try again in ${Math.ceil(r.retryAfterMs / 1000)} s`)
      : smtpError(535, '5.7.8 Authentication credentials invalid');
    const pending = {
      answer: () => {
        if (!this.delayedAnswers.delete(pending)) return;
        pending.cancel();
        cb(reply);
      },
      cancel: () => {},
    };
    this.delayedAnswers.add(pending);
    pending.cancel = this.d.clock.setTimer(() => pending.answer(), clampDelay(r.delayMs));
  }

  private onMailFrom(_addr: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (this.closing) return cb(smtpError(421, '4.3.2 Service shutting down, try later'));
    if (this.d.config.auth.required && !session.user) {
      // smtp-server checks this too, but not while AUTH is withheld before STARTTLS.
      return cb(smtpError(530, this.d.config.tls && !session.secure ? '5.7.0 Must issue a STARTTLS command first' : '5.7.0 Authentication required'));
    }
    Promise.resolve().then(() => this.d.diskSpace?.()).then((space) => {
      if (space && !space.ok) {
        if (!this.diskLowLogged) this.d.logger.error('smtp.disk_full', { free: space.free, minFreeSpace: space.min, note: 'refusing new mail with 452 until space returns' });
        this.diskLowLogged = true;
        return null;
      }
      if (space && this.diskLowLogged) this.d.logger.info('smtp.disk_ok', { free: space.free });
      this.diskLowLogged = false;
      return this.d.openDeliveries();
    }).then((open) => {
      if (open === null) return cb(smtpError(452, '4.3.1 Insufficient storage on the alert receiver, try later'));
      if (open >= this.d.maxPending()) {
        this.d.logger.warn('smtp.capacity', { open, maxPending: this.d.maxPending() });
        return cb(smtpError(452, '4.3.1 Too many undelivered alerts queued, try later'));
      }
      this.limits.activity(session.id);
      cb();
    }, (e: Error) => {
      this.d.logger.error('smtp.store_error', { error: e });
      cb(smtpError(451, '4.3.0 Temporary storage problem, try later'));
    });
  }

  private onRcptTo(addr: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const address = addr.address.trim();
    const beat = heartbeatName(address);
    if (beat !== null && this.d.heartbeat) {
      this.d.heartbeat.known(beat).then((known) => {
        if (!known) {
          this.d.logger.info('smtp.unknown_recipient', { client: session.remoteAddress, rcpt: address, heartbeat: beat });
          return cb(smtpError(550, `5.1.1 <${address}>: no heartbeat ${beat} here`));
        }
        this.resolvedFor(session).set(address.toLowerCase(), []);
        let set = this.beats.get(session.envelope);
        if (!set) this.beats.set(session.envelope, (set = new Set()));
        set.add(beat);
        cb();
      }, (e: Error) => {
        this.d.logger.error('smtp.store_error', { error: e });
        cb(smtpError(451, '4.3.0 Temporary lookup failure, try later'));
      });
      return;
    }
    this.d.users.resolveRecipient(address).then((users) => this.recipientFound(address, users, session, cb), (e: Error) => {
      this.d.logger.error('smtp.store_error', { error: e });
      cb(smtpError(451, '4.3.0 Temporary lookup failure, try later'));
    });
  }

  private recipientFound(address: string, users: User[], session: SMTPServerSession, cb: (err?: Error | null) => void, routesAsked = false): void {
    if (!users.length && this.d.routes && !routesAsked) {
      // Not a user or group: maybe a route's address (noc@ → policy noc).
      this.d.routes(address).then((known) => {
        if (!known) return this.recipientFound(address, users, session, cb, true);
        this.resolvedFor(session).set(address.toLowerCase(), []);
        cb();
      }, (e: Error) => {
        this.d.logger.error('smtp.store_error', { error: e });
        cb(smtpError(451, '4.3.0 Temporary lookup failure, try later'));
      });
      return;
    }
    if (!users.length) {
      this.d.logger.info('smtp.unknown_recipient', { client: session.remoteAddress, rcpt: address });
      return cb(smtpError(550, `5.1.1 <${address}>: no such user or group here`));
    }
    if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return cb(smtpError(452, '4.5.3 Too many recipients'));
    this.resolvedFor(session).set(address.toLowerCase(), users);
    cb();
  }

  private resolvedFor(session: SMTPServerSession): Map<string, User[]> {
    let map = this.resolved.get(session.envelope);
    if (!map) this.resolved.set(session.envelope, (map = new Map()));
    return map;
  }

  /** The users this transaction's envelope names: exactly its accepted RCPTs, nothing older. */
  private recipientsOf(envelope: SMTPServerSession['envelope']): User[] {
    const map = this.resolved.get(envelope);
    const out = new Map<string, User>();
    if (!map) return [];
    for (const r of envelope.rcptTo) {
      for (const u of map.get(r.address.trim().toLowerCase()) ?? []) out.set(u.email.toLowerCase(), u);
    }
    return [...out.values()];
  }

  private onData(stream: NodeJS.ReadableStream & { sizeExceeded?: boolean }, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const envelope = session.envelope;
    const chunks: Buffer[] = [];
    let size = 0;
    const limit = this.d.config.maxMessageSize;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    stream.on('error', (e) => cb(smtpError(451, `4.3.0 ${(e as Error).message}`)));
    stream.on('end', () => {
      const users = this.recipientsOf(envelope);
      this.resolved.delete(envelope);
      if (stream.sizeExceeded || size > limit) {
        this.limits.activity(session.id);
        this.d.logger.warn('smtp.too_large', { client: session.remoteAddress, size, limit });
        return cb(smtpError(552, `5.3.4 Message too big (limit ${limit} bytes)`));
      }
      const raw = ownBuffer(chunks, size);
      chunks.length = 0;
      this.store(raw, session, envelope, users).then(
        (msg) => {
          this.limits.activity(session.id);
          cb(null, msg);
        },
        (e: Error & { responseCode?: number }) => {
          this.limits.activity(session.id);
          cb(e.responseCode ? e : smtpError(451, '4.3.0 Could not store the message, try later'));
        },
      );
    });
  }

  private async store(raw: Buffer, session: SMTPServerSession, envelope: SMTPServerSession['envelope'], recipients: User[]): Promise<string> {
    const log = this.d.logger;
    const problem = checkRawMessage(raw);
    if (problem) {
      log.warn('smtp.refused_message', { client: session.remoteAddress, reason: problem.message });
      throw smtpError(problem.code, problem.message);
    }
    if (isOwnRelay(raw, this.d.config.hostname)) {
      log.warn('smtp.loop', { client: session.remoteAddress });
      throw smtpError(554, '5.4.6 Mail loop: this message was relayed by this appliance');
    }
    const beats = [...(this.beats.get(envelope) ?? [])];
    for (const name of beats) await this.d.heartbeat!.ping(name);
    const onlyBeats = beats.length > 0 && envelope.rcptTo.every((r) => heartbeatName(r.address.trim()) !== null);
    if (onlyBeats) {
      this.accepted++;
      log.info('heartbeat.mail', { client: session.remoteAddress, heartbeats: beats.join(',') });
      return `2.0.0 Heartbeat ${beats.join(', ')} received`;
    }
    // Recipients accepted at RCPT: users, groups' members, or route addresses (people come from the policy).
    if (!recipients.length && !envelope.rcptTo.length) throw smtpError(554, '5.5.1 No valid recipients');
    let parsed;
    try {
      ({ parsed, raw } = await (this.d.parse ?? inlineParse)(raw));
    } catch (e) {
      if (e instanceof ParseTempFail) {
        log.warn('smtp.parse_deferred', { client: session.remoteAddress, reason: e.message });
        throw smtpError(451, '4.3.0 Message could not be parsed now, try later');
      }
      log.warn('smtp.unparseable', { client: session.remoteAddress, error: e as Error });
      throw smtpError(554, '5.6.0 Message could not be parsed');
    }
    let result: AdmitResult;
    try {
      result = await this.d.writer.submit({
        parsed, raw, recipients, receivedAt: this.d.clock.now(),
        rcpt: envelope.rcptTo.map((r) => r.address),
        client: session.remoteAddress,
        ...(envelope.mailFrom ? { mailFrom: envelope.mailFrom.address } : {}),
      });
    } catch (e) {
      log.error('smtp.store_failed', { client: session.remoteAddress, subject: parsed.subject, error: e as Error });
      throw smtpError(451, '4.3.0 Could not store the message, try later');
    }
    this.accepted++;
    log.info('mail.accepted', {
      alert: result.id, state: result.state, kind: parsed.kind, from: envelope.mailFrom ? envelope.mailFrom.address : '',
      rcpt: envelope.rcptTo.map((r) => r.address).join(','), subject: parsed.subject, event: parsed.eventId,
    });
    for (const dl of result.deliveries) if (dl.state !== 'queued') log.info(`mail.${dl.state === 'cancelled' ? 'not_notified' : dl.state}`, { alert: result.id, user: dl.email });
    for (const id of result.resolved) log.info('alert.resolved', { alert: id, by: result.id });
    for (const id of result.acknowledged) log.info('alert.acknowledged', { alert: id, by: result.id, via: 'monitor' });
    return `2.0.0 Queued as alert ${result.id}`;
  }
}

/**
 * The DATA chunks in one Buffer of exactly their size, outside Node's shared pool: it can be
 * transferred to a parse worker and back, and stored, without another copy.
 */
function ownBuffer(chunks: Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const c of chunks) at += c.copy(out, at);
  return out;
}

function timingSafeEqualStr(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  let diff = ab.length ^ bb.length;
  for (let i = 0; i < Math.max(ab.length, bb.length); i++) diff |= (ab[i] ?? 0) ^ (bb[i] ?? 0);
  return diff === 0;
}

/** "heartbeat+zabbix@alerts.example" → "zabbix"; null for any other address. */
export function heartbeatName(address: string): string | null {
  const at = address.lastIndexOf('@');
  const local = (at >= 0 ? address.slice(0, at) : address).toLowerCase();
  if (!local.startsWith('heartbeat+')) return null;
  const name = local.slice('heartbeat+'.length);
  return name.length > 0 && name.length <= 64 ? name : null;
}
