import { describe, expect, it } from 'vitest';
import { alawDecode, alawEncode, g711Decode, g711Encode, PCMA_SILENCE, PCMU_SILENCE, ulawDecode, ulawEncode } from '../../src/audio/g711.js';

/*
 * ITU-T G.711 Table 2a (µ-law) and Table 1a (A-law), segment edges. Values are in the units of the
 * tables (µ-law: 0..8159, A-law: 0..4096); a 16-bit sample is the µ-law unit * 4, the A-law unit * 8.
 * Each row: segment, first and last decoder output of the segment, and the decision value at
 * which the segment starts.
 */
const ULAW_SEGMENTS = [
  { seg: 0, first: 0, last: 30, starts: 0 },
  { seg: 1, first: 33, last: 93, starts: 31 },
  { seg: 2, first: 99, last: 219, starts: 95 },
  { seg: 3, first: 231, last: 471, starts: 223 },
  { seg: 4, first: 495, last: 975, starts: 479 },
  { seg: 5, first: 1023, last: 1983, starts: 991 },
  { seg: 6, first: 2079, last: 3999, starts: 2015 },
  { seg: 7, first: 4191, last: 8031, starts: 4063 },
];
const ALAW_SEGMENTS = [
  { seg: 0, first: 1, last: 31, starts: 0 },
  { seg: 1, first: 33, last: 63, starts: 32 },
  { seg: 2, first: 66, last: 126, starts: 64 },
  { seg: 3, first: 132, last: 252, starts: 128 },
  { seg: 4, first: 264, last: 504, starts: 256 },
  { seg: 5, first: 528, last: 1008, starts: 512 },
  { seg: 6, first: 1056, last: 2016, starts: 1024 },
  { seg: 7, first: 2112, last: 4032, starts: 2048 },
];
// Transmitted characters: bit 8 is the sign (1 = positive), then 3 segment bits and 4 step bits;
// µ-law inverts the 7 magnitude bits, A-law inverts the even bits (XOR 0x55).
const ulawByte = (positive: boolean, seg: number, step: number) => (positive ? 0x80 : 0) | (~((seg << 4) | step) & 0x7f);
const alawByte = (positive: boolean, seg: number, step: number) => ((positive ? 0x80 : 0) | (seg << 4) | step) ^ 0x55;

describe('G.711 µ-law', () => {
  it('decodes the first and last code of every segment to the table values', () => {
    for (const s of ULAW_SEGMENTS) {
      expect(ulawDecode(ulawByte(true, s.seg, 0))).toBe(s.first * 4);
      expect(ulawDecode(ulawByte(true, s.seg, 15))).toBe(s.last * 4);
      expect(ulawDecode(ulawByte(false, s.seg, 0))).toBe(0 - s.first * 4);
      expect(ulawDecode(ulawByte(false, s.seg, 15))).toBe(0 - s.last * 4);
    }
  });

  it('switches segment exactly at the decision values', () => {
    for (const s of ULAW_SEGMENTS.slice(1)) {
      expect(ulawEncode(s.starts * 4)).toBe(ulawByte(true, s.seg, 0));
      expect(ulawEncode(s.starts * 4 - 1)).toBe(ulawByte(true, s.seg - 1, 15));
      expect(ulawEncode(-s.starts * 4)).toBe(ulawByte(false, s.seg, 0));
      expect(ulawEncode(-(s.starts * 4 - 1))).toBe(ulawByte(false, s.seg - 1, 15));
    }
    expect(ulawEncode(4)).toBe(ulawByte(true, 0, 1)); // decision value 1 starts the second step
    expect(ulawEncode(3)).toBe(ulawByte(true, 0, 0));
  });

  it('uses 0xFF for silence and saturates at full scale', () => {
    expect(PCMU_SILENCE).toBe(0xff);
    expect(ulawEncode(0)).toBe(0xff);
    expect(ulawEncode(32767)).toBe(0x80);
    expect(ulawEncode(-32768)).toBe(0x00);
    expect(ulawDecode(0x7f)).toBe(0); // negative zero
  });

  it('round-trips every code through decode and encode', () => {
    for (let b = 0; b < 256; b++) {
      const v = ulawDecode(b);
      expect(ulawDecode(ulawEncode(v))).toBe(v);
      if (b !== 0x7f) expect(ulawEncode(v)).toBe(b);
    }
  });
});

describe('G.711 A-law', () => {
  it('decodes the first and last code of every segment to the table values', () => {
    for (const s of ALAW_SEGMENTS) {
      expect(alawDecode(alawByte(true, s.seg, 0))).toBe(s.first * 8);
      expect(alawDecode(alawByte(true, s.seg, 15))).toBe(s.last * 8);
      expect(alawDecode(alawByte(false, s.seg, 0))).toBe(-s.first * 8);
      expect(alawDecode(alawByte(false, s.seg, 15))).toBe(-s.last * 8);
    }
  });

  it('switches segment exactly at the decision values', () => {
    for (const s of ALAW_SEGMENTS.slice(1)) {
      expect(alawEncode(s.starts * 8)).toBe(alawByte(true, s.seg, 0));
      expect(alawEncode(s.starts * 8 - 1)).toBe(alawByte(true, s.seg - 1, 15));
      expect(alawEncode(-s.starts * 8)).toBe(alawByte(false, s.seg, 0));
    }
  });

  it('uses 0xD5 for silence, 0xAA / 0x2A at full scale', () => {
    expect(PCMA_SILENCE).toBe(0xd5);
    expect(alawEncode(0)).toBe(0xd5);
    expect(alawEncode(32767)).toBe(0xaa);
    expect(alawEncode(-32768)).toBe(0x2a);
  });

  it('round-trips every code through decode and encode', () => {
    for (let b = 0; b < 256; b++) expect(alawEncode(alawDecode(b))).toBe(b);
  });
});

describe('G.711 buffers', () => {
  it('encodes and decodes arrays in both codecs', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768]);
    expect([...g711Encode(pcm, 'PCMU')]).toEqual([...pcm].map(ulawEncode));
    expect([...g711Encode(pcm, 'PCMA')]).toEqual([...pcm].map(alawEncode));
    const bytes = Uint8Array.from([0x00, 0x55, 0x80, 0xd5, 0xff]);
    expect([...g711Decode(bytes, 'PCMA')]).toEqual([...bytes].map(alawDecode));
    expect([...g711Decode(bytes, 'PCMU')]).toEqual([...bytes].map(ulawDecode));
  });
});
