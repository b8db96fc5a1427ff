import { performance } from 'node:perf_hooks';

/**
 * One absolute 20 ms schedule per thread that every RTP stream of that thread sends on: slot k is
 * due at t0 + k·period on the monotonic clock. A single timer serves all streams (the next due
 * slot), so twenty calls cost one wake-up per 20 ms, not twenty.
 *
 * Node timers have millisecond granularity, so the ticker sleeps with setTimeout until within
 * `spinMs` + 1 ms of the deadline and then polls with setImmediate (which still lets I/O run)
 * until the deadline is reached.
 */
export interface TickSubscriber {
  /** The slot this subscriber next wants to act in, or undefined when it has nothing to send. */
  nextSlot(): number | undefined;
  /** Called when the schedule has reached `currentSlot` >= the subscriber's nextSlot(). */
  onTick(currentSlot: number): void;
}

export interface FrameTickerOptions {
  periodMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /**
   * How long before a deadline to stop sleeping on a timer and poll with setImmediate instead
   * (default 0: the timer brings us to within its 1 ms granularity, the rest is polled).
   */
  spinMs?: number;
}

export class FrameTicker {
  readonly periodMs: number;
  private readonly now: () => number;
  private readonly spinMs: number;
  private readonly t0: number;
  private readonly subs = new Set<TickSubscriber>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = false;

  constructor(opts: FrameTickerOptions = {}) {
    this.periodMs = opts.periodMs ?? 20;
    this.now = opts.now ?? (() => performance.now());
    this.spinMs = opts.spinMs ?? 0;
    this.t0 = this.now();
  }

  /** The slot the schedule is in at monotonic time `t` (default: now). */
  currentSlot(t = this.now()): number {
    return Math.floor((t - this.t0) / this.periodMs);
  }

  /** Monotonic time at which `slot` is due. */
  slotTime(slot: number): number {
    return this.t0 + slot * this.periodMs;
  }

  add(sub: TickSubscriber): void {
    this.subs.add(sub);
    this.reschedule();
  }

  remove(sub: TickSubscriber): void {
    this.subs.delete(sub);
    this.reschedule();
  }

  /** A subscriber's nextSlot() changed: re-arm the timer. */
  reschedule(): void {
    if (this.running) return; // run() re-arms when it finishes
    this.clear();
    this.arm();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private earliest(): number | undefined {
    let min: number | undefined;
    for (const s of this.subs) {
      const k = s.nextSlot();
      if (k !== undefined && (min === undefined || k < min)) min = k;
    }
    return min;
  }

  private arm(): void {
    const slot = this.earliest();
    if (slot === undefined) return;
    const wait = this.slotTime(slot) - this.now();
    if (wait <= 0) {
      this.immediate = setImmediate(() => this.run());
    } else if (wait > this.spinMs + 1) {
      this.timer = setTimeout(() => this.run(), Math.floor(wait - this.spinMs));
    } else {
      this.immediate = setImmediate(() => this.run());
    }
  }

  private run(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const slot = this.earliest();
    if (slot === undefined) return;
    if (this.now() >= this.slotTime(slot)) {
      const current = this.currentSlot();
      this.running = true;
      try {
        for (const s of [...this.subs]) {
          const k = s.nextSlot();
          if (k !== undefined && k <= current) s.onTick(current);
        }
      } finally {
        this.running = false;
      }
    }
    this.arm();
  }
}
