/**
 * The reply grammar, pure: what a person's text back means (an SMS reply, a chat message, a SIP
 * MESSAGE). "1" or "ack" (any case and spacing) acknowledges the latest alert sent to them;
 * "ack <id>" / "ack #<id>" a given one. Anything else is not an acknowledgement.
 */
export type Reply = { type: 'ack'; alertId?: number } | { type: 'other' };

/** Longest reply worth reading: anything longer is not a reply code. */
const MAX_REPLY = 64;

export function parseReply(text: string): Reply {
  if (text.length > MAX_REPLY * 4) return { type: 'other' };
  const t = text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  if (t.length > MAX_REPLY) return { type: 'other' };
  if (t === '1' || t === 'ack') return { type: 'ack' };
  const m = /^ack ?#?(\d{1,9})$/.exec(t);
  if (m) return { type: 'ack', alertId: Number(m[1]) };
  return { type: 'other' };
}

/** The line text channels append so people know how to answer. */
export const ACK_HINT = 'Reply 1 to ack';
