import { describe, expect, it } from 'vitest';
import {
  decodeRtcpCompound,
  encodeBye,
  encodeCompound,
  encodeReceiverReport,
  encodeSdes,
  encodeSenderReport,
  ntpFromUnixMs,
  ntpMiddle32,
  ntpToUnixMs,
  RtcpParseError,
} from '../../../../src/channels/voip/rtp/rtcp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('NTP timestamps (RFC 3550 §4)', () => {
  it('converts the Unix epoch and fractions', () => {
    // 1970-01-01 is 2208988800 s = 0x83AA7E80 after the NTP epoch
    expect(ntpFromUnixMs(0)).toEqual({ seconds: 0x83aa7e80, fraction: 0 });
    // half a second is 2^31 in units of 2^-32 s
    expect(ntpFromUnixMs(1500)).toEqual({ seconds: 0x83aa7e81, fraction: 0x80000000 });
    expect(ntpFromUnixMs(250)).toEqual({ seconds: 0x83aa7e80, fraction: 0x40000000 });
    // the middle 32 bits: low 16 bits of seconds, high 16 bits of the fraction
    expect(ntpMiddle32({ seconds: 0x83aa7e81, fraction: 0x80000000 })).toBe(0x7e818000);
    const now = 1767225600123.456;
    expect(Math.abs(ntpToUnixMs(ntpFromUnixMs(now)) - now)).toBeLessThan(0.001);
  });
});

