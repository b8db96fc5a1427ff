/**
 * The reply grammar, pure: what a person's text back means (an SMS reply, a chat message, a SIP
 * MESSAGE). "1" or "ack" (any case and spacing) acknowledges the latest alert sent to them;
 * "ack <id>" / "ack #<id>" a given one; "<id>a" acknowledge, "<id>e" escalate to the next step
 * now, "<id>s" snooze 30 minutes, "<id>r" resolve ("12a", "12 a", "#12r"). Anything else is not a
 * reply code (the sender is told the codes).
 */
export type ReplyAction = 'ack' | 'escalate' | 'snooze' | 'resolve';
export type Reply = { type: ReplyAction; alertId?: number } | { type: 'other' };

/** Longest reply worth reading: anything longer is not a reply code. */
const MAX_REPLY = 64;

const LETTER: Record<string, ReplyAction> = { a: 'ack', e: 'escalate', s: 'snooze', r: 'resolve' };

export function parseReply(text: string): Reply {
  if (text.length > MAX_REPLY * 4) return { type: 'other' };
  const t = text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  if (t.length > MAX_REPLY) return { type: 'other' };
  if (t === '1' || t === 'ack') return { type: 'ack' };
  const ack = /^ack ?#?(\d{1,9})$/.exec(t);
  if (ack) return { type: 'ack', alertId: Number(ack[1]) };
  const code = /^#?(\d{1,9}) ?([aesr])$/.exec(t);
  if (code) return { type: LETTER[code[2]!]!, alertId: Number(code[1]) };
  return { type: 'other' };
}

/** The line text channels append so people know how to answer. */
export const ACK_HINT = 'Reply 1 to ack';

/** What a sender of something that is not a reply code is told (one SMS part). */
export const REPLY_HELP = 'Alertline: reply 1 or ack (your latest alert), or <id>a ack, <id>e escalate, <id>s snooze 30 min, <id>r resolve (e.g. 12a).';
