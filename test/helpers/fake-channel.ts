/** A channel whose outcomes a test scripts. It records every job and honours the abort signal. */
import type { Channel, ChannelHealth, ChannelKind, ChannelName, DeliveryJob, Outcome, Recipient, RetryRule } from '../../src/channels/channel.js';

export type Script = (job: DeliveryJob, signal: AbortSignal, n: number) => Promise<Outcome> | Outcome;

export class FakeChannel implements Channel {
  readonly jobs: DeliveryJob[] = [];
  readonly aborted: DeliveryJob[] = [];
  healthy: ChannelHealth = { healthy: true, detail: 'fake ok' };
  active = 0;

  readonly kind: ChannelKind;
  capacity: number;
  readonly retry?: RetryRule;

  constructor(readonly name: ChannelName, public script: Script, opts: { capacity?: number; retry?: RetryRule } = {}) {
    this.kind = name === 'voip' || name === 'gsm' ? 'voice' : 'text';
    this.capacity = opts.capacity ?? (name === 'voip' ? 4 : name === 'mail' ? 4 : 1);
    if (opts.retry) this.retry = opts.retry;
    else if (this.kind === 'text') this.retry = { retries: 3, backoffMs: 10_000 };
  }

  address(r: Recipient): string | null {
    return (this.name === 'mail' ? r.email : this.name === 'voip' ? r.sip : r.phone) || null;
  }

  health(): ChannelHealth {
    return this.healthy;
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    this.jobs.push(job);
    this.active++;
    signal.addEventListener('abort', () => this.aborted.push(job), { once: true });
    try {
      return await this.script(job, signal, this.jobs.length);
    } finally {
      this.active--;
    }
  }
}

/** A script step that waits until aborted (a call nobody ends), then says why. */
export function untilAborted(signal: AbortSignal): Promise<Outcome> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve({ kind: 'failed', reason: 'aborted', retryable: false });
    signal.addEventListener('abort', () => resolve({ kind: 'failed', reason: 'aborted', retryable: false }), { once: true });
  });
}
