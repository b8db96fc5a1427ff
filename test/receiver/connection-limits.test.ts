/** ConnectionLimits with a manual clock: caps, the wait queue, eviction order, the idle deadline. */
import { describe, expect, it } from 'vitest';
import { ConnectionLimits, type Admission } from '../../src/receiver/connection-limits.js';
import { ManualClock } from '../../src/util/clock.js';

function harness(opts: { maxClients: number; maxPerAddress: number; idleTimeoutMs?: number; maxQueued?: number }) {
  const clock = new ManualClock();
  const limits = new ConnectionLimits({ idleTimeoutMs: 10_000, ...opts }, clock);
  const closed: { id: string; code: number; message: string }[] = [];
  const decided = new Map<string, Admission>();
  const busy = new Set<string>();
  let n = 0;
  const connect = (key: string) => {
    const id = `s${++n}`;
    limits.request({ id, key, inTransaction: () => busy.has(id), close: (code, message) => closed.push({ id, code, message }) }, (a) => decided.set(id, a));
    return id;
  };
  return { clock, limits, closed, decided, busy, connect };
}

describe('ConnectionLimits', () => {
  it('per-address cap: the next connection waits and is admitted when one of its address ends', () => {
    const h = harness({ maxClients: 10, maxPerAddress: 2 });
    const [a, b, c] = [h.connect('1.1.1.1'), h.connect('1.1.1.1'), h.connect('1.1.1.1')];
    expect(h.decided.get(a)).toMatchObject({ ok: true });
    expect(h.decided.get(b)).toMatchObject({ ok: true });
    expect(h.decided.has(c)).toBe(false);
    const other = h.connect('2.2.2.2');
    expect(h.decided.get(other)).toMatchObject({ ok: true, waited: false });
    h.limits.release(a);
    expect(h.decided.get(c)).toMatchObject({ ok: true, waited: true });
    expect(h.limits.countFor('1.1.1.1')).toBe(2);
  });

  it('a connection that waits longer than idleTimeout gets 421; one that leaves while waiting is forgotten', () => {
    const h = harness({ maxClients: 10, maxPerAddress: 1, idleTimeoutMs: 1000 });
    const a = h.connect('k');
    h.busy.add(a);
    const b = h.connect('k');
    const c = h.connect('k');
    h.limits.release(c); // client hung up while waiting
    h.clock.advance(1000);
    expect(h.decided.get(b)).toMatchObject({ ok: false, code: 421, reason: 'per-address' });
    expect(h.decided.has(c)).toBe(false);
    expect(h.limits.queued).toBe(0);
  });

  it('the wait queue is bounded: beyond maxQueued, 421 at once', () => {
    const h = harness({ maxClients: 1, maxPerAddress: 1, maxQueued: 2 });
    const first = h.connect('k');
    h.busy.add(first);
    h.connect('k');
    h.connect('k');
    const fourth = h.connect('k');
    expect(h.decided.get(fourth)).toMatchObject({ ok: false, code: 421 });
    expect(h.limits.queued).toBe(2);
  });

  it('when full, the session idle longest is closed for a newcomer; sessions in a transaction never are', () => {
    const h = harness({ maxClients: 3, maxPerAddress: 3 });
    const a = h.connect('a');
    h.clock.advance(10);
    const b = h.connect('b');
    h.clock.advance(10);
    const c = h.connect('c');
    h.busy.add(a);
    const d = h.connect('d');
    expect(h.decided.get(d)).toMatchObject({ ok: true, evicted: 'b' });
    expect(h.closed).toEqual([{ id: b, code: 421, message: expect.stringMatching(/make room/) }]);
    h.busy.add(c);
    h.busy.add(d);
    const e = h.connect('e');
    expect(h.decided.has(e)).toBe(false); // everyone busy: it waits
    h.busy.delete(a);
    h.limits.activity(a); // a finished its message; still connected, idle from now
    h.limits.release(d); // d quits: e takes its slot
    expect(h.decided.get(e)).toMatchObject({ ok: true, waited: true });
    expect(h.limits.size).toBe(3);
  });

  it('idle deadline: no MAIL within idleTimeout closes the session; a transaction holds it off; each finished one restarts it', () => {
    const h = harness({ maxClients: 5, maxPerAddress: 5, idleTimeoutMs: 1000 });
    const idle = h.connect('k');
    const worker = h.connect('k');
    h.clock.advance(500);
    h.busy.add(worker);
    h.limits.activity(worker);
    h.clock.advance(500);
    expect(h.closed.map((x) => x.id)).toEqual([idle]);
    expect(h.closed[0]!.message).toMatch(/Idle too long/);
    h.clock.advance(5000); // inside a transaction: left alone
    expect(h.closed).toHaveLength(1);
    h.busy.delete(worker);
    h.limits.activity(worker);
    h.clock.advance(999);
    expect(h.closed).toHaveLength(1);
    h.clock.advance(1);
    expect(h.closed.map((x) => x.id)).toEqual([idle, worker]);
    expect(h.limits.size).toBe(0);
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('shutdown: idle sessions and waiting connections are told at once, transactions may finish', () => {
    const h = harness({ maxClients: 2, maxPerAddress: 2 });
    const idle = h.connect('k');
    const working = h.connect('k');
    h.busy.add(working);
    h.busy.add(idle);
    const waiting = h.connect('j'); // full, nobody idle: waits
    h.busy.delete(idle);
    expect(h.limits.closeIdle(421, '4.3.2 shutting down')).toBe(1);
    expect(h.closed.map((x) => x.id)).toEqual([idle]);
    expect(h.decided.get(waiting)).toMatchObject({ ok: false, code: 421 });
    expect(h.limits.size).toBe(1);
  });
});
