import { describe, expect, it } from 'vitest';
import {
  decodeSmsSubmit,
  encodeSmsSubmit,
  PduError,
  type EncodedSms,
} from '../../../../src/channels/gsm/pdu/index.js';

/** Every part decodes, carries consistent concat info, and the texts join to what was sent. */
function decodeAll(sms: EncodedSms) {
  const decoded = sms.parts.map((p) => decodeSmsSubmit(p.hex));
  return { decoded, joined: decoded.map((d) => d.text).join('') };
}

function checkWellFormed(sms: EncodedSms, to: string, ref: number): void {
  const { decoded, joined } = decodeAll(sms);
  expect(joined).toBe(sms.text);
  for (const [i, p] of sms.parts.entries()) {
    expect(p.hex).toMatch(/^00([0-9A-F]{2})+$/);
    expect(p.tpduLength).toBe(p.hex.length / 2 - 1);
    const d = decoded[i]!;
    expect(d.to).toBe(to);
    expect(d.encoding).toBe(sms.encoding);
    if (sms.parts.length === 1) expect(d.concat).toBeUndefined();
    else expect(d.concat).toEqual({ ref, total: sms.parts.length, seq: i + 1 });
  }
}

describe('SMS-SUBMIT vectors', () => {
  it('reproduces the classic GSM 03.40 SMS-SUBMIT example byte for byte', () => {
    // 00 SMSC default | 11 SUBMIT+VPF relative | 00 MR | 0B 91 6407281553F8 (+46708251358)
    // | 00 PID | 00 DCS | AA VP (4 days) | 0A UDL | E8329BFD4697D9EC37 "hellohello"
    const sms = encodeSmsSubmit({ to: '+46708251358', text: 'hellohello', reference: 0, maxParts: 1, validityMinutes: 4 * 24 * 60 });
    expect(sms.parts).toEqual([{ hex: '0011000B916407281553F80000AA0AE8329BFD4697D9EC37', tpduLength: 23 }]);
    expect(sms).toMatchObject({ encoding: 'gsm7', truncated: false, text: 'hellohello' });
    expect(decodeSmsSubmit(sms.parts[0]!.hex)).toEqual({
      to: '+46708251358', text: 'hellohello', encoding: 'gsm7', messageReference: 0,
      statusReportRequested: false, validityMinutes: 5760,
    });
  });

  it('writes UCS-2 without VP and with a status report request (hand-computed)', () => {
    // 00 | 21 = SUBMIT (01) + SRR (20), VPF 00 | 00 MR | 0C 91 447700900123 → 4477 0009 1032
    // | 00 PID | 08 DCS UCS-2 | 04 UDL octets | 65E5 672C "日本". TPDU = 17 octets.
    const sms = encodeSmsSubmit({ to: '+447700900123', text: '日本', reference: 7, maxParts: 4, requestStatusReport: true });
    expect(sms.parts).toEqual([{ hex: '0021000C91447700091032000804' + '65E5672C', tpduLength: 17 }]);
    expect(sms.encoding).toBe('ucs2');
    expect(decodeSmsSubmit(sms.parts[0]!.hex).statusReportRequested).toBe(true);
  });

  it('writes the concatenation UDH with 8-bit reference and one fill bit (hand-computed)', () => {
    // 161 'a' → 2 parts (153 + 8). Part 2: UDH 05 00 03 2A 02 02 is 6 octets = 48 bits, so one fill
    // bit pads it to 7 septets and UDL = 7 + 8 = 15 (0x0F). Text: after the fill bit the first 'a'
    // (0x61) sits in bits 1-7 of the first octet → 0x61 << 1 = 0xC2; the other seven 'a' start at an
    // octet boundary and pack like any 7 septets: E1 70 38 1C 0E 87 01.
    // 00 | 41 = SUBMIT + UDHI | 00 MR | 05 81 2143F5 ("12345", national) | 00 PID | 00 DCS | 0F | UDH | text
    const sms = encodeSmsSubmit({ to: '12345', text: 'a'.repeat(161), reference: 0x2a, maxParts: 4 });
    expect(sms.parts).toHaveLength(2);
    expect(sms.parts[1]).toEqual({ hex: '00410005812143F500000F' + '0500032A0202' + 'C2E170381C0E8701', tpduLength: 24 });
    expect(sms.parts[0]!.hex.slice(0, 34)).toBe('00410005812143F50000A0' + '0500032A0201');
    expect(decodeSmsSubmit(sms.parts[1]!.hex).text).toBe('a'.repeat(8));
  });
});

