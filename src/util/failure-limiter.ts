/**
 * Repeated authentication failures per key (a client address, or anything the caller chooses):
 * each failure is answered later than the one before (baseDelay, doubling, up to maxDelay), and
 * maxFailures of them lock the key out for lockoutMs. A key's failures are forgotten forgetAfterMs
 * after its last one. Used by the SMTP receiver's AUTH and meant for the HTTP API's logins.
 *
 * A success does not wipe a key's failures: otherwise one known login would let its holder guess
 * at every other one indefinitely, resetting the count between guesses. Successes are never
 * delayed, so a client with the right password does not notice earlier failures.
 *
 * Memory is bounded: at most maxKeys keys are kept; when full, the key whose last failure is the
 * oldest is dropped first. Time comes from the injected clock.
 */
import type { Clock } from './clock.js';

export interface FailureLimiterOptions {
  /** Delay before answering a key's first failure; each further one doubles it. */
  baseDelayMs: number;
  /** The delay never exceeds this. */
  maxDelayMs: number;
  /** This many failures (without a pause of forgetAfterMs between them) lock the key out. */
  maxFailures: number;
  /** How long a lockout lasts. */
  lockoutMs: number;
  /** Failures are forgotten this long after the key's last one (default: lockoutMs). */
  forgetAfterMs?: number;
  /** Keys remembered at most (default 10 000). */
  maxKeys?: number;
}

export interface FailureStatus {
  locked: boolean;
  /** Milliseconds until the lockout ends (0 when not locked). */
  retryAfterMs: number;
  failures: number;
}

export interface FailureRecord extends FailureStatus {
  /** How long to hold back the answer to this failure. */
  delayMs: number;
  /** True for the failure that started the lockout (log it once). */
  lockedNow: boolean;
}

interface Entry {
  failures: number;
  last: number;
  lockedUntil: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly forgetAfterMs: number;
  private readonly maxKeys: number;

  constructor(private readonly opts: FailureLimiterOptions, private readonly clock: Pick<Clock, 'now'>) {
    if (!(opts.maxFailures >= 1)) throw new Error('FailureLimiter: maxFailures must be at least 1');
    this.forgetAfterMs = opts.forgetAfterMs ?? opts.lockoutMs;
    this.maxKeys = Math.max(1, opts.maxKeys ?? 10_000);
  }

  /** Whether the key may try now (call before checking credentials). */
  status(key: string): FailureStatus {
    const e = this.live(key);
    if (!e) return { locked: false, retryAfterMs: 0, failures: 0 };
    const now = this.clock.now();
    const locked = e.lockedUntil > now;
    return { locked, retryAfterMs: locked ? e.lockedUntil - now : 0, failures: e.failures };
  }

  /** Records one failure and says how long to delay its answer and whether the key is now locked. */
  recordFailure(key: string): FailureRecord {
    const now = this.clock.now();
    let e = this.live(key);
    if (e) {
      this.entries.delete(key); // re-inserted below: the map stays ordered by last failure
    } else {
      e = { failures: 0, last: now, lockedUntil: 0 };
      while (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    }
    if (e.lockedUntil && e.lockedUntil <= now) {
      // A lockout that ran out: counting starts afresh (another maxFailures tries, then locked again).
      e.failures = 0;
      e.lockedUntil = 0;
    }
    e.failures++;
    e.last = now;
    let lockedNow = false;
    if (e.failures >= this.opts.maxFailures && e.lockedUntil <= now) {
      e.lockedUntil = now + this.opts.lockoutMs;
      lockedNow = true;
    }
    this.entries.set(key, e);
    const locked = e.lockedUntil > now;
    return {
      failures: e.failures,
      delayMs: this.delayFor(e.failures),
      locked,
      lockedNow,
      retryAfterMs: locked ? e.lockedUntil - now : 0,
    };
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.entries.size;
  }

  private delayFor(failures: number): number {
    const exp = Math.min(failures - 1, 30);
    return Math.min(this.opts.baseDelayMs * 2 ** exp, this.opts.maxDelayMs);
  }

  /** The key's entry unless it has been forgotten (no failure for forgetAfterMs and not locked). */
  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const now = this.clock.now();
    if (e.lockedUntil <= now && now - e.last >= this.forgetAfterMs && now - e.lockedUntil >= this.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}
