/**
 * Who may hold an SMTP session, and for how long without sending mail:
 * - at most maxPerAddress sessions per client key (an IPv4 address or an IPv6 /64; see clientKey);
 * - at most maxClients sessions in all; when full, the session that has been idle longest (no
 *   transaction open) is closed to make room, so idle connections cannot keep a real alert out;
 * - a connection over either limit is not refused at once: it waits, before the greeting, in one
 *   bounded queue (maxQueued, default maxClients) for up to idleTimeoutMs. A burst from one monitor
 *   (Nagios runs one msmtp per notification and does not retry) is served in turn, not lost; only
 *   when the queue is full or the wait runs out does the client get 421;
 * - a session must start a transaction within idleTimeoutMs of being greeted and of finishing its
 *   last one. This is a deadline, not an inactivity timer: NOOP or RSET do not extend it. Inside a
 *   transaction the SMTP server's own inactivity timeout (smtp.socketTimeout) applies.
 * The SMTP server stays in charge of the sockets; this class only decides, and ends sessions
 * through the `close` function each one was admitted with. Timers come from the injected clock.
 */
import type { Clock } from '../util/clock.js';
import { clampDelay } from '../util/timers.js';

export interface ConnectionLimitsOptions {
  maxClients: number;
  maxPerAddress: number;
  idleTimeoutMs: number;
  /** Connections waiting for a slot, at most (default maxClients). */
  maxQueued?: number;
}

export interface SessionHandle {
  id: string;
  /** clientKey() of the peer. */
  key: string;
  /** True while a mail transaction is open (MAIL accepted, message not yet answered). */
  inTransaction: () => boolean;
  /** Ends the session with this reply (a 421). */
  close: (code: number, message: string) => void;
}

export type Admission =
  | { ok: true; waited: boolean; evicted?: string }
  | { ok: false; code: number; message: string; reason: 'per-address' | 'busy' };

interface Tracked extends SessionHandle {
  /** When the session was admitted or last started or finished a transaction. */
  since: number;
  cancelTimer: () => void;
}

interface Waiting {
  s: SessionHandle;
  done: (a: Admission) => void;
  cancelTimer: () => void;
}

const PER_ADDRESS = '4.7.0 Too many connections from your address, try again later';
const BUSY = '4.3.2 Too many connected clients, try again in a moment';

export class ConnectionLimits {
  private readonly sessions = new Map<string, Tracked>();
  private readonly perKey = new Map<string, number>();
  /** In arrival order. */
  private readonly waiting = new Map<string, Waiting>();
  private readonly maxPerAddress: number;
  private readonly maxQueued: number;

  constructor(private readonly opts: ConnectionLimitsOptions, private readonly clock: Clock) {
    this.maxPerAddress = Math.max(1, Math.min(opts.maxPerAddress, opts.maxClients));
    this.maxQueued = Math.max(0, opts.maxQueued ?? opts.maxClients);
  }

  /** Sessions holding a slot. */
  get size(): number {
    return this.sessions.size;
  }

  get queued(): number {
    return this.waiting.size;
  }

