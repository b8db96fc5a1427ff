import { describe, expect, it } from 'vitest';
import { gsm7Septets, isGsm7Text, septetsToText, textToSeptets } from '../../../../src/channels/gsm/pdu/gsm7-alphabet.js';
import { packSeptets, unpackSeptets } from '../../../../src/channels/gsm/pdu/septet-packing.js';
import { toHex, parseHex } from '../../../../src/channels/gsm/pdu/hex.js';
import { decodeUcs2, encodeUcs2 } from '../../../../src/channels/gsm/pdu/ucs2.js';

describe('GSM 7-bit packing (TS 23.038 §6.1.2.1.1)', () => {
  it('packs the 23.038 "hellohello" example to E8 32 9B FD 46 97 D9 EC 37', () => {
    expect(toHex(packSeptets(textToSeptets('hellohello')))).toBe('E8329BFD4697D9EC37');
  });

  it('packs the widely published "How are you?" example to C8F71D14969741F977FD07', () => {
    expect(toHex(packSeptets(textToSeptets('How are you?')))).toBe('C8F71D14969741F977FD07');
  });

  it('unpacks both examples back to their text', () => {
    expect(septetsToText(unpackSeptets(parseHex('E8329BFD4697D9EC37'), 10))).toBe('hellohello');
    expect(septetsToText(unpackSeptets(parseHex('C8F71D14969741F977FD07'), 12))).toBe('How are you?');
  });

  it('8 septets fill exactly 7 octets; 7 septets leave 7 zero bits that UDL excludes (no stray "@")', () => {
    // "aaaaaaaa": 8 × 0x61. Bits laid LSB first: octet k = (s_k >> k) | (s_{k+1} << (7-k)).
    // 0x61>>0 | 0x61<<7 = 0xE1; then 0x61>>1|0x61<<6 = 0x70; 0x61>>2|0x61<<5 = 0x38; 0x61>>3|0x61<<4 = 0x1C;
    // 0x61>>4|0x61<<3 = 0x0E; 0x61>>5|0x61<<2 = 0x87; 0x61>>6|0x61<<1 = 0xC3 (all & 0xFF).
    expect(toHex(packSeptets(textToSeptets('aaaaaaaa')))).toBe('E170381C0E87C3');
    // Seven septets: the seventh octet holds only 0x61 >> 6 = 0x01; its 7 high bits are spare zeros.
    const seven = packSeptets(textToSeptets('aaaaaaa'));
    expect(toHex(seven)).toBe('E170381C0E8701');
    expect(septetsToText(unpackSeptets(seven, 7))).toBe('aaaaaaa');
  });

  it('shifts the text by fill bits so it starts on a septet boundary after a UDH', () => {
    // One fill bit: 'h' (0x68) occupies bits 1..7 of the first octet → 0x68 << 1 = 0xD0;
    // 'i' (0x69) occupies bits 0..6 of the second octet → 0x69.
    expect(toHex(packSeptets(textToSeptets('hi'), 1))).toBe('D069');
    expect(septetsToText(unpackSeptets(parseHex('D069'), 2, 1))).toBe('hi');
    for (let fill = 0; fill <= 6; fill++) {
      const text = 'The quick brown fox @ 12:00 £5 Ä';
      expect(septetsToText(unpackSeptets(packSeptets(textToSeptets(text), fill), textToSeptets(text).length, fill))).toBe(text);
    }
  });
});

describe('GSM 7-bit alphabet (TS 23.038 §6.2.1)', () => {
  it('maps the characters that differ from ASCII to their table positions', () => {
    const cases: Array<[string, number]> = [
      ['@', 0x00], ['£', 0x01], ['$', 0x02], ['¥', 0x03], ['è', 0x04], ['Ç', 0x09], ['\n', 0x0a], ['\r', 0x0d],
      ['Δ', 0x10], ['_', 0x11], ['Ξ', 0x1a], ['É', 0x1f], ['¤', 0x24], ['¡', 0x40], ['Ä', 0x5b], ['§', 0x5f],
      ['¿', 0x60], ['ä', 0x7b], ['à', 0x7f],
    ];
    for (const [ch, code] of cases) expect(gsm7Septets(ch), ch).toEqual([code]);
  });

  it('puts extension characters behind ESC 0x1B with their 23.038 codes', () => {
    const cases: Array<[string, number]> = [
      ['\f', 0x0a], ['^', 0x14], ['{', 0x28], ['}', 0x29], ['\\', 0x2f], ['[', 0x3c], ['~', 0x3d], [']', 0x3e],
      ['|', 0x40], ['€', 0x65],
    ];
    for (const [ch, code] of cases) expect(gsm7Septets(ch), ch).toEqual([0x1b, code]);
    expect(septetsToText(textToSeptets('€[]{}~\\^|\f'))).toBe('€[]{}~\\^|\f');
  });

  it('reports characters outside both tables as not GSM 7-bit', () => {
    for (const ch of ['`', 'ç', 'Ж', '日', '😀', '\u2019', '\t', '\u001a', '\u001b']) {
      expect(gsm7Septets(ch), ch).toBeNull();
    }
    expect(isGsm7Text('Disk 95% full on db-01 (€12) [crit]')).toBe(true);
    expect(isGsm7Text('naïve')).toBe(false);
  });

  it('decodes unknown escapes as the default character, ESC ESC and a trailing ESC as a space', () => {
    expect(septetsToText([0x1b, 0x41])).toBe('A');
    expect(septetsToText([0x41, 0x1b, 0x1b, 0x42])).toBe('A B');
    expect(septetsToText([0x41, 0x1b])).toBe('A ');
  });
});

describe('UCS-2 (TS 23.038 §6.2.3)', () => {
  it('writes big-endian units and surrogate pairs beyond the BMP', () => {
    expect(toHex(encodeUcs2('日本'))).toBe('65E5672C');
    // U+1F600: 0x1F600 − 0x10000 = 0xF600 → high 0xD800 + (0xF600 >> 10 = 0x3D), low 0xDC00 + 0x200.
    expect(toHex(encodeUcs2('😀'))).toBe('D83DDE00');
    expect(decodeUcs2(parseHex('D83DDE000041'))).toBe('😀A');
  });

  it('rejects odd-length UCS-2 data', () => {
    expect(() => decodeUcs2(parseHex('004100'))).toThrow(/odd number of octets/);
  });
});
