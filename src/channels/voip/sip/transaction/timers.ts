/** RFC 3261 §17 timer values (Table 4). Tests may shorten them; production uses the defaults. */
export interface TimerValues {
  /** RTT estimate: first retransmit interval. */
  T1: number;
  /** Cap on non-INVITE request (and INVITE response) retransmit interval. */
  T2: number;
  /** Maximum time a message stays in the network. */
  T4: number;
}

export const DEFAULT_TIMERS: TimerValues = { T1: 500, T2: 4000, T4: 5000 };

/** Timer D: wait for final-response retransmissions after ACKing a non-2xx (≥ 32 s on UDP). */
export const timerD = (t: TimerValues, reliable: boolean): number => (reliable ? 0 : Math.max(32_000, 64 * t.T1));
/** Timers B, F, H, J, M: transaction timeout 64·T1. */
export const timeout64 = (t: TimerValues): number => 64 * t.T1;