  countFor(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  /**
   * Asks for a slot: `done` is called once, at once or after a wait, with the decision. A
   * session that goes away while waiting must be release()d; `done` is then never called.
   */
  request(s: SessionHandle, done: (a: Admission) => void): void {
    const now = this.tryAdmit(s, false);
    if (typeof now === 'object') return done(now);
    if (this.waiting.size >= this.maxQueued) {
      const perAddress = this.countFor(s.key) >= this.maxPerAddress;
      return done({ ok: false, code: 421, reason: perAddress ? 'per-address' : 'busy', message: perAddress ? PER_ADDRESS : BUSY });
    }
    const w: Waiting = { s, done, cancelTimer: () => {} };
    this.waiting.set(s.id, w);
    w.cancelTimer = this.clock.setTimer(() => {
      if (this.waiting.get(s.id) !== w) return;
      this.waiting.delete(s.id);
      const perAddress = this.countFor(s.key) >= this.maxPerAddress;
      done({ ok: false, code: 421, reason: perAddress ? 'per-address' : 'busy', message: perAddress ? PER_ADDRESS : BUSY });
    }, clampDelay(this.opts.idleTimeoutMs));
  }

  /** A transaction started or finished: the idle deadline starts again from now. */
  activity(id: string): void {
    const t = this.sessions.get(id);
    if (!t) return;
    t.since = this.clock.now();
    this.arm(t);
  }

  /** The session ended (any reason, admitted or still waiting). Safe to call more than once. */
  release(id: string): void {
    const w = this.waiting.get(id);
    if (w) {
      w.cancelTimer();
      this.waiting.delete(id);
      return;
    }
    if (this.drop(id)) this.pump();
  }

  /** Closes every session without an open transaction and refuses every waiting one (shutdown). */
  closeIdle(code: number, message: string): number {
    let n = 0;
    for (const w of [...this.waiting.values()]) {
      this.release(w.s.id);
      w.done({ ok: false, code, message, reason: 'busy' });
    }
    for (const t of [...this.sessions.values()]) {
      if (t.inTransaction()) continue;
      this.drop(t.id);
      t.close(code, message);
      n++;
    }
    return n;
  }

  /** Stops every timer (the receiver is gone). */
  clear(): void {
    for (const t of this.sessions.values()) t.cancelTimer();
    for (const w of this.waiting.values()) w.cancelTimer();
    this.sessions.clear();
    this.waiting.clear();
    this.perKey.clear();
  }

  /**
   * Admits s if its address is under its cap and there is room, or room can be made; otherwise
   * says what stands in the way.
   */
  private tryAdmit(s: SessionHandle, waited: boolean): Admission | 'per-address' | 'full' {
    if (this.countFor(s.key) >= this.maxPerAddress) return 'per-address';
    let evicted: string | undefined;
    if (this.sessions.size >= this.opts.maxClients) {
      const victim = this.longestIdle();
      if (!victim) return 'full';
      evicted = victim.key;
      this.drop(victim.id);
      victim.close(421, '4.4.2 Idle session closed to make room for another client');
    }
    const t: Tracked = { ...s, since: this.clock.now(), cancelTimer: () => {} };
    this.sessions.set(s.id, t);
    this.perKey.set(s.key, this.countFor(s.key) + 1);
    this.arm(t);
    return evicted === undefined ? { ok: true, waited } : { ok: true, waited, evicted };
  }

  /** Gives freed slots to waiting connections, first come first served (per address limits apply). */
  private pump(): void {
    for (const w of [...this.waiting.values()]) {
      const a = this.tryAdmit(w.s, true);
      if (a === 'full') return; // nothing else fits either
      if (a === 'per-address') continue;
      w.cancelTimer();
      this.waiting.delete(w.s.id);
      w.done(a);
    }
  }

  private drop(id: string): boolean {
    const t = this.sessions.get(id);
    if (!t) return false;
    t.cancelTimer();
    this.sessions.delete(id);
    const n = this.countFor(t.key) - 1;
    if (n > 0) this.perKey.set(t.key, n);
    else this.perKey.delete(t.key);
    return true;
  }

  private longestIdle(): Tracked | undefined {
    let best: Tracked | undefined;
    for (const t of this.sessions.values()) if (!t.inTransaction() && (!best || t.since < best.since)) best = t;
    return best;
  }

  private arm(t: Tracked): void {
    t.cancelTimer();
    t.cancelTimer = this.clock.setTimer(() => {
      if (this.sessions.get(t.id) !== t) return;
      if (t.inTransaction()) {
        this.arm(t); // the server's own inactivity timeout watches transactions
        return;
      }
      this.release(t.id);
      t.close(421, '4.4.2 Idle too long without sending mail, closing connection');
    }, clampDelay(this.opts.idleTimeoutMs));
  }
}
