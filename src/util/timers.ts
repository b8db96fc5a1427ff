/**
 * Node fires a timer after 1 ms when asked for more than 2^31-1 ms (about 24.8 days). Every delay
 * that comes from outside (a registrar's Expires, a config duration) goes through clampDelay.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function clampDelay(ms: number, max = MAX_TIMER_MS): number {
  if (!Number.isFinite(ms) || ms <= 0) return Number.isNaN(ms) || ms <= 0 ? 0 : max;
  return Math.min(ms, max);
}

/** setTimeout with the delay clamped to what Node can honour. */
export function safeTimeout(fn: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(fn, clampDelay(ms));
}

/**
 * A clamped timer that never keeps the process alive (housekeeping such as unloading an idle
 * worker); returns its cancel function.
 */
export function backgroundTimer(fn: () => void, ms: number): () => void {
  const t = safeTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}
