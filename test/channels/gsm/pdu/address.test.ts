import { describe, expect, it } from 'vitest';
import { normalizePhone, PduError } from '../../../../src/channels/gsm/pdu/index.js';
import {
  decodeAddress,
  decodeSmscPart,
  encodeAddress,
  encodeAlphanumericAddress,
  encodeSmscPart,
} from '../../../../src/channels/gsm/pdu/address.js';
import { OctetReader, parseHex, toHex } from '../../../../src/channels/gsm/pdu/hex.js';

describe('normalizePhone', () => {
  it('accepts E.164 and national digits, removing spaces, hyphens, dots and parentheses', () => {
    expect(normalizePhone('+46708251358')).toBe('+46708251358');
    expect(normalizePhone('+1 (555) 010-9999')).toBe('+15550109999');
    expect(normalizePhone('0171.234 5678')).toBe('01712345678');
    expect(normalizePhone('112')).toBe('112');
    expect(normalizePhone('+123456789012345')).toBe('+123456789012345');
  });

  it('rejects injection, misplaced "+", letters and wrong lengths with a clear message', () => {
    const bad: Array<[string, RegExp]> = [
      ['+123;ATH', /only digits/],
      ['+12\u001a345', /only digits/],
      ['123\r\nATD999', /only digits/],
      ['12+345', /"\+" may only come first/],
      ['++12345', /"\+" may only come first/],
      ['+12', /3 to 15 digits/],
      ['+1234567890123456', /3 to 15 digits/],
      ['', /3 to 15 digits/],
      ['*100#', /only digits/],
      ['one two three', /only digits/],
      ['1'.repeat(1000), /too long/],
    ];
    for (const [input, why] of bad) {
      expect(() => normalizePhone(input), input).toThrow(PduError);
      expect(() => normalizePhone(input), input).toThrow(why);
    }
    expect(() => normalizePhone(42 as unknown as string)).toThrow(/must be a string/);
  });
});

describe('address fields (TS 23.040 §9.1.2.5)', () => {
  it('writes international numbers as 0x91 with swapped semi-octets and F padding', () => {
    // The destination of the classic SMS-SUBMIT example: 0B 91 6407281553F8 = +46708251358.
    expect(toHex(encodeAddress('+46708251358'))).toBe('0B916407281553F8');
  });

  it('writes national numbers as 0x81; even digit counts need no filler', () => {
    // "12345": 5 useful semi-octets; 1,2 → 0x21; 3,4 → 0x43; 5,F → 0xF5.
    expect(toHex(encodeAddress('12345'))).toBe('05812143F5');
    expect(toHex(encodeAddress('0612345678'))).toBe('0A816021436587');
  });

  it('reads numbers back, "+" for TON international, digits for others', () => {
    for (const n of ['+46708251358', '12345', '0612345678', '+441234567890']) {
      expect(decodeAddress(new OctetReader(Uint8Array.from(encodeAddress(n))), 'TP-DA')).toBe(n);
    }
    // TON 4 / NPI 8 (0xC8), as in the classic SMS-DELIVER example.
    expect(decodeAddress(new OctetReader(parseHex('0BC87238880900F1')), 'TP-OA')).toBe('27838890001');
    // * and # are semi-octets A and B.
    expect(decodeAddress(new OctetReader(parseHex('04811A2B')), 'TP-OA')).toBe('*1#2');
  });

  it('writes and reads alphanumeric senders (TON 5, packed 7-bit)', () => {
    // "ABC": septets 41 42 43 → octets 41, (42>>1)|(43<<6 & FF) = 21|C0 = E1, 43>>2 = 10;
    // 21 bits occupy 6 semi-octets.
    expect(toHex(encodeAlphanumericAddress('ABC'))).toBe('06D041E110');
    for (const name of ['ABC', 'Alertline', 'Bank€', 'ELEVENCHARS']) {
      expect(decodeAddress(new OctetReader(Uint8Array.from(encodeAlphanumericAddress(name))), 'TP-OA')).toBe(name);
    }
    expect(() => encodeAlphanumericAddress('TWELVE CHARS')).toThrow(/longer than 11/);
  });

  it('writes and reads the SMSC part, octet-counted, "00" when absent', () => {
    expect(toHex(encodeSmscPart())).toBe('00');
    // The classic example's SMSC: 07 91 7283010010F5 = +27381000015.
    expect(toHex(encodeSmscPart('+27381000015'))).toBe('07917283010010F5');
    expect(decodeSmscPart(new OctetReader(parseHex('07917283010010F5')))).toBe('+27381000015');
    expect(decodeSmscPart(new OctetReader(parseHex('00')))).toBeUndefined();
  });

  it('rejects malformed addresses', () => {
    expect(() => decodeAddress(new OctetReader(parseHex('0581214')), 'TP-OA')).toThrow(PduError);
    expect(() => decodeAddress(new OctetReader(parseHex('05812143')), 'TP-OA')).toThrow(/truncated/);
    expect(() => decodeAddress(new OctetReader(parseHex('058121F3F5')), 'TP-OA')).toThrow(/filler nibble/);
    expect(() => decodeAddress(new OctetReader(parseHex('0581214355')), 'TP-OA')).toThrow(/not padded with F/);
    expect(() => decodeAddress(new OctetReader(parseHex('FF81')), 'TP-OA')).toThrow(/exceeds the maximum/);
  });
});
