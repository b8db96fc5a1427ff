/**
 * RFC 3550 §6.4.1 / Appendix A.8 interarrival jitter estimate. Pure: the caller supplies arrival
 * times; nothing here reads a clock.
 *
 * D(i-1,i) = (R_i - R_{i-1}) - (S_i - S_{i-1}), all in timestamp units;
 * J += (|D| - J) / 16.
 */
export class InterarrivalJitter {
  private prevArrival: number | undefined;
  private prevTs = 0;
  private j = 0;
  private maxJ = 0;
  private sumJ = 0;
  private n = 0;

  /** @param clockRate RTP timestamp units per second (8000 for G.711). */
  constructor(private readonly clockRate = 8000) {}

  /**
   * One received packet: arrivalMs its arrival time in milliseconds (any origin, monotonic),
   * rtpTimestamp the packet's 32-bit RTP timestamp. Returns the current jitter estimate in
   * timestamp units.
   */
  update(arrivalMs: number, rtpTimestamp: number): number {
    const arrival = (arrivalMs * this.clockRate) / 1000;
    if (this.prevArrival !== undefined) {
      let dts = (rtpTimestamp - this.prevTs) >>> 0;
      if (dts >= 0x80000000) dts -= 0x100000000;
      const d = Math.abs(arrival - this.prevArrival - dts);
      this.j += (d - this.j) / 16;
      if (this.j > this.maxJ) this.maxJ = this.j;
      this.sumJ += this.j;
      this.n++;
    }
    this.prevArrival = arrival;
    this.prevTs = rtpTimestamp >>> 0;
    return this.j;
  }

  /** Current estimate in timestamp units. */
  get value(): number {
    return this.j;
  }
  /** Highest estimate seen so far, in timestamp units. */
  get max(): number {
    return this.maxJ;
  }
  /** Mean of the estimate over all updates after the first, in timestamp units. */
  get mean(): number {
    return this.n ? this.sumJ / this.n : 0;
  }
  /** Converts timestamp units to milliseconds at this clock rate. */
  toMs(units: number): number {
    return (units * 1000) / this.clockRate;
  }
}
