/**
 * The SMS inbox: messages stored on the SIM are read (all of them once the modem is ready,
 * then each one a +CMTI announces), decoded, joined into whole messages with pdu/reassemble.ts,
 * and handed to the InboundSink as {sender, text}. What a reply means is the sink's business
 * (core's reply grammar), not the modem's; if the sink answers with a text, it goes back by SMS.
 * A message is deleted from the SIM once the sink took it; when the sink fails it stays stored
 * and is read again at the next bring-up. Parts of a concatenated message wait (in memory, still
 * stored on the SIM) for the rest, bounded in number and age.
 */
import type { InboundSink } from '../../channel.js';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import type { StoredPdu } from '../at-parser.js';
import { decodeSmsDeliver, normalizePhone, reassembleAll, type DecodedDeliver } from '../pdu/index.js';
import type { ModemOperations } from './operations.js';
import type { SmsReplies } from './replies.js';

/** A stored part of a concatenated message waiting for the others. */
type Part = DecodedDeliver & { index: number; seenAt: number };

const WAIT_MAX_AGE = 24 * 3600_000;
const WAIT_MAX_PARTS = 64;

export class SmsInbox {
  private work: Promise<void> = Promise.resolve();
  private waiting: Part[] = [];

  constructor(
    private readonly ops: ModemOperations,
    private readonly sink: InboundSink,
    private readonly replies: SmsReplies,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Reads everything stored (AT+CMGL=4): replies that arrived while the appliance was away. */
  readAll(): void {
    this.enqueue(async () => {
      if (!this.ops.isOpen) return;
      const stored = await this.ops.listMessages();
      if (stored.length) this.log.info('gsm.sms_stored', { count: stored.length });
      const parts: Part[] = [];
      for (const s of stored) {
        const p = await this.decode(s);
        if (p) parts.push(p);
      }
      await this.take(parts);
    });
  }

  /** A +CMTI announced a new message at `index`. */
  arrived(index: number): void {
    this.enqueue(async () => {
      if (!this.ops.isOpen) return;
      let stored: StoredPdu | null;
      try {
        stored = await this.ops.readMessage(index);
      } catch (e) {
        this.log.warn('gsm.sms_read_failed', { index, error: (e as Error).message });
        return;
      }
      if (!stored) {
        this.log.warn('gsm.sms_read_empty', { index });
        await this.delete(index);
        return;
      }
      const p = await this.decode(stored);
      if (p) await this.take([p]);
    });
  }

  /** Resolves when queued inbox work is done. */
  idle(): Promise<void> {
    return this.work;
  }

  private enqueue(job: () => Promise<void>): void {
    this.work = this.work.then(job).catch((e) => {
      this.log.warn('gsm.sms_in_failed', { error: (e as Error).message });
    });
  }

  /** Decodes one stored PDU; an undecodable one is deleted (it can never become a reply). */
  private async decode(s: StoredPdu): Promise<Part | null> {
    try {
      return { ...decodeSmsDeliver(s.pdu), index: s.index, seenAt: this.clock.now() };
    } catch (e) {
      this.log.warn('gsm.sms_undecodable', { index: s.index, error: (e as Error).message });
      await this.delete(s.index);
      return null;
    }
  }

  /** Adds parts to those waiting, hands every complete message to the sink, keeps the rest. */
  private async take(parts: Part[]): Promise<void> {
    const now = this.clock.now();
    const indexes = new Set(parts.map((p) => p.index));
    // The same slot read twice (a repeated +CMTI, a re-read at bring-up) counts once.
    const pool = [...this.waiting.filter((w) => !indexes.has(w.index) && now - w.seenAt <= WAIT_MAX_AGE), ...parts];
    const { complete, incomplete } = reassembleAll(pool);
    this.waiting = incomplete.slice(-WAIT_MAX_PARTS);
    for (const m of complete) {
      if (await this.handle(m.sender, m.text)) for (const p of m.parts) await this.delete(p.index);
    }
  }

  /** Gives a whole message to the sink. False when it must stay stored (the sink failed). */
  private async handle(sender: string, text: string): Promise<boolean> {
    let phone: string;
    try {
      phone = normalizePhone(sender);
    } catch {
      // Alphanumeric senders (operator notices) cannot be people, and cannot be answered.
      this.log.info('gsm.sms_from_non_number', { sender: sender.slice(0, 20) });
      return true;
    }
    let answer: string | null;
    try {
      answer = await this.sink.message({ phone }, text, 'sms');
    } catch (e) {
      this.log.error('gsm.sms_sink_failed', { sender: phone, error: (e as Error).message });
      return false;
    }
    this.log.info('gsm.sms_in', { sender: phone, text: text.slice(0, 60), answered: answer !== null });
    if (answer) await this.replies.reply(phone, answer, 'sms');
    return true;
  }

  private async delete(index: number): Promise<void> {
    try {
      if (!(await this.ops.deleteMessage(index))) this.log.warn('gsm.sms_delete_failed', { index });
    } catch (e) {
      this.log.warn('gsm.sms_delete_failed', { index, error: (e as Error).message });
    }
  }
}
