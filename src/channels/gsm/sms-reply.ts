/**
 * What an incoming SMS means (pure): "1", "ack" or "ack <alert id>" in any case and spacing is an
 * acknowledgement; anything else is not.
 *
 * @deprecated the reply grammar lives in core (src/core/replies.ts); the modem no longer reads
 * replies. Only factories.ts's transitional inboundFromAckSink uses this until the daemon passes
 * an InboundSink. SMS_ACK_HINT (the hint the sms channel appends) stays.
 */
export type SmsReply = { type: 'ack'; alertId?: number } | { type: 'other' };

export function parseSmsReply(text: string): SmsReply {
  const t = text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  if (t === '1' || t === 'ack') return { type: 'ack' };
  const m = /^ack ?#?(\d{1,9})$/.exec(t);
  if (m) return { type: 'ack', alertId: Number(m[1]) };
  return { type: 'other' };
}

/** The line appended to every alert SMS. */
export const SMS_ACK_HINT = 'Reply 1 to ack';
