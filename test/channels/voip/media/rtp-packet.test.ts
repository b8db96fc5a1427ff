import { describe, expect, it } from 'vitest';
import { decodeRtp, encodeRtp, RtpParseError, seqDiff, tsDiff, type RtpPacket } from '../../../../src/channels/voip/rtp/packet.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RTP packet codec (RFC 3550 §5.1)', () => {
  it('encodes the minimal header byte for byte', () => {
    const bytes = encodeRtp({ marker: true, payloadType: 0, sequenceNumber: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304, payload: hex('ffffffff') });
    expect(bytes).toEqual(
      hex(
        '80' + //       V=2 (10), P=0, X=0, CC=0000
          '80' + //     M=1, PT=0 (PCMU)
          '1234' + //   sequence number
          'deadbeef' + // timestamp
          '01020304' + // SSRC
          'ffffffff', //  payload (four μ-law silence octets)
      ),
    );
  });

  it('encodes padding, header extension and CSRC list byte for byte', () => {
    const pkt: RtpPacket = {
      marker: false,
      payloadType: 8,
      sequenceNumber: 0xffff,
      timestamp: 1,
      ssrc: 0xcafebabe,
      csrcs: [0x11111111, 0x22222222],
      extension: { profile: 0xbede, data: hex('10aa0000') },
      payload: hex('d5d5'),
      padding: 2,
    };
    const expected = hex(
      'b2' + //        V=2 (10), P=1, X=1, CC=2 (0010)
        '08' + //      M=0, PT=8 (PCMA)
        'ffff' + //    sequence number 65535
        '00000001' + // timestamp
        'cafebabe' + // SSRC
        '11111111' + // CSRC 1
        '22222222' + // CSRC 2
        'bede' + //    extension "defined by profile"
        '0001' + //    extension length: one 32-bit word
        '10aa0000' + // extension data
        'd5d5' + //    payload (two A-law silence octets)
        '00' + //      padding octet
        '02', //       last padding octet holds the padding count (2, itself included)
    );
    const bytes = encodeRtp(pkt);
    expect(bytes).toEqual(expected);
    const back = decodeRtp(bytes);
    expect(back).toEqual({ ...pkt, extension: { profile: 0xbede, data: hex('10aa0000') } });
  });

  it('round-trips random packets', () => {
    for (let i = 0; i < 200; i++) {
      const r = (n: number) => Math.floor(Math.random() * n);
      const pkt: RtpPacket = {
        marker: r(2) === 1,
        payloadType: r(128),
        sequenceNumber: r(0x10000),
        timestamp: r(0x100000000),
        ssrc: r(0x100000000),
        payload: Buffer.from(Array.from({ length: r(200) }, () => r(256))),
      };
      if (r(2)) pkt.csrcs = Array.from({ length: 1 + r(15) }, () => r(0x100000000));
      if (r(2)) pkt.extension = { profile: r(0x10000), data: Buffer.alloc(4 * r(4), 7) };
      if (r(2)) pkt.padding = 1 + r(255);
      expect(decodeRtp(encodeRtp(pkt))).toEqual(pkt);
    }
  });

  it('rejects malformed packets with RtpParseError', () => {
    expect(() => decodeRtp(hex('8000'))).toThrow(RtpParseError); // shorter than 12 octets
    expect(() => decodeRtp(hex('40000001 00000001 00000001'))).toThrow(/version 1/);
    expect(() => decodeRtp(hex('82000001 00000001 00000001 00000002'))).toThrow(/CSRC/); // CC=2, one CSRC present
    expect(() => decodeRtp(hex('90000001 00000001 00000001 bede0002 00000000'))).toThrow(/extension/); // 2 words announced, 1 present
    expect(() => decodeRtp(hex('a0000001 00000001 00000001 ff00'))).toThrow(/padding/); // padding count 0
    expect(() => decodeRtp(hex('a0000001 00000001 00000001 ff09'))).toThrow(/padding/); // count beyond the payload
  });

  it('never throws anything but RtpParseError on random input', () => {
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(Array.from({ length: Math.floor(Math.random() * 40) }, () => Math.floor(Math.random() * 256)));
      try {
        decodeRtp(b);
      } catch (err) {
        expect(err).toBeInstanceOf(RtpParseError);
      }
    }
  });

  it('refuses to encode out-of-range fields', () => {
    const base = { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(0) };
    expect(() => encodeRtp({ ...base, payloadType: 128 })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, sequenceNumber: 0x10000 })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, timestamp: -1 })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, csrcs: new Array(16).fill(1) })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, extension: { profile: 1, data: Buffer.alloc(3) } })).toThrow(RangeError);
  });

  it('computes wrap-aware sequence and timestamp differences', () => {
    expect(seqDiff(0, 0xffff)).toBe(1);
    expect(seqDiff(0xffff, 0)).toBe(-1);
    expect(tsDiff(80, 0xffffffb0)).toBe(160);
    expect(tsDiff(0xffffffb0, 80)).toBe(-160);
  });
});
