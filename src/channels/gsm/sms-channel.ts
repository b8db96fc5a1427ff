/**
 * The `sms` channel: alert text as SMS-SUBMIT PDUs through the SIM900 (PDU mode), each part sent
 * with the modem's typed sendPdu (AT+CMGS, `> ` prompt, hex + Ctrl-Z, `+CMGS: <mr>`); transient
 * +CMS ERRORs are retried a bounded number of times (SmsSender). The channel composes its own
 * text (sms-text.ts) and ends it with how to acknowledge by reply.
 */
import { guarded, phoneAddress, phoneTarget } from './phone-target.js';
import type { Channel, ChannelHealth, DeliveryJob, Outcome, Recipient, RetryRule } from '../channel.js';
import { outcome } from '../channel.js';
import type { SmsConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { SharedModem } from './modem/shared-modem.js';
import type { ModemStatus } from './modem/status.js';
import { encodeSmsSubmit, isGsm7Text, sanitizeSmsText, type EncodedSms } from './pdu/index.js';
import { SmsSender } from './sms-sender.js';
import { SMS_ACK_HINT } from './sms-reply.js';
import { fullSms, shortSms } from './sms-text.js';

export interface SmsChannelOptions {
  /** The modem, shared with the gsm channel. */
  modem: SharedModem;
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
  private readonly shared: SharedModem;
  private readonly sms: SmsConfig;
  private readonly log: Logger;
  private readonly sender: SmsSender;
  private nextRef = Math.floor(Math.random() * 256);

  constructor(opts: SmsChannelOptions) {
    this.shared = opts.modem;
    this.sms = opts.sms;
    this.retry = { retries: opts.sms.retries, backoffMs: opts.sms.retryBackoff };
    this.log = opts.logger.child({ channel: 'sms' });
    this.sender = new SmsSender(opts.modem.link, {
      clock: opts.clock ?? systemClock,
      log: this.log,
      ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
      ...(opts.retryDelay !== undefined ? { retryDelay: opts.retryDelay } : {}),
    });
  }

  address(recipient: Recipient): string | null {
    return phoneAddress(recipient);
  }

  start(): Promise<void> {
    return this.shared.acquire();
  }

  stop(): Promise<void> {
    return this.shared.release();
  }

  health(): ChannelHealth {
    return this.shared.link.health();
  }

  status(): ModemStatus {
    return this.shared.link.status();
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    return guarded(this.log, 'sms.crashed', job.alert.id, () => this.deliverInner(job, signal));
  }

  private async deliverInner(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    const modem = this.shared.link;
    const target = phoneTarget(job.recipient);
    if ('outcome' in target) return target.outcome;
    const to = target.number;
    if (signal.aborted) return outcome('failed', 'aborted', false);
    if (!modem.isReady()) return outcome('failed', `modem not ready: ${modem.health().detail}`, true);

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

    const r = await this.sender.send(sms.parts, signal);
    const detail = { to, parts: sms.parts.length, references: [...r.references], encoding: sms.encoding, truncated: sms.truncated };
    if (!r.ok) return { ...r.outcome, detail };
    this.log.info('sms.sent', { alert: job.alert.id, to, parts: sms.parts.length, references: r.references.join(',') });
    return outcome('delivered', `${sms.parts.length} part(s) accepted, reference ${r.references.join(',')}`, false, detail);
  }
}