describe('splitting into parts', () => {
  const to = '+15550109999';
  const enc = (text: string, maxParts = 10, reference = 99) => encodeSmsSubmit({ to, text, reference, maxParts });
  const partTexts = (sms: EncodedSms) => decodeAll(sms).decoded.map((d) => d.text);

  it('GSM 7-bit: 160 characters is one part, 161 is two (153 + 8)', () => {
    const one = enc('x'.repeat(160));
    expect(one.parts).toHaveLength(1);
    checkWellFormed(one, to, 99);
    const two = enc('x'.repeat(161));
    expect(partTexts(two).map((t) => t.length)).toEqual([153, 8]);
    checkWellFormed(two, to, 99);
  });

  it('GSM 7-bit: 153×3 characters is exactly three parts, one more makes four', () => {
    expect(partTexts(enc('y'.repeat(459))).map((t) => t.length)).toEqual([153, 153, 153]);
    const four = enc('y'.repeat(460));
    expect(partTexts(four).map((t) => t.length)).toEqual([153, 153, 153, 1]);
    checkWellFormed(four, to, 99);
  });

  it('counts extension characters as two septets', () => {
    expect(enc('€'.repeat(80)).parts).toHaveLength(1); // 160 septets
    expect(enc('a'.repeat(159) + '€').parts).toHaveLength(2); // 161 septets
  });

  it('never splits an escape pair: a "€" that would straddle septet 153 moves to the next part', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    const sms = enc(text);
    expect(partTexts(sms)).toEqual(['a'.repeat(152), '€' + 'b'.repeat(10)]);
    checkWellFormed(sms, to, 99);
    const exact = enc('a'.repeat(151) + '€' + 'b'.repeat(10)); // 151 + 2 = 153 fits exactly
    expect(partTexts(exact)).toEqual(['a'.repeat(151) + '€', 'b'.repeat(10)]);
  });

  it('UCS-2: 70 units is one part, 71 is two (67 + 4); 67×2 is two, one more is three', () => {
    expect(enc('Ж'.repeat(70)).parts).toHaveLength(1);
    expect(partTexts(enc('Ж'.repeat(71))).map((t) => t.length)).toEqual([67, 4]);
    expect(enc('Ж'.repeat(134)).parts).toHaveLength(2);
    const three = enc('Ж'.repeat(135));
    expect(three.parts).toHaveLength(3);
    checkWellFormed(three, to, 99);
  });

  it('never splits a surrogate pair at a UCS-2 part boundary', () => {
    const sms = enc('Ж'.repeat(66) + '😀' + 'Ж'.repeat(5));
    expect(partTexts(sms)).toEqual(['Ж'.repeat(66), '😀' + 'Ж'.repeat(5)]);
    checkWellFormed(sms, to, 99);
    // 35 emoji = 70 units: one part.
    expect(enc('😀'.repeat(35)).parts).toHaveLength(1);
  });

  it('one character outside GSM 7-bit switches the whole message to UCS-2', () => {
    const sms = enc('Disk full on db-01 — act now');
    expect(sms.encoding).toBe('ucs2');
    expect(decodeSmsSubmit(sms.parts[0]!.hex).text).toBe('Disk full on db-01 — act now');
  });

  it('an empty text is one empty part', () => {
    const sms = enc('');
    expect(sms.parts).toHaveLength(1);
    expect(decodeSmsSubmit(sms.parts[0]!.hex).text).toBe('');
  });

  it('round-trips text from every corner of both alphabets', () => {
    const samples = [
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà',
      '{[~]}\\^|€\f'.repeat(20),
      'Σφάλμα δίσκου — 磁盘已满 — ошибка — 🔥🚨 alert',
      '😀'.repeat(100),
    ];
    for (const text of samples) {
      const sms = enc(text, 20, 1);
      expect(sms.truncated).toBe(false);
      expect(sms.text).toBe(text);
      checkWellFormed(sms, to, 1);
    }
  });
});

describe('truncation to maxParts', () => {
  const to = '0612345678';
  it('cuts to one 160-septet part ending in "..." for GSM 7-bit', () => {
    const sms = encodeSmsSubmit({ to, text: 'a'.repeat(200), reference: 0, maxParts: 1 });
    expect(sms.truncated).toBe(true);
    expect(sms.text).toBe('a'.repeat(157) + '...');
    expect(sms.parts).toHaveLength(1);
    expect(decodeSmsSubmit(sms.parts[0]!.hex).text).toBe(sms.text);
  });

  it('fills every allowed concatenated part before the ellipsis', () => {
    const sms = encodeSmsSubmit({ to, text: 'x'.repeat(1000), reference: 5, maxParts: 2 });
    expect(sms.text).toBe('x'.repeat(303) + '...');
    expect(sms.parts).toHaveLength(2);
    checkWellFormed(sms, to, 5);
  });

  it('uses "…" (one unit) in UCS-2', () => {
    const sms = encodeSmsSubmit({ to, text: 'Ж'.repeat(100), reference: 0, maxParts: 1 });
    expect(sms.text).toBe('Ж'.repeat(69) + '…');
    expect(decodeSmsSubmit(sms.parts[0]!.hex).text).toBe(sms.text);
  });

  it('does not cut an escape pair or a surrogate pair, and drops trailing spaces before the ellipsis', () => {
    const euro = encodeSmsSubmit({ to, text: '€'.repeat(100), reference: 0, maxParts: 1 });
    expect(euro.text).toBe('€'.repeat(78) + '...'); // 156 + 3 = 159 septets; a 79th € would need 161
    const emoji = encodeSmsSubmit({ to, text: '😀'.repeat(50), reference: 0, maxParts: 1 });
    expect(emoji.text).toBe('😀'.repeat(34) + '…'); // 68 + 1 = 69 units
    const spaced = encodeSmsSubmit({ to, text: 'a'.repeat(156) + ' ' + 'b'.repeat(50), reference: 0, maxParts: 1 });
    expect(spaced.text).toBe('a'.repeat(156) + '...');
  });

  it('does not truncate a text that exactly fills maxParts', () => {
    const sms = encodeSmsSubmit({ to, text: 'z'.repeat(153 * 4), reference: 0, maxParts: 4 });
    expect(sms.truncated).toBe(false);
    expect(sms.parts).toHaveLength(4);
  });

  it('truncates a multi-megabyte text to maxParts parts', () => {
    const sms = encodeSmsSubmit({ to, text: 'long alert body '.repeat(200_000), reference: 0, maxParts: 4 });
    expect(sms.truncated).toBe(true);
    expect(sms.parts).toHaveLength(4);
    expect(sms.text.endsWith('...')).toBe(true);
    checkWellFormed(sms, to, 0);
  });
});

