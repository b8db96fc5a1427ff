import { describe, expect, it } from 'vitest';
import {
  decodeSmsDeliver,
  encodeSmsDeliver,
  reassemble,
  reassembleAll,
  type DecodedDeliver,
} from '../../../../src/channels/gsm/pdu/index.js';

describe('SMS-DELIVER vectors', () => {
  it('decodes the classic GSM 03.40 SMS-DELIVER example', () => {
    // 07 91 7283010010F5: SMSC +27381000015 | 04 DELIVER, no more messages | 0B C8 7238880900F1: TON 4,
    // NPI national, 27838890001 | 00 PID | 00 DCS | 99 30 92 51 61 95 80: 1999-03-29 15:16:59, zone
    // octet 0x80 → digits "08" = 8 quarter hours = +02:00 | 0A UDL | "hellohello"
    const d = decodeSmsDeliver('07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37');
    expect(d).toEqual({
      smsc: '+27381000015',
      sender: '27838890001',
      text: 'hellohello',
      encoding: 'gsm7',
      timestamp: '1999-03-29T15:16:59+02:00',
    });
  });

  it('writes and reads a negative time zone (hand-computed)', () => {
    // SMSC +31624000000 → 07 91 13 26 04 00 00 F0; sender +31612345678 → 0B 91 13 16 32 54 76 F8;
    // 2024-01-31 23:59:00 at −05:00: 42 10 13 32 95 00, zone −20 quarter hours → tens 2 in the low
    // nibble with the sign bit 0x08, units 0 in the high nibble → 0x0A; text "1" → UDL 01, septet 0x31.
    const hex = '07911326040000F0' + '04' + '0B911316325476F8' + '0000' + '4210133295000A' + '01' + '31';
    const built = encodeSmsDeliver({
      smsc: '+31624000000',
      sender: '+31612345678',
      text: '1',
      timestamp: new Date('2024-02-01T04:59:00Z'),
      timezoneOffsetMinutes: -300,
    });
    expect(built).toBe(hex);
    expect(decodeSmsDeliver(hex)).toEqual({
      smsc: '+31624000000',
      sender: '+31612345678',
      text: '1',
      encoding: 'gsm7',
      timestamp: '2024-01-31T23:59:00-05:00',
    });
  });

  it('writes a UDH with fill bit for a concatenated part (hand-computed)', () => {
    // No SMSC (00) | 44 = DELIVER + MMS + UDHI | 05 81 2143F5 | 00 | 00 | 2025-06-01 12:00:00 UTC:
    // 52 60 10 21 00 00 00 | UDL 09 = 7 header septets (6 octets + 1 fill bit) + 2 | 05 00 03 CC 02 01 |
    // "hi" after one fill bit: 0x68 << 1 = D0, then 0x69.
    const hex = encodeSmsDeliver({
      sender: '12345',
      text: 'hi',
      timestamp: new Date('2025-06-01T12:00:00Z'),
      concat: { ref: 0xcc, total: 2, seq: 1 },
    });
    expect(hex).toBe('00' + '44' + '05812143F5' + '0000' + '52601021000000' + '09' + '050003CC0201' + 'D069');
    expect(decodeSmsDeliver(hex)).toEqual({
      sender: '12345',
      text: 'hi',
      encoding: 'gsm7',
      timestamp: '2025-06-01T12:00:00+00:00',
      concat: { ref: 0xcc, total: 2, seq: 1 },
    });
  });

  it('reads a 16-bit-reference concatenation header (IEI 0x08) with no fill bits', () => {
    // UDH 06 08 04 1234 03 02 = 7 octets = 56 bits = exactly 8 septets, so no fill bits;
    // UDL = 8 + 2; "ok" packs to EF 35: 'o' 0x6F fills bits 0-6, bit 0 of 'k' (0x6B) is 1 and
    // lands in bit 7 → 0xEF; the remaining six bits of 'k' are 0x6B >> 1 = 0x35.
    const hex = '00' + '44' + '05812143F5' + '0000' + '52601021000000' + '0A' + '060804123403' + '02' + 'EF35';
    expect(decodeSmsDeliver(hex)).toMatchObject({ text: 'ok', concat: { ref: 0x1234, total: 3, seq: 2 } });
  });

  it('reads UCS-2 with a UDH (octet-counted UDL, no fill bits)', () => {
    // UDL 0A = 6 header octets + 4 text octets; "Да" = 0414 0430.
    const hex = '00' + '44' + '05812143F5' + '0008' + '52601021000000' + '0A' + '050003010201' + '04140430';
    expect(decodeSmsDeliver(hex)).toMatchObject({ text: 'Да', encoding: 'ucs2', concat: { ref: 1, total: 2, seq: 1 } });
  });

  it('ignores a concatenation element whose sequence number is 0 or beyond the total', () => {
    const hex = '00' + '44' + '05812143F5' + '0008' + '52601021000000' + '08' + '050003010203' + '0031';
    expect(decodeSmsDeliver(hex).concat).toBeUndefined();
    expect(decodeSmsDeliver(hex).text).toBe('1');
  });

  it('reads other coding groups: message-waiting UCS-2 (0xE0) and class 1 default alphabet (0xF1)', () => {
    const ucs = '00' + '04' + '05812143F5' + '00E0' + '52601021000000' + '02' + '0031';
    expect(decodeSmsDeliver(ucs)).toMatchObject({ text: '1', encoding: 'ucs2' });
    const cls = '00' + '04' + '05812143F5' + '00F1' + '52601021000000' + '01' + '31';
    expect(decodeSmsDeliver(cls)).toMatchObject({ text: '1', encoding: 'gsm7' });
  });
});