describe('RTCP codec (RFC 3550 §6.4–6.6)', () => {
  const srBytes = hex(
    '80' + //        V=2, P=0, RC=0
      'c8' + //      PT=200 SR
      '0006' + //    length: 7 words - 1
      '01020304' + // SSRC of sender
      '83aa7e81' + // NTP timestamp, seconds
      '80000000' + // NTP timestamp, fraction
      '00001000' + // RTP timestamp
      '00000064' + // sender's packet count: 100
      '00003e80', // sender's octet count: 16000
  );

  it('encodes a sender report byte for byte', () => {
    const b = encodeSenderReport({ ssrc: 0x01020304, ntp: { seconds: 0x83aa7e81, fraction: 0x80000000 }, rtpTimestamp: 0x1000, packetCount: 100, octetCount: 16000, reports: [] });
    expect(b).toEqual(srBytes);
  });

  it('encodes a report block byte for byte', () => {
    const b = encodeReceiverReport({
      ssrc: 0x0a0b0c0d,
      reports: [{ ssrc: 0x01020304, fractionLost: 51, cumulativeLost: -2, highestSeq: 0x00010002, jitter: 12, lsr: 0x7e818000, dlsr: 0x00018000 }],
    });
    expect(b).toEqual(
      hex(
        '81' + //        V=2, P=0, RC=1
          'c9' + //      PT=201 RR
          '0007' + //    length: 8 words - 1
          '0a0b0c0d' + // SSRC of packet sender
          '01020304' + // SSRC_1 (source this block reports on)
          '33' + //      fraction lost 51/256
          'fffffe' + //  cumulative lost -2 (signed 24 bit: duplicates exceeded losses)
          '00010002' + // extended highest sequence number: 1 cycle, seq 2
          '0000000c' + // interarrival jitter 12
          '7e818000' + // LSR
          '00018000', // DLSR 1.5 s in 1/65536 s
      ),
    );
    const [rr] = decodeRtcpCompound(b);
    expect(rr).toEqual({ type: 'RR', ssrc: 0x0a0b0c0d, reports: [{ ssrc: 0x01020304, fractionLost: 51, cumulativeLost: -2, highestSeq: 0x10002, jitter: 12, lsr: 0x7e818000, dlsr: 0x18000 }] });
  });

  it('encodes SDES CNAME with the null terminator and padding to 32 bits', () => {
    expect(encodeSdes([{ ssrc: 0x01020304, items: [{ type: 1, value: 'abc' }] }])).toEqual(
      hex(
        '81' + //        V=2, P=0, SC=1
          'ca' + //      PT=202 SDES
          '0003' + //    length: 4 words - 1
          '01020304' + // SSRC/CSRC_1
          '01' + //      CNAME=1
          '03' + //      length 3
          '616263' + //  "abc"
          '000000', //   null item ends the list, padded to a word boundary
      ),
    );
    // "ab" ends exactly on a word boundary: a whole word of nulls must follow
    expect(encodeSdes([{ ssrc: 1, items: [{ type: 1, value: 'ab' }] }])).toEqual(hex('81ca0003 00000001 01026162 00000000'));
  });

  it('encodes BYE with a reason byte for byte', () => {
    expect(encodeBye([0x01020304], 'bye')).toEqual(
      hex(
        '81' + //        V=2, P=0, SC=1
          'cb' + //      PT=203 BYE
          '0002' + //    length: 3 words - 1
          '01020304' + // SSRC
          '03' + //      reason length
          '627965', //   "bye" (fills the word exactly)
      ),
    );
    expect(encodeBye([7])).toEqual(hex('81cb0001 00000007'));
  });

  it('round-trips a compound SR + SDES + BYE', () => {
    const compound = encodeCompound([
      encodeSenderReport({ ssrc: 9, ntp: ntpFromUnixMs(1_700_000_000_000), rtpTimestamp: 123456, packetCount: 250, octetCount: 40000, reports: [{ ssrc: 5, fractionLost: 0, cumulativeLost: 3, highestSeq: 1000, jitter: 7, lsr: 0, dlsr: 0 }] }),
      encodeSdes([{ ssrc: 9, items: [{ type: 1, value: 'alertline-0011223344556677' }] }]),
      encodeBye([9], 'call ended'),
    ]);
    const p = decodeRtcpCompound(compound);
    expect(p.map((x) => x.type)).toEqual(['SR', 'SDES', 'BYE']);
    expect(p[0]).toMatchObject({ ssrc: 9, rtpTimestamp: 123456, packetCount: 250, octetCount: 40000, reports: [{ ssrc: 5, cumulativeLost: 3, highestSeq: 1000, jitter: 7 }] });
    expect(p[1]).toEqual({ type: 'SDES', chunks: [{ ssrc: 9, items: [{ type: 1, value: 'alertline-0011223344556677' }] }] });
    expect(p[2]).toEqual({ type: 'BYE', ssrcs: [9], reason: 'call ended' });
  });

  it('decodes the SR vector and passes unknown packet types through', () => {
    const [sr] = decodeRtcpCompound(srBytes);
    expect(sr).toEqual({ type: 'SR', ssrc: 0x01020304, ntp: { seconds: 0x83aa7e81, fraction: 0x80000000 }, rtpTimestamp: 0x1000, packetCount: 100, octetCount: 16000, reports: [] });
    const withApp = Buffer.concat([srBytes, hex('80cc0002 00000001 41424344')]); // APP "ABCD"
    expect(decodeRtcpCompound(withApp)[1]).toMatchObject({ type: 'other', packetType: 204 });
  });

  it('rejects invalid compound packets (Appendix A.2 checks)', () => {
    expect(() => decodeRtcpCompound(hex('80c8'))).toThrow(RtcpParseError);
    expect(() => decodeRtcpCompound(hex('40c80000'))).toThrow(/version/);
    expect(() => decodeRtcpCompound(hex('81ca0003 01020304 01036162 63000000'))).toThrow(/SR\/RR/); // starts with SDES
    expect(() => decodeRtcpCompound(hex('80c80009 00000000'))).toThrow(/past the end/);
    expect(() => decodeRtcpCompound(hex('81c80006 00000000 00000000 00000000 00000000 00000000 00000000'))).toThrow(/report count/);
    expect(() => decodeRtcpCompound(Buffer.concat([hex('a0c90001 00000001'), hex('80c90001 00000002')]))).toThrow(/padding/);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(Array.from({ length: 4 * Math.floor(Math.random() * 12) }, () => Math.floor(Math.random() * 256)));
      b[0] = 0x80 | (b[0]! & 0x3f);
      if (b.length) b[1] = 200 + (b[1]! % 2);
      try {
        decodeRtcpCompound(b);
      } catch (err) {
        expect(err).toBeInstanceOf(RtcpParseError);
      }
    }
  });
});
