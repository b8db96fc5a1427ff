/**
 * Sending encoded SMS parts through the modem, part after part, with bounded retries of transient
 * +CMS ERRORs: used by the sms channel for alerts and by the inbox for replies.
 */
import { outcome, type ChannelHealth, type Outcome } from '../channel.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { AtError } from './at-engine.js';
import { classifyCmsError } from './cms-errors.js';
import type { SendPduResult } from './modem/operations.js';
import type { SubmitPart } from './pdu/index.js';

/** What sending needs from the modem. */
export interface PduLink {
  isReady(): boolean;
  health(): ChannelHealth;
  sendPdu(tpduLength: number, hex: string): Promise<SendPduResult>;
}

export interface SmsSenderOptions {
  clock: Clock;
  log: Logger;
  /** Attempts per part for transient errors (default 3). */
  attempts?: number;
  /** Pause before retrying a part (ms, default 3000). */
  retryDelay?: number;
}

export type SendResult = { ok: true; references: number[] } | { ok: false; outcome: Outcome; references: number[] };

export class SmsSender {
  private readonly attempts: number;
  private readonly retryDelay: number;

  constructor(
    private readonly modem: PduLink,
    private readonly o: SmsSenderOptions,
  ) {
    this.attempts = Math.max(1, o.attempts ?? 3);
    this.retryDelay = o.retryDelay ?? 3000;
  }

  /** Sends every part in order; stops at the first part that fails for good. */
  async send(parts: readonly SubmitPart[], signal: AbortSignal): Promise<SendResult> {
    const references: number[] = [];
    for (const [i, part] of parts.entries()) {
      if (signal.aborted) return { ok: false, outcome: outcome('failed', `aborted after ${i} of ${parts.length} parts`, false), references };
      const sent = await this.sendPart(part, signal, i + 1, parts.length);
      if (typeof sent !== 'number') return { ok: false, outcome: sent, references };
      references.push(sent);
    }
    return { ok: true, references };
  }

  /** One part with bounded retries: its message reference, or the failing outcome. */
  private async sendPart(part: SubmitPart, signal: AbortSignal, seq: number, total: number): Promise<number | Outcome> {
    let last = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) {
        this.o.log.warn('sms.retry', { part: seq, of: total, attempt, reason: last });
        if (!(await this.pause(signal))) return outcome('failed', `aborted while retrying part ${seq}: ${last}`, false);
        if (!this.modem.isReady()) return outcome('failed', `modem not ready: ${this.modem.health().detail}`, true);
      }
      let r: SendPduResult;
      try {
        r = await this.modem.sendPdu(part.tpduLength, part.hex);
      } catch (e) {
        last = (e as Error).message;
        if (e instanceof AtError && (e.kind === 'port-closed' || e.kind === 'invalid')) {
          return outcome('failed', `part ${seq}/${total}: ${last}`, e.kind === 'port-closed');
        }
        continue; // timeout / no prompt: the engine cancelled with ESC; try again
      }
      if (r.ok) {
        if (r.reference === undefined) return outcome('failed', `part ${seq}/${total}: OK without +CMGS reference`, true);
        return r.reference;
      }
      const c = classifyCmsError(r.final);
      last = c.reason;
      if (!c.transient) {
        const kind = r.final.code === 'CMS ERROR' && r.final.errorCode !== undefined && r.final.errorCode < 128 ? 'rejected' : 'failed';
        return outcome(kind, `part ${seq}/${total}: ${c.reason}`, false);
      }
    }
    return outcome('failed', `part ${seq}/${total} failed ${this.attempts} times: ${last}`, true);
  }

  /** Waits retryDelay; false if aborted meanwhile. */
  private pause(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        cancel();
        resolve(false);
      };
      const cancel = this.o.clock.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, this.retryDelay);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
