/**
 * Sending without the store: when the database itself fails, the appliance's own alarm cannot be
 * queued, so it goes straight through the channels, the one way that needs no disk write. Each
 * person is tried on their text channels first (a relayed mail, an SMS: nothing to synthesize or
 * cache), then on voice, one channel after another until one reaches them. A channel that is not
 * running, unhealthy, cannot address the person or has every line taken by the dispatcher is
 * passed over. Nothing is retried here: the caller tries again at its next evaluation.
 */
import type { AlertView, Channel, OutcomeKind, Recipient } from '../channels/channel.js';
import type { Clock } from '../util/clock.js';

export interface DirectTarget {
  recipient: Recipient;
  /** The channels to use for them, in order (their own order, else the global one). */
  order: readonly string[];
}

export interface DirectAttempt {
  email: string;
  channel: string;
  target: string;
  startedAt: number;
  endedAt: number;
  outcome: OutcomeKind;
  reason: string;
}

export interface DirectDeps {
  channels: () => Readonly<Record<string, Channel | undefined>>;
  /** Steps the dispatcher runs on a channel now (its lines are shared). */
  busy: (channel: string) => number;
  clock: Clock;
  /** Upper bound on one try (default 2 min). */
  timeoutMs?: number;
}

const REACHED: readonly OutcomeKind[] = ['delivered', 'answered', 'acknowledged'];

export function reached(attempts: readonly DirectAttempt[]): Set<string> {
  return new Set(attempts.filter((a) => REACHED.includes(a.outcome)).map((a) => a.email.toLowerCase()));
}

/** Sends `alert` to each target until one channel reaches them; every try is returned, in order. */
export async function sendDirect(d: DirectDeps, alert: AlertView, targets: readonly DirectTarget[], signal?: AbortSignal): Promise<DirectAttempt[]> {
  const out: DirectAttempt[] = [];
  const running = new Map<string, number>();
  for (const t of targets) {
    const chans = d.channels();
    const steps = t.order.map((n) => ({ name: n, ch: chans[n] })).filter((s): s is { name: string; ch: Channel } => Boolean(s.ch));
    const ordered = [...steps.filter((s) => s.ch.kind === 'text'), ...steps.filter((s) => s.ch.kind !== 'text')];
    for (const { name, ch } of ordered) {
      if (signal?.aborted) return out;
      const address = ch.address(t.recipient);
      if (address === null || !ch.health().healthy) continue;
      if (d.busy(name) + (running.get(name) ?? 0) >= ch.capacity) continue;
      const startedAt = d.clock.now();
      const ctrl = new AbortController();
      const stop = () => ctrl.abort();
      signal?.addEventListener('abort', stop, { once: true });
      const cancel = d.clock.setTimer(stop, d.timeoutMs ?? 120_000);
      running.set(name, (running.get(name) ?? 0) + 1);
      let kind: OutcomeKind;
      let reason: string;
      try {
        const o = await ch.deliver({ alert, recipient: t.recipient, address, moreAlerts: 0, attemptId: 0 }, ctrl.signal);
        kind = o.kind;
        reason = o.reason;
      } catch (e) {
        kind = 'failed';
        reason = `channel error: ${(e as Error).message}`;
      } finally {
        cancel();
        signal?.removeEventListener('abort', stop);
        running.set(name, (running.get(name) ?? 1) - 1);
      }
      out.push({ email: t.recipient.email, channel: name, target: address, startedAt, endedAt: d.clock.now(), outcome: kind, reason: reason.slice(0, 300) });
      if (REACHED.includes(kind)) break;
    }
  }
  return out;
}
