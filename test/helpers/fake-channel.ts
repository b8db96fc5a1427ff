/** A channel whose outcomes a test scripts. It records every job and honours the abort signal. */
import type { Channel, ChannelHealth, ChannelName, DeliveryJob, Outcome, Recipient } from '../../src/channels/channel.js';

export type Script = (job: DeliveryJob, signal: AbortSignal, n: number) => Promise<Outcome> | Outcome;

export class FakeChannel implements Channel {
  readonly jobs: DeliveryJob[] = [];
  readonly aborted: DeliveryJob[] = [];
  healthy: ChannelHealth = { healthy: true, detail: 'fake ok' };
  active = 0;

  constructor(readonly name: ChannelName, public script: Script) {}

  canReach(r: Recipient): boolean {
    return this.name === 'mail' ? true : this.name === 'voip' ? Boolean(r.sip) : Boolean(r.phone);
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
