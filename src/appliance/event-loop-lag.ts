/**
 * How late the event loop runs: a light timer ticks every resolutionMs and records how much later
 * than due it ran. A loop that is blocked runs no timer; when it resumes, the first tick records
 * the whole stall, so a stall between two health ticks is still seen at the next one.
 * (perf_hooks.monitorEventLoopDelay was tried first: on Node 20 it does not record a stall of a
 * synchronous busy loop, so it cannot serve here.)
 */
import { performance } from 'node:perf_hooks';

export interface LagSampler {
  /** Worst event-loop delay in milliseconds since the previous call (0 if none measured). */
  takeMaxMs(): number;
  stop(): void;
}

export function eventLoopLagSampler(resolutionMs = 100): LagSampler {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - resolutionMs);
    last = now;
  }, resolutionMs);
  timer.unref();
  return {
    takeMaxMs() {
      const v = Math.max(0, max);
      max = 0;
      return v;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
