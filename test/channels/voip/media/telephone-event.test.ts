import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeRtp } from '../../../../src/channels/voip/rtp/packet.js';
import {
  decodeTelephoneEvent,
  DtmfDetector,
  dtmfDigit,
  dtmfEventCode,
  encodeTelephoneEvent,
  TelephoneEventParseError,
} from '../../../../src/channels/voip/rtp/telephone-event.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RFC 4733 telephone-event payload (§2.3)', () => {
  it('encodes the payload layout byte for byte', () => {
    // event 5, E=1, R=0, volume 10 (-10 dBm0), duration 1760 units (220 ms at 8 kHz)
    expect(encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 1760 })).toEqual(
      hex(
        '05' + //   event code 5 (DTMF "5", §3.2)
          '8a' + // E=1 (0x80), R=0, volume 10 (0x0a)
          '06e0', // duration 1760
      ),
    );
    // "#" = 11, not yet ended, loudest volume 0, first packet duration 160
    expect(encodeTelephoneEvent({ event: 11, end: false, volume: 0, duration: 160 })).toEqual(hex('0b0000a0'));
  });

  it('decodes, ignoring the reserved R bit', () => {
    expect(decodeTelephoneEvent(hex('05ca06e0'))).toEqual({ event: 5, end: true, volume: 10, duration: 1760 });
    expect(decodeTelephoneEvent(hex('0b0000a0'))).toEqual({ event: 11, end: false, volume: 0, duration: 160 });
    expect(() => decodeTelephoneEvent(hex('0500'))).toThrow(TelephoneEventParseError);
  });

  it('round-trips every DTMF event', () => {
    for (let ev = 0; ev < 16; ev++) {
      for (const end of [false, true]) {
        const e = { event: ev, end, volume: ev * 3, duration: ev * 1000 };
        expect(decodeTelephoneEvent(encodeTelephoneEvent(e))).toEqual(e);
      }
    }
    expect(() => encodeTelephoneEvent({ event: 1, end: false, volume: 64, duration: 0 })).toThrow(RangeError);
    expect(() => encodeTelephoneEvent({ event: 1, end: false, volume: 0, duration: 0x10000 })).toThrow(RangeError);
  });

  it('maps event codes to keys (§3.2 table)', () => {
    expect([...Array(16).keys()].map((e) => dtmfDigit(e)).join('')).toBe('0123456789*#ABCD');
    expect(dtmfDigit(16)).toBeUndefined(); // flash
    expect(dtmfEventCode('#')).toBe(11);
    expect(dtmfEventCode('d')).toBe(15);
    expect(() => dtmfEventCode('x')).toThrow(/DTMF/);
  });
});

describe('DtmfDetector (§2.5 sender rules → one press)', () => {
  const ev = (event: number, end: boolean, duration: number) => ({ event, end, volume: 10, duration });

  it('reports a press once across updates and the three retransmitted end packets', () => {
    const d = new DtmfDetector();
    const out = [
      d.push(1, 8000, true, ev(1, false, 160)),
      d.push(1, 8000, false, ev(1, false, 320)),
      d.push(1, 8000, false, ev(1, false, 480)),
      d.push(1, 8000, false, ev(1, true, 640)),
      d.push(1, 8000, false, ev(1, true, 640)),
      d.push(1, 8000, false, ev(1, true, 640)),
    ];
    expect(out.filter((x) => x !== undefined)).toEqual(['1']);
  });

  it('reports a press whose first packets were lost (only end packets arrive)', () => {
    const d = new DtmfDetector();
    expect(d.push(1, 100, false, ev(9, true, 800))).toBe('9');
    expect(d.push(1, 100, false, ev(9, true, 800))).toBeUndefined();
  });

  it('reports the same key pressed twice (different start timestamps) twice', () => {
    const d = new DtmfDetector();
    const keys = [d.push(1, 1000, true, ev(2, false, 160)), d.push(1, 1000, false, ev(2, true, 800)), d.push(1, 5000, true, ev(2, false, 160)), d.push(1, 5000, false, ev(2, true, 800))];
    expect(keys.filter(Boolean)).toEqual(['2', '2']);
  });

  it('does not report the later segments of a long event again (§2.5.1.5)', () => {
    const d = new DtmfDetector();
    expect(d.push(1, 1000, true, ev(0, false, 0xffff))).toBe('0');
    // next segment: new timestamp (start + 65535), no marker, same event, not ended
    expect(d.push(1, 1000 + 0xffff, false, ev(0, false, 800))).toBeUndefined();
    expect(d.push(1, 1000 + 0xffff, false, ev(0, true, 1600))).toBeUndefined();
  });

  it('ignores non-DTMF events', () => {
    expect(new DtmfDetector().push(1, 1, true, ev(16, true, 800))).toBeUndefined();
  });

  it('turns the RFC 2833 capture shipped with sipp (an independent sender) into exactly one "1"', () => {
    // libpcap file: 24-octet global header, then per packet a 16-octet record header and an
    // Ethernet (14) + IPv4 (IHL·4) + UDP (8) frame whose payload is an RTP packet.
    const pcap = readFileSync('/usr/share/sip-tester/dtmf_2833_1.pcap');
    expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4); // little-endian pcap magic
    const payloads: Buffer[] = [];
    for (let o = 24; o + 16 <= pcap.length; ) {
      const incl = pcap.readUInt32LE(o + 8);
      const frame = pcap.subarray(o + 16, o + 16 + incl);
      o += 16 + incl;
      const ihl = (frame[14]! & 0x0f) * 4;
      payloads.push(frame.subarray(14 + ihl + 8));
    }
    expect(payloads.length).toBeGreaterThan(3);
    const d = new DtmfDetector();
    const keys: string[] = [];
    const packets = payloads.map((p) => decodeRtp(p));
    for (const p of packets) {
      expect(p.payloadType).toBe(101);
      const k = d.push(p.ssrc, p.timestamp, p.marker, decodeTelephoneEvent(p.payload));
      if (k) keys.push(k);
    }
    expect(keys).toEqual(['1']);
    expect(packets[0]!.marker).toBe(true);
    // the capture ends with the end packet sent three times
    expect(packets.slice(-3).map((p) => decodeTelephoneEvent(p.payload).end)).toEqual([true, true, true]);
  });
});
