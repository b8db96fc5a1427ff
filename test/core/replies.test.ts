/** The reply grammar shared by SMS, chat and SIP MESSAGE replies. */
import { describe, expect, it } from 'vitest';
import { parseReply } from '../../src/core/replies.js';

describe('reply grammar', () => {
  it.each<[string, ReturnType<typeof parseReply>]>([
    ['1', { type: 'ack' }],
    ['ack', { type: 'ack' }],
    ['  ACK ', { type: 'ack' }],
    ['Ack 42', { type: 'ack', alertId: 42 }],
    ['ack #7', { type: 'ack', alertId: 7 }],
    ['ack42', { type: 'ack', alertId: 42 }],
    ['１', { type: 'ack' }], // full-width digit (NFKC)
    ['ack 1234567890', { type: 'other' }], // more than 9 digits
    ['12a', { type: 'ack', alertId: 12 }],
    ['12 E', { type: 'escalate', alertId: 12 }],
    ['#7s', { type: 'snooze', alertId: 7 }],
    ['42r', { type: 'resolve', alertId: 42 }],
    ['12x', { type: 'other' }],
    ['a12', { type: 'other' }],
    ['2', { type: 'other' }],
    ['ok thanks', { type: 'other' }],
    ['', { type: 'other' }],
    ['ack ' + '9'.repeat(10_000), { type: 'other' }],
  ])('%j', (text, expected) => {
    expect(parseReply(text)).toEqual(expected);
  });
});
