/** FailureLimiter (src/util/failure-limiter.ts): growing delays, lockout, forgetting, bounded memory. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FailureLimiter } from '../../src/util/failure-limiter.js';
import { ManualClock } from '../../src/util/clock.js';

const opts = { baseDelayMs: 1000, maxDelayMs: 8000, maxFailures: 6, lockoutMs: 15 * 60_000 };

describe('FailureLimiter', () => {
  it('delays each failure longer than the last, up to the cap, then locks the key out', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(opts, clock);
    const delays: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = l.recordFailure('10.0.0.1');
      expect(r).toMatchObject({ failures: i, locked: false, lockedNow: false });
      delays.push(r.delayMs);
      clock.advance(r.delayMs);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    const sixth = l.recordFailure('10.0.0.1');
    expect(sixth).toMatchObject({ failures: 6, locked: true, lockedNow: true, retryAfterMs: opts.lockoutMs });
    expect(l.status('10.0.0.1')).toMatchObject({ locked: true, retryAfterMs: opts.lockoutMs });
    // Another address is not affected.
    expect(l.status('10.0.0.2')).toEqual({ locked: false, retryAfterMs: 0, failures: 0 });
    expect(l.recordFailure('10.0.0.2')).toMatchObject({ failures: 1, delayMs: 1000, locked: false });
  });

  it('the lockout ends after lockoutMs; counting starts afresh', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(opts, clock);
    for (let i = 0; i < 6; i++) l.recordFailure('k');
    clock.advance(opts.lockoutMs - 1);
    expect(l.status('k').locked).toBe(true);
    expect(l.status('k').retryAfterMs).toBe(1);
    clock.advance(1);
    expect(l.status('k').locked).toBe(false);
    expect(l.recordFailure('k')).toMatchObject({ failures: 1, delayMs: 1000, locked: false });
  });

  it('forgets a key forgetAfterMs after its last failure', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter({ ...opts, forgetAfterMs: 60_000 }, clock);
    l.recordFailure('k');
    l.recordFailure('k');
    clock.advance(59_999);
    expect(l.status('k').failures).toBe(2);
    clock.advance(1);
    expect(l.status('k').failures).toBe(0);
    expect(l.recordFailure('k').delayMs).toBe(1000);
  });

  it('keeps at most maxKeys keys, dropping the one whose last failure is oldest', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter({ ...opts, maxKeys: 3 }, clock);
    for (const k of ['a', 'b', 'c']) {
      l.recordFailure(k);
      clock.advance(10);
    }
    l.recordFailure('a'); // a is now the most recent
    l.recordFailure('d'); // drops b
    expect(l.size).toBe(3);
    expect(l.status('b').failures).toBe(0);
    expect(l.status('a').failures).toBe(2);
    expect(l.status('c').failures).toBe(1);
  });

  it('whatever the sequence, no more than maxFailures failures pass before a lockout, and delays stay within the cap', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), wait: fc.nat(opts.lockoutMs * 2) }), { maxLength: 60 }), (steps) => {
        const clock = new ManualClock();
        const l = new FailureLimiter(opts, clock);
        for (const s of steps) {
          clock.advance(s.wait);
          const st = l.status(s.key);
          if (st.locked) continue; // the caller refuses without checking credentials
          const r = l.recordFailure(s.key);
          expect(r.delayMs).toBeGreaterThan(0);
          expect(r.delayMs).toBeLessThanOrEqual(opts.maxDelayMs);
          expect(r.failures).toBeLessThanOrEqual(opts.maxFailures);
          expect(r.locked).toBe(r.failures >= opts.maxFailures);
        }
      }),
    );
  });
});