describe('SMS-DELIVER round trips', () => {
  const when = new Date('2030-12-31T22:15:30Z');
  const cases: Array<{ sender: string; text: string; smsc?: string; tz?: number }> = [
    { sender: '+491701234567', text: 'ack 1234', smsc: '+491722270333' },
    { sender: '0612345678', text: 'ACK {42} [x] ~ \\ ^ | €' },
    { sender: 'Alertline', text: 'Reply 1 to ack' },
    { sender: '+81312345678', text: '了解しました 👍', tz: 540 },
    { sender: '+5511987654321', text: 'ok', tz: -180 },
    { sender: '+15550100', text: '', tz: 345 },
  ];
  for (const c of cases) {
    it(`${c.sender}: ${JSON.stringify(c.text)}`, () => {
      const hex = encodeSmsDeliver({ sender: c.sender, text: c.text, smsc: c.smsc, timestamp: when, timezoneOffsetMinutes: c.tz });
      expect(hex).toMatch(/^([0-9A-F]{2})+$/);
      const d = decodeSmsDeliver(hex);
      expect(d.sender).toBe(c.sender);
      expect(d.text).toBe(c.text);
      expect(d.smsc).toBe(c.smsc);
      expect(new Date(d.timestamp).getTime()).toBe(when.getTime());
    });
  }

  it('carries a 160-septet GSM 7-bit text and a 70-unit UCS-2 text; rejects one more', () => {
    const ts = new Date('2024-01-01T00:00:00Z');
    expect(decodeSmsDeliver(encodeSmsDeliver({ sender: '123', text: 'q'.repeat(160), timestamp: ts })).text).toBe('q'.repeat(160));
    expect(decodeSmsDeliver(encodeSmsDeliver({ sender: '123', text: 'Ж'.repeat(70), timestamp: ts })).text).toBe('Ж'.repeat(70));
    expect(() => encodeSmsDeliver({ sender: '123', text: 'q'.repeat(161), timestamp: ts })).toThrow(/exceeds 160/);
    expect(() => encodeSmsDeliver({ sender: '123', text: 'Ж'.repeat(71), timestamp: ts })).toThrow(/exceeds 140/);
  });

  it('rejects bad senders, dates and concat values', () => {
    const ts = new Date('2024-01-01T00:00:00Z');
    expect(() => encodeSmsDeliver({ sender: '+1;2', text: 'x', timestamp: ts })).toThrow(/invalid/);
    expect(() => encodeSmsDeliver({ sender: 'A very long sender', text: 'x', timestamp: ts })).toThrow(/longer than 11/);
    expect(() => encodeSmsDeliver({ sender: '123', text: 'x', timestamp: new Date('nope') })).toThrow(/valid Date/);
    expect(() => encodeSmsDeliver({ sender: '123', text: 'x', timestamp: ts, concat: { ref: 1, total: 2, seq: 3 } })).toThrow(/beyond total/);
    expect(() => encodeSmsDeliver({ sender: '123', text: 'x', timestamp: ts, concat: { ref: 1, total: 0, seq: 0 } })).toThrow(/concat/);
  });
});

