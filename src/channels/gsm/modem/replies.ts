/**
 * Answers to a person who wrote or called the appliance, as SMS: the text the InboundSink chose
 * (core's reply grammar), at most two parts, at most `perHour` per number (an auto-responder on
 * the other side must not start an SMS ping-pong that costs money).
 */
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import { encodeSmsSubmit, sanitizeSmsText } from '../pdu/index.js';
import type { SmsSender } from '../sms-sender.js';

const HOUR = 3600_000;
const REPLY_MAX_PARTS = 2;

export class SmsReplies {
  private readonly sent = new Map<string, number[]>();
  private nextRef = Math.floor(Math.random() * 256);

  constructor(
    private readonly sender: SmsSender,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly perHour = 10,
  ) {}

  /** Sends `text` to `phone` (a normalized number). Never rejects; failures are logged. */
  async reply(phone: string, text: string, why: string): Promise<boolean> {
    const now = this.clock.now();
    const recent = (this.sent.get(phone) ?? []).filter((t) => now - t < HOUR);
    if (recent.length >= this.perHour) {
      this.log.warn('gsm.reply_limited', { to: phone, why, perHour: this.perHour });
      return false;
    }
    recent.push(now);
    this.sent.set(phone, recent);
    if (this.sent.size > 1000) for (const [k, v] of this.sent) if (v.every((t) => now - t >= HOUR)) this.sent.delete(k);
    try {
      const reference = this.nextRef;
      this.nextRef = (this.nextRef + 1) & 0xff;
      const sms = encodeSmsSubmit({ to: phone, text: sanitizeSmsText(text).trim(), reference, maxParts: REPLY_MAX_PARTS });
      const r = await this.sender.send(sms.parts, new AbortController().signal);
      if (r.ok) this.log.info('gsm.reply_sent', { to: phone, why, parts: sms.parts.length });
      else this.log.warn('gsm.reply_failed', { to: phone, why, reason: r.outcome.reason });
      return r.ok;
    } catch (e) {
      this.log.warn('gsm.reply_failed', { to: phone, why, reason: (e as Error).message });
      return false;
    }
  }
}