describe('hostile text and options', () => {
  const to = '+15550109999';

  it('turns Ctrl-Z, ESC, NUL, tab, DEL and C1 controls into spaces; keeps ; and "; CRLF becomes LF', () => {
    const subject = 'Problem: disk\u001a\u001bATH;"x"\r\nAT+CMGD=1,4\u0000\t\u007f\u0085end\r';
    const sms = encodeSmsSubmit({ to, text: subject, reference: 0, maxParts: 4 });
    expect(sms.text).toBe('Problem: disk  ATH;"x"\nAT+CMGD=1,4    end\r');
    expect(sms.encoding).toBe('gsm7');
    expect(sms.parts).toHaveLength(1);
    expect(sms.parts[0]!.hex).toMatch(/^[0-9A-F]+$/);
    expect(decodeSmsSubmit(sms.parts[0]!.hex).text).toBe(sms.text);
  });

  it('replaces unpaired surrogates with U+FFFD and still produces a valid PDU', () => {
    const sms = encodeSmsSubmit({ to, text: 'a\ud800b\udc00c', reference: 0, maxParts: 1 });
    expect(sms.text).toBe('a\ufffdb\ufffdc');
    expect(decodeSmsSubmit(sms.parts[0]!.hex).text).toBe('a\ufffdb\ufffdc');
  });

  it('rejects an invalid destination, reference or maxParts with a clear error', () => {
    const base = { to, text: 'x', reference: 0, maxParts: 1 };
    expect(() => encodeSmsSubmit({ ...base, to: '+1555;ATH' })).toThrow(/invalid phone number/);
    expect(() => encodeSmsSubmit({ ...base, to: '' })).toThrow(PduError);
    expect(() => encodeSmsSubmit({ ...base, reference: 256 })).toThrow(/reference/);
    expect(() => encodeSmsSubmit({ ...base, reference: -1 })).toThrow(/reference/);
    expect(() => encodeSmsSubmit({ ...base, maxParts: 0 })).toThrow(/maxParts/);
    expect(() => encodeSmsSubmit({ ...base, maxParts: 1.5 })).toThrow(/maxParts/);
    expect(() => encodeSmsSubmit({ ...base, validityMinutes: 0 })).toThrow(/validity/);
    expect(() => encodeSmsSubmit({ ...base, validityMinutes: NaN })).toThrow(/validity/);
    expect(() => encodeSmsSubmit({ ...base, text: undefined as unknown as string })).toThrow(/string/);
  });
});

describe('TP-VP relative (TS 23.040 §9.2.3.12.1)', () => {
  const vpOf = (minutes: number) =>
    encodeSmsSubmit({ to: '12345', text: '', reference: 0, maxParts: 1, validityMinutes: minutes }).parts[0]!.hex.slice(-4, -2);

  it('picks the smallest period at least as long as asked for, in each of the four ranges', () => {
    expect(vpOf(1)).toBe('00'); // 5 minutes
    expect(vpOf(5)).toBe('00');
    expect(vpOf(6)).toBe('01'); // 10 minutes
    expect(vpOf(60)).toBe('0B'); // (11 + 1) × 5
    expect(vpOf(720)).toBe('8F'); // 143: 12 h
    expect(vpOf(721)).toBe('90'); // 144: 12 h 30
    expect(vpOf(1440)).toBe('A7'); // 167: 24 h
    expect(vpOf(1441)).toBe('A8'); // 168: 2 days
    expect(vpOf(30 * 1440)).toBe('C4'); // 196: 30 days
    expect(vpOf(30 * 1440 + 1)).toBe('C5'); // 197: 5 weeks
    expect(vpOf(10_000_000)).toBe('FF'); // capped at 63 weeks
  });

  it('decodes back to the period in minutes', () => {
    for (const [m, back] of [[60, 60], [721, 750], [1441, 2880], [50_000, 50_400]] as const) {
      const hex = encodeSmsSubmit({ to: '12345', text: 'x', reference: 0, maxParts: 1, validityMinutes: m }).parts[0]!.hex;
      expect(decodeSmsSubmit(hex).validityMinutes).toBe(back);
    }
  });
});
