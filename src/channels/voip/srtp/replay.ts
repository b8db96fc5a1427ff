/**
 * Replay list of RFC 3711 §3.3.2: a sliding window of `size` indices below the highest index
 * accepted so far. Pure state; the caller checks, authenticates, then commits.
 */
export class ReplayWindow {
  /** Highest index committed so far (-1: none yet). */
  private top = -1;
  /** Bit k set: index (top - k) was seen. */
  private bits = 0n;
  private readonly mask: bigint;

  constructor(readonly size = 128) {
    if (!Number.isInteger(size) || size < 64 || size > 1024) throw new RangeError('SRTP: replay window must be 64..1024 packets (RFC 3711 §3.3.2: at least 64)');
    this.mask = (1n << BigInt(size)) - 1n;
  }

  get highest(): number {
    return this.top;
  }

  /** True when `index` is new: above the window's top, or inside it and not yet seen. */
  check(index: number): boolean {
    if (index < 0) return false;
    if (index > this.top) return true;
    const delta = this.top - index;
    if (delta >= this.size) return false; // too old to tell: treated as a replay
    return ((this.bits >> BigInt(delta)) & 1n) === 0n;
  }

  /** Records `index` (after it passed check() and authentication). */
  commit(index: number): void {
    if (index > this.top) {
      const shift = this.top < 0 ? this.size : index - this.top;
      this.bits = shift >= this.size ? 1n : ((this.bits << BigInt(shift)) | 1n) & this.mask;
      this.top = index;
    } else {
      this.bits |= 1n << BigInt(this.top - index);
    }
  }
}
