/**
 * Which 20 ms slots a stream sends in, given the current slot of an absolute schedule. Pure.
 *
 * Slot k is due at t0 + k·20 ms on a monotonic clock (see ticker.ts); a packet's RTP timestamp is
 * derived from its slot, so the timestamp advances by 160 per slot whether or not a packet was
 * sent in it (RFC 3550 §5.1: the timestamp reflects the sampling instant). When the sender wakes
 * late it catches up by sending the missed slots back to back, but only up to `maxBurst`; if it
 * is later than that, the missed slots are skipped (the receiver sees a gap in timestamps, which
 * it plays out like a short loss) instead of flooding the far end's jitter buffer.
 */
export interface SlotDecision {
  /** Slots to send now, in order (empty if nothing is due). */
  slots: number[];
  /** Slots that were due but are skipped (0 when on time or catching up within maxBurst). */
  skipped: number;
}

export class SlotPacer {
  private next: number | undefined;

  constructor(readonly maxBurst = 3) {
    if (!Number.isInteger(maxBurst) || maxBurst < 1) throw new RangeError('pacer: maxBurst must be a positive integer');
  }

  /** True while a talkspurt is running (a next slot is scheduled). */
  get active(): boolean {
    return this.next !== undefined;
  }

  /** The next slot this stream wants to send in, or undefined when idle. */
  get nextSlot(): number | undefined {
    return this.next;
  }

  /** Starts sending at the first slot after `currentSlot` (no-op when already active). */
  begin(currentSlot: number): void {
    if (this.next === undefined) this.next = currentSlot + 1;
  }

  /** Stops scheduling; the next begin() starts at a fresh slot. */
  stop(): void {
    this.next = undefined;
  }

  /** What to send now that the schedule is at `currentSlot`. */
  due(currentSlot: number): SlotDecision {
    if (this.next === undefined || currentSlot < this.next) return { slots: [], skipped: 0 };
    const late = currentSlot - this.next + 1;
    const from = this.next;
    this.next = currentSlot + 1;
    if (late <= this.maxBurst) {
      const slots: number[] = [];
      for (let k = from; k <= currentSlot; k++) slots.push(k);
      return { slots, skipped: 0 };
    }
    return { slots: [currentSlot], skipped: late - 1 };
  }
}
