import { describe, expect, it } from 'vitest';
import { parseFinal } from '../../../src/channels/gsm/at-parser.js';
import { Slots } from '../../../src/util/slots.js';
import { classifyCmsError } from '../../../src/channels/gsm/cms-errors.js';
import { parseSmsReply } from '../../../src/channels/gsm/sms-reply.js';
import { encodeAlertSms } from '../../../src/channels/gsm/sms-channel.js';
import { mapDialFinal } from '../../../src/channels/gsm/gsm-call-channel.js';
import { decodeSmsSubmit } from '../../../src/channels/gsm/pdu/index.js';

const cms = (line: string) => classifyCmsError(parseFinal(line)!);

describe('parseSmsReply', () => {
  it('accepts 1, ack and ack <id> in any case and spacing', () => {
    expect(parseSmsReply('1')).toEqual({ type: 'ack' });
    expect(parseSmsReply('  ACK \n')).toEqual({ type: 'ack' });
    expect(parseSmsReply('Ack 42')).toEqual({ type: 'ack', alertId: 42 });
    expect(parseSmsReply('ack   42 ')).toEqual({ type: 'ack', alertId: 42 });
    expect(parseSmsReply('ack42')).toEqual({ type: 'ack', alertId: 42 });
    expect(parseSmsReply('ack #7')).toEqual({ type: 'ack', alertId: 7 });
  });

  it('rejects everything else', () => {
    for (const t of ['', '11', 'ok', 'ack 4x', 'acknowledge', 'ack 1234567890123', 'no ack', '1 please']) {
      expect(parseSmsReply(t)).toEqual({ type: 'other' });
    }
  });
});

describe("classifyCmsError", () => {
  it('retries network trouble and refuses permanent errors', () => {
    expect(cms('+CMS ERROR: 42')).toEqual({ transient: true, reason: '+CMS ERROR: 42 (congestion)' });
    expect(cms('+CMS ERROR: 332').transient).toBe(true);
    expect(cms('+CMS ERROR: 331').transient).toBe(true);
    expect(cms('+CMS ERROR: network timeout').transient).toBe(true);
    expect(cms('+CMS ERROR: 1')).toEqual({ transient: false, reason: '+CMS ERROR: 1 (unassigned (unallocated) number)' });
    expect(cms('+CMS ERROR: 304').transient).toBe(false);
    expect(cms('+CMS ERROR: 330').transient).toBe(false);
    expect(cms('+CMS ERROR: invalid PDU mode parameter').transient).toBe(false);
    expect(cms('+CMS ERROR: 200').transient).toBe(false); // TP-FCS: a refusal
    expect(cms('+CMS ERROR: 530').transient).toBe(true); // vendor specific
  });
});

describe('encodeAlertSms', () => {
  it('appends the acknowledgement hint', () => {
    const e = encodeAlertSms('+15551230001', 'Problem: disk full', 1, 9);
    expect(e.parts).toHaveLength(1);
    expect(decodeSmsSubmit(e.parts[0]!.hex).text).toBe('Problem: disk full Reply 1 to ack');
  });

  it('cuts a long body, never the hint, to fit one part', () => {
    const e = encodeAlertSms('+15551230001', 'x'.repeat(400), 1, 9);
    expect(e.parts).toHaveLength(1);
    expect(e.truncated).toBe(true);
    const text = decodeSmsSubmit(e.parts[0]!.hex).text;
    expect(text).toBe('x'.repeat(160 - ' Reply 1 to ack'.length - 3) + '... Reply 1 to ack');
  });

  it('fills up to maxParts and keeps the hint in the last part', () => {
    const e = encodeAlertSms('+15551230001', 'y'.repeat(2000), 3, 9);
    expect(e.parts).toHaveLength(3);
    const texts = e.parts.map((p) => decodeSmsSubmit(p.hex).text);
    expect(texts.join('')).toMatch(/^y+\.\.\. Reply 1 to ack$/);
    expect(texts.join('').length).toBe(153 * 3);
  });

  it('uses UCS-2 for non-GSM text and still ends with the hint', () => {
    const e = encodeAlertSms('+15551230001', 'Сервер упал '.repeat(20), 1, 9);
    expect(e.encoding).toBe('ucs2');
    const text = decodeSmsSubmit(e.parts[0]!.hex).text;
    expect(text.endsWith('\u2026 Reply 1 to ack')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(70);
  });
});

describe('Slots (one call per modem)', () => {
  it('grants in order and lets an aborted waiter go', async () => {
    const lock = new Slots(1);
    const r1 = (await lock.acquire())!;
    const ac = new AbortController();
    const p2 = lock.acquire(ac.signal);
    const p3 = lock.acquire();
    ac.abort();
    await expect(p2).resolves.toBeNull();
    r1();
    const r3 = (await p3)!;
    expect(lock.inUse).toBe(1);
    r3();
    r3(); // releasing twice frees one slot only once
    expect(lock.inUse).toBe(0);
  });

  it('N slots: the N+1th caller waits for a release', async () => {
    const slots = new Slots(2);
    const a = (await slots.acquire())!;
    await slots.acquire();
    let third = false;
    const p = slots.acquire().then((r) => { third = true; return r; });
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBe(false);
    a();
    expect(await p).toBeTypeOf('function');
    expect(slots.inUse).toBe(2);
  });
});

describe('mapDialFinal', () => {
  it('maps every dial result code to an outcome', () => {
    const m = (line: string) => mapDialFinal(parseFinal(line, 'ATD+15551230001;')!);
    expect(m('BUSY')).toMatchObject({ kind: 'busy', retryable: true });
    expect(m('NO ANSWER')).toMatchObject({ kind: 'no-answer', retryable: true });
    expect(m('NO CARRIER')).toMatchObject({ kind: 'no-answer', reason: 'NO CARRIER (call ended before answer)' });
    expect(m('NO DIALTONE')).toMatchObject({ kind: 'failed', reason: 'NO DIALTONE (no network)' });
    expect(m('+CME ERROR: operation not allowed')).toMatchObject({ kind: 'failed', reason: 'dial refused: +CME ERROR: operation not allowed' });
    expect(m('ERROR')).toMatchObject({ kind: 'failed', reason: 'dial refused: ERROR' });
    expect(m('CONNECT 9600')).toMatchObject({ kind: 'failed' });
  });
});
