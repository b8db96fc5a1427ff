import { clampDelay } from './timers.js';

/** Time source. Logic that depends on time (dedupe windows, escalation rounds, timers) takes a Clock so tests don't sleep. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Calls fn after ms; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    // Node fires a timer of more than 2^31-1 ms after 1 ms: clamp every delay in one place.
    const t = setTimeout(fn, clampDelay(ms));
    return () => clearTimeout(t);
  },
};

/** A clock moved by hand, for tests. Timers fire in due order when advance() passes them. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }
  /** Moves time forward, firing due timers in order (each sees now() == its due time). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
  pendingTimers(): number {
    return this.timers.size;
  }
}