describe('reassembly', () => {
  const ts = new Date('2024-05-05T05:05:05Z');
  function partsOf(sender: string, ref: number, texts: string[]): DecodedDeliver[] {
    return texts.map((text, i) =>
      decodeSmsDeliver(encodeSmsDeliver({ sender, text, timestamp: ts, concat: { ref, total: texts.length, seq: i + 1 } })),
    );
  }

  it('joins a complete set in sequence order whatever order the parts arrive in', () => {
    const p = partsOf('+441234567890', 9, ['ack ', '12', '34']);
    expect(reassemble([p[2]!, p[0]!, p[1]!])).toBe('ack 1234');
  });

  it('joins a surrogate pair that another phone split across two UCS-2 parts', () => {
    const hex = (seq: number, unit: string) =>
      '00' + '44' + '05812143F5' + '0008' + '52601021000000' + '08' + `05000377020${seq}` + unit;
    const parts = [decodeSmsDeliver(hex(1, 'D83D')), decodeSmsDeliver(hex(2, 'DE00'))];
    expect(reassemble(parts)).toBe('😀');
  });

  it('returns null for a missing part, mixed references or senders, or an empty list', () => {
    const p = partsOf('+441234567890', 9, ['a', 'b', 'c']);
    expect(reassemble([p[0]!, p[2]!])).toBeNull();
    expect(reassemble([])).toBeNull();
    const other = partsOf('+441234567890', 10, ['a', 'b', 'c']);
    expect(reassemble([p[0]!, other[1]!, p[2]!])).toBeNull();
    const otherSender = partsOf('+449999999999', 9, ['a', 'b', 'c']);
    expect(reassemble([p[0]!, otherSender[1]!, p[2]!])).toBeNull();
  });

  it('accepts a duplicated part with the same text; a single unconcatenated SMS is itself', () => {
    const p = partsOf('+441234567890', 9, ['a', 'b']);
    expect(reassemble([p[0]!, p[1]!, p[1]!])).toBe('ab');
    const single = decodeSmsDeliver(encodeSmsDeliver({ sender: '123', text: '1', timestamp: ts }));
    expect(reassemble([single])).toBe('1');
    expect(reassemble([single, single])).toBeNull();
  });

  it('reassembleAll sorts a mixed inbox into complete messages and waiting parts', () => {
    const a = partsOf('+441111111111', 1, ['ack ', '77']);
    const b = partsOf('+442222222222', 1, ['x', 'y', 'z']);
    const single = decodeSmsDeliver(encodeSmsDeliver({ sender: '+443333333333', text: '1', timestamp: ts }));
    const inbox = [b[0]!, a[1]!, single, b[2]!, a[0]!].map((d, index) => ({ ...d, index }));
    const { complete, incomplete } = reassembleAll(inbox);
    expect(complete.map((m) => [m.sender, m.text, m.parts.map((p) => p.index).sort()])).toEqual([
      ['+443333333333', '1', [2]],
      ['+441111111111', 'ack 77', [1, 4]],
    ]);
    expect(incomplete.map((p) => p.index).sort()).toEqual([0, 3]);
  });
});
