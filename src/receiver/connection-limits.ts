/**
 * Who may hold an SMTP session, and for how long without sending mail:
 * - at most maxPerAddress sessions per client key (an IPv4 address or an IPv6 /64; see clientKey);
 * - at most maxClients sessions in all; when full, the session that has been idle longest (no
 *   transaction open) is closed to make room, so idle connections can never keep a real alert out;
 *   only if every session is inside a transaction is the newcomer refused;
 * - a session must start a transaction within idleTimeoutMs of connecting and of finishing its
 *   last one. This is a deadline, not an inactivity timer: NOOP or RSET do not extend it. Inside a
 *   transaction the SMTP server's own inactivity timeout (smtp.socketTimeout) applies.
 * The SMTP server stays in charge of the sockets; this class only decides, and closes sessions
 * through the `close` function each one was admitted with. Timers come from the injected clock.
 */
import type { Clock } from '../util/clock.js';
import { clampDelay } from '../util/timers.js';

export interface ConnectionLimitsOptions {
  maxClients: number;
  maxPerAddress: number;
  idleTimeoutMs: number;
}

export interface AdmittedSession {
  id: string;
  /** clientKey() of the peer. */
  key: string;
  /** True while a mail transaction is open (MAIL accepted, message not yet answered). */
  inTransaction: () => boolean;
  /** Ends the session with this reply (a 421). */
  close: (code: number, message: string) => void;
}

export type Admission =
  | { ok: true; evicted?: string }
  | { ok: false; code: number; message: string; reason: 'per-address' | 'busy' };

interface Tracked extends AdmittedSession {
  /** When the session last connected, started or finished a transaction. */
  since: number;
  cancelTimer: () => void;
}

export class ConnectionLimits {
  private readonly sessions = new Map<string, Tracked>();
  private readonly perKey = new Map<string, number>();
  private readonly maxPerAddress: number;

  constructor(private readonly opts: ConnectionLimitsOptions, private readonly clock: Clock) {
    this.maxPerAddress = Math.min(opts.maxPerAddress, opts.maxClients);
  }

  get size(): number {
    return this.sessions.size;
  }

  countFor(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  admit(s: AdmittedSession): Admission {
    if (this.countFor(s.key) >= this.maxPerAddress) {
      return { ok: false, code: 421, reason: 'per-address', message: '4.7.0 Too many connections from your address, try again later' };
    }
    let evicted: string | undefined;
    if (this.sessions.size >= this.opts.maxClients) {
      const victim = this.longestIdle();
      if (!victim) return { ok: false, code: 421, reason: 'busy', message: '4.3.2 Too many connected clients, try again in a moment' };
      evicted = victim.key;
      this.release(victim.id);
      victim.close(421, '4.4.2 Idle session closed to make room for another client');
    }
    const t: Tracked = { ...s, since: this.clock.now(), cancelTimer: () => {} };
    this.sessions.set(s.id, t);
    this.perKey.set(s.key, this.countFor(s.key) + 1);
    this.arm(t);
    return evicted === undefined ? { ok: true } : { ok: true, evicted };
  }

  /** A transaction started or finished: the idle deadline starts again from now. */
  activity(id: string): void {
    const t = this.sessions.get(id);
    if (!t) return;
    t.since = this.clock.now();
    this.arm(t);
  }

  /** The session ended (any reason). Safe to call more than once. */
  release(id: string): void {
    const t = this.sessions.get(id);
    if (!t) return;
    t.cancelTimer();
    this.sessions.delete(id);
    const n = this.countFor(t.key) - 1;
    if (n > 0) this.perKey.set(t.key, n);
    else this.perKey.delete(t.key);
  }

  /** Closes every session without an open transaction (shutdown); returns how many. */
  closeIdle(code: number, message: string): number {
    let n = 0;
    for (const t of [...this.sessions.values()]) {
      if (t.inTransaction()) continue;
      this.release(t.id);
      t.close(code, message);
      n++;
    }
    return n;
  }

  /** Stops every timer (the receiver is gone). */
  clear(): void {
    for (const t of this.sessions.values()) t.cancelTimer();
    this.sessions.clear();
    this.perKey.clear();
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
