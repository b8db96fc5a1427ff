/**
 * Call-back: a person calls the modem's number. The call is rejected unanswered (ATH: free for
 * the caller) and the caller's number goes to the InboundSink as a call-back, which
 * acknowledges their latest alert (core decides); its answer goes back by SMS. RING repeats
 * every few seconds until the ATH takes effect, so one number counts once per `cooldownMs`.
 * While the modem's call slot is busy (our own call), an incoming call is left alone.
 */
import type { InboundSink } from '../../channel.js';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import type { Slots } from '../../../util/slots.js';
import { normalizePhone } from '../pdu/index.js';
import type { ModemEvent } from './events.js';
import type { ModemOperations } from './operations.js';
import type { SmsReplies } from './replies.js';

export class CallBack {
  private readonly recent = new Map<string, number>();
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly ops: ModemOperations,
    private readonly callSlot: Slots,
    private readonly sink: InboundSink,
    private readonly replies: SmsReplies,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly cooldownMs = 60_000,
  ) {}

  /** Feeds modem events; acts on +CLIP (AT+CLIP=1 sends one with every RING). */
  event(e: ModemEvent): void {
    if (e.type !== 'caller-id') return;
    const now = this.clock.now();
    const key = e.number || '(withheld)';
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.cooldownMs) return;
    if (this.callSlot.inUse > 0) {
      this.log.info('gsm.call_in_while_busy', { from: key });
      return;
    }
    this.recent.set(key, now);
    for (const [k, t] of this.recent) if (now - t >= this.cooldownMs) this.recent.delete(k);
    const slot = this.callSlot.acquire(); // free now: granted synchronously, so no dial overtakes the ATH
    const rejected = (async () => {
      const release = await slot;
      try {
        await this.ops.hangUp();
        this.log.info('gsm.call_in_rejected', { from: key });
      } catch (err) {
        this.log.warn('gsm.call_in_reject_failed', { from: key, error: (err as Error).message });
      } finally {
        release?.();
      }
    })();
    this.work = this.work.then(() => rejected).then(() => this.notify(e.number));
  }

  idle(): Promise<void> {
    return this.work;
  }

  private async notify(number: string): Promise<void> {
    let phone: string;
    try {
      phone = normalizePhone(number);
    } catch {
      this.log.info('gsm.call_in_unknown_number', { from: number.slice(0, 20) || '(withheld)' });
      return;
    }
    let answer: string | null;
    try {
      answer = await this.sink.callBack({ phone }, 'call-back');
    } catch (e) {
      this.log.error('gsm.call_back_failed', { from: phone, error: (e as Error).message });
      return;
    }
    this.log.info('gsm.call_back', { from: phone, answered: answer !== null });
    if (answer) await this.replies.reply(phone, answer, 'call-back');
  }
}
