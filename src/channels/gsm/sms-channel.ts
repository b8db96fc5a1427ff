/**
 * The `sms` channel: alert text as SMS-SUBMIT PDUs through the SIM900 (PDU mode). Each part goes
 * as AT+CMGS=<TPDU octets>, `> ` prompt, hex + Ctrl-Z, `+CMGS: <mr>`; transient +CMS ERRORs are
 * retried a bounded number of times. The text ends with how to acknowledge by reply.
 */
import { guarded, phoneAddress, phoneTarget } from './phone-target.js';
import type { Channel, ChannelHealth, DeliveryJob, Outcome, Recipient, RetryRule } from '../channel.js';
import { outcome } from '../channel.js';
import type { SmsConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { AtError } from './at-engine.js';
import { parseCmgs } from './at-parser.js';
import { classifyCmsError } from './cms-errors.js';
import { encodeSmsSubmit, isGsm7Text, sanitizeSmsText, type EncodedSms } from './pdu/index.js';
import type { ModemLink } from './sim900-modem.js';
import { SMS_ACK_HINT } from './sms-reply.js';
import { fullSms, shortSms } from './sms-text.js';

export interface SmsChannelOptions {
  modem: ModemLink;
  sms: SmsConfig;
  logger: Logger;
  clock?: Clock;
  /** Attempts per part for transient errors (default 3). */
  attempts?: number;
  /** Pause before retrying a part (ms, default 3000). */
  retryDelay?: number;
}

/**
 * Encodes body + " Reply 1 to ack" into at most maxParts parts. When the whole does not fit, the
 * body is shortened (with an ellipsis) so that the acknowledgement hint is never cut off.
 */
export function encodeAlertSms(to: string, body: string, maxParts: number, reference: number): EncodedSms {
  const clean = sanitizeSmsText(body).trim();
  const withHint = (b: string) => (b ? `${b} ${SMS_ACK_HINT}` : SMS_ACK_HINT);
  const whole = encodeSmsSubmit({ to, text: withHint(clean), reference, maxParts });
  if (!whole.truncated) return whole;
  // Longest prefix (in code points) of the body that fits with ellipsis and hint.
  const chars = Array.from(clean).slice(0, maxParts * 160 + 1);
  const ellipsis = isGsm7Text(clean) ? '...' : '\u2026';
  const attempt = (n: number) =>
    encodeSmsSubmit({ to, text: withHint(chars.slice(0, n).join('').trimEnd() + ellipsis), reference, maxParts });
  let lo = 0;
  let hi = chars.length;
  let best = attempt(0);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const e = attempt(mid);
    if (e.truncated) hi = mid - 1;
    else {
      lo = mid;
      best = e;
    }
  }
  return { ...best, truncated: true };
}

export class SmsChannel implements Channel {
  readonly name = 'sms' as const;
  readonly kind = 'text' as const;
  /** One modem, one message at a time. */
  readonly capacity = 1;
  readonly retry: RetryRule;
  private readonly modem: ModemLink;
  private readonly sms: SmsConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly attempts: number;
  private readonly retryDelay: number;
  private nextRef = Math.floor(Math.random() * 256);

  constructor(opts: SmsChannelOptions) {
    this.modem = opts.modem;
    this.sms = opts.sms;
    this.retry = { retries: opts.sms.retries, backoffMs: opts.sms.retryBackoff };
    this.log = opts.logger.child({ channel: 'sms' });
    this.clock = opts.clock ?? systemClock;
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.retryDelay = opts.retryDelay ?? 3000;
  }

  address(recipient: Recipient): string | null {
    return phoneAddress(recipient);
  }

  health(): ChannelHealth {
    return this.modem.health();
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    return guarded(this.log, 'sms.crashed', job.alert.id, () => this.deliverInner(job, signal));
  }

  private async deliverInner(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    const target = phoneTarget(job.recipient);
    if ('outcome' in target) return target.outcome;
    const to = target.number;
    if (signal.aborted) return outcome('failed', 'aborted', false);
    if (!this.modem.isReady()) return outcome('failed', `modem not ready: ${this.modem.health().detail}`, true);

    const body = this.sms.fullText ? fullSms(job.alert, job.recipient.lang) : shortSms(job.alert, job.recipient.lang);
    const maxParts = this.sms.fullText ? this.sms.maxParts : 1;
    const reference = this.nextRef;
    this.nextRef = (this.nextRef + 1) & 0xff;
    let sms: EncodedSms;
    try {
      sms = encodeAlertSms(to, body, maxParts, reference);
    } catch (e) {
      return outcome('failed', `cannot encode SMS: ${(e as Error).message}`, false);
    }

    const references: number[] = [];
    const detail = () => ({ to, parts: sms.parts.length, references: [...references], encoding: sms.encoding, truncated: sms.truncated });
    for (const [i, part] of sms.parts.entries()) {
      if (signal.aborted) {
        return outcome('failed', `aborted after ${i} of ${sms.parts.length} parts`, false, detail());
      }
      const sent = await this.sendPart(part.tpduLength, part.hex, signal, i + 1, sms.parts.length);
      if (typeof sent !== 'number') return { ...sent, detail: detail() };
      references.push(sent);
    }
    this.log.info('sms.sent', { alert: job.alert.id, to, parts: sms.parts.length, references: references.join(',') });
    return outcome('delivered', `${sms.parts.length} part(s) accepted, reference ${references.join(',')}`, false, detail());
  }

  /** Sends one part with bounded retries; returns its message reference or the failing outcome. */
  private async sendPart(tpduLength: number, hex: string, signal: AbortSignal, seq: number, total: number): Promise<number | Outcome> {
    let last = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) {
        this.log.warn('sms.retry', { part: seq, of: total, attempt, reason: last });
        if (!(await this.pause(signal))) return outcome('failed', `aborted while retrying part ${seq}: ${last}`, false);
        if (!this.modem.isReady()) return outcome('failed', `modem not ready: ${this.modem.health().detail}`, true);
      }
      let r;
      try {
        r = await this.modem.command(`AT+CMGS=${tpduLength}`, { pdu: hex });
      } catch (e) {
        last = (e as Error).message;
        if (e instanceof AtError && (e.kind === 'port-closed' || e.kind === 'invalid')) {
          return outcome('failed', `part ${seq}/${total}: ${last}`, e.kind === 'port-closed');
        }
        continue; // timeout / no prompt: the modem was cancelled with ESC; try again
      }
      if (r.ok) {
        const mr = r.lines.map(parseCmgs).find((v): v is number => v !== null);
        if (mr === undefined) return outcome('failed', `part ${seq}/${total}: OK without +CMGS reference`, true);
        return mr;
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
      const cancel = this.clock.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, this.retryDelay);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
