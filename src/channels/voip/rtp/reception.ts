/**
 * Receive-side statistics for one source, for the report block of our RTCP packets
 * (RFC 3550 §6.4.1, Appendix A.1 and A.3). Pure: arrival times are passed in.
 */
import { InterarrivalJitter } from './jitter.js';
import type { ReportBlock } from './rtcp.js';

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const SEQ_MOD = 0x10000;

export class ReceptionStats {
  private baseSeq: number;
  private maxSeq: number;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private readonly jitter = new InterarrivalJitter(8000);

  constructor(readonly ssrc: number, firstSeq: number) {
    this.baseSeq = firstSeq;
    this.maxSeq = (firstSeq - 1) & 0xffff;
  }

  /** One packet from this source arrived at arrivalMs (monotonic ms). */
  update(seq: number, rtpTimestamp: number, arrivalMs: number): void {
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD; // wrapped
      this.maxSeq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
      // a very large jump: the source restarted; start counting afresh (A.1 without probation)
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.received = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
    } // else: duplicate or reordered packet
    this.received++;
    this.jitter.update(arrivalMs, rtpTimestamp);
  }

  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  get packetsReceived(): number {
    return this.received;
  }

  get expected(): number {
    return this.extendedMax - this.baseSeq + 1;
  }

  /** Interarrival jitter in timestamp units. */
  get jitterUnits(): number {
    return this.jitter.value;
  }

  /** Report block for an RTCP SR/RR; advances the "since last report" interval (A.3). */
  reportBlock(lsr: number, dlsr: number): ReportBlock {
    const expected = this.expected;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    return {
      ssrc: this.ssrc,
      fractionLost: fraction,
      cumulativeLost: lost,
      highestSeq: this.extendedMax >>> 0,
      jitter: Math.floor(this.jitter.value),
      lsr: lsr >>> 0,
      dlsr: Math.max(0, Math.min(0xffffffff, Math.floor(dlsr))),
    };
  }
}
