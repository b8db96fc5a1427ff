import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RtpSession } from '../../../../src/channels/voip/rtp/session.js';
import { decodeRtp, encodeRtp, type RtpPacket } from '../../../../src/channels/voip/rtp/packet.js';
import { decodeRtcpCompound, type SenderReport, type SourceDescription, type Bye } from '../../../../src/channels/voip/rtp/rtcp.js';
import { encodeTelephoneEvent } from '../../../../src/channels/voip/rtp/telephone-event.js';
import { memoryLogger, silentLogger } from '../../../../src/util/log.js';
import { buildWorker, portRange, Receiver, sleep } from './helpers.js';

let worker: { script: string; cleanup: () => void };
beforeAll(() => {
  worker = buildWorker();
});
afterAll(() => worker.cleanup());

const open: (RtpSession | Receiver)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function setup(pacer: 'main' | 'worker', codec: 'PCMU' | 'PCMA' = 'PCMU', extra: { rtcpIntervalMs?: number } = {}) {
  const rtp = await Receiver.open();
  const rtcp = await Receiver.open();
  open.push(rtp, rtcp);
  const session = await RtpSession.open({
    portRange: portRange(),
    localAddress: '127.0.0.1',
    logger: silentLogger,
    pacer,
    workerScript: worker.script,
    ...extra,
  });
  open.unshift(session); // closed before the receivers
  session.setRemote({ address: '127.0.0.1', port: rtp.port, rtcpPort: rtcp.port, codec, payloadType: codec === 'PCMU' ? 0 : 8, telephoneEventPt: 101 });
  return { session, rtp, rtcp };
}

/** Distinct recognisable frames: frame i is filled with byte (i % 200) + 1. */
function frames(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(160, (i % 200) + 1));
}

function rtpPackets(r: Receiver): (RtpPacket & { at: number })[] {
  return r.packets.map((p) => ({ ...decodeRtp(p.data), at: p.at }));
}

for (const pacer of ['main', 'worker'] as const) {
  describe(`RtpSession (${pacer} pacer)`, () => {
    it('binds an even RTP port and the odd port after it', async () => {
      const { session } = await setup(pacer);
      expect(session.pacer).toBe(pacer);
      expect(session.localPort % 2).toBe(0);
    });

    it('sends 50 packets per second with continuous sequence and timestamp, from its advertised port', async () => {
      const { session, rtp } = await setup(pacer);
      const t0 = performance.now();
      const result = await session.play(frames(100));
      const elapsed = performance.now() - t0;
      expect(result).toBe('done');
      await rtp.waitFor(100);
      const pkts = rtpPackets(rtp);
      expect(pkts).toHaveLength(100);
      // 100 frames of 20 ms take about 2 s of wall time: paced, not burst out at once
      expect(elapsed).toBeGreaterThan(1900);
      // 99 intervals of 20 ms at the receiver: 50 packets/s (bounds allow for a stall of this
      // shared machine: a late first packet shortens the span, a long stall lengthens it)
      const span = pkts[99]!.at - pkts[0]!.at;
      expect(span).toBeGreaterThan(1900);
      expect(span).toBeLessThan(3000);
      for (let i = 1; i < pkts.length; i++) {
        expect(pkts[i]!.sequenceNumber).toBe((pkts[i - 1]!.sequenceNumber + 1) & 0xffff);
        const dts = (pkts[i]!.timestamp - pkts[i - 1]!.timestamp) >>> 0;
        // 160 per packet; a larger multiple only where a stall made the pacer skip, flagged by M
        if (dts !== 160) {
          expect(dts % 160).toBe(0);
          expect(pkts[i]!.marker).toBe(true);
        }
      }
      expect(new Set(pkts.map((p) => p.ssrc)).size).toBe(1);
      expect(pkts.every((p) => p.payloadType === 0)).toBe(true);
      // the payload is the frames in order
      pkts.forEach((p, i) => expect(p.payload.equals(Buffer.alloc(160, (i % 200) + 1))).toBe(true));
      // symmetric RTP: the source port is the one we advertise
      expect(rtp.packets.every((p) => p.from.port === session.localPort)).toBe(true);
      expect(session.stats()).toMatchObject({ packetsSent: 100, octetsSent: 16000 });
    });

    it('sets the marker only on the first packet of each play() and keeps numbering across talkspurts and silence', async () => {
      const { session, rtp } = await setup(pacer, 'PCMA');
      await session.play(frames(5));
      await session.playSilence(100); // 5 frames of 0xD5
      await session.play(frames(3));
      await rtp.waitFor(13);
      const pkts = rtpPackets(rtp);
      expect(pkts).toHaveLength(13);
      const markers = pkts.map((p, i) => (p.marker ? i : -1)).filter((i) => i >= 0);
      const gaps = pkts.map((p, i) => (i > 0 && ((p.timestamp - pkts[i - 1]!.timestamp) >>> 0) !== 160 ? i : -1)).filter((i) => i >= 0);
      // talkspurt starts at 0 and 10; any other marker must sit on a timestamp gap after a stall
      // talkspurts start at packets 0 and 10; any other marker may only sit where a stall of this
      // shared machine made the pacer skip slots (a timestamp gap)
      expect(markers).toContain(0);
      expect(markers).toContain(10);
      expect(markers.filter((i) => i !== 0 && i !== 10 && !gaps.includes(i))).toEqual([]);
      expect(gaps.filter((i) => !markers.includes(i))).toEqual([]);
      for (let i = 1; i < 13; i++) expect(pkts[i]!.sequenceNumber).toBe((pkts[i - 1]!.sequenceNumber + 1) & 0xffff);
      expect(pkts.every((p) => p.payloadType === 8)).toBe(true);
      for (let i = 5; i < 10; i++) expect(pkts[i]!.payload.equals(Buffer.alloc(160, 0xd5))).toBe(true);
    });

    it('sends PCMU silence as 0xFF', async () => {
      const { session, rtp } = await setup(pacer, 'PCMU');
      expect(await session.playSilence(60)).toBe('done');
      await rtp.waitFor(3);
      const pkts = rtpPackets(rtp);
      expect(pkts).toHaveLength(3);
      for (const p of pkts) {
        expect(p.payload.equals(Buffer.alloc(160, 0xff))).toBe(true);
        expect(p.marker).toBe(false);
      }
    });

    it('stops promptly when the signal aborts, and resolves aborted', async () => {
      const { session, rtp } = await setup(pacer);
      const ac = new AbortController();
      const p = session.play(frames(500), ac.signal);
      await rtp.waitFor(5);
      ac.abort();
      expect(await p).toBe('aborted');
      await sleep(200);
      const n = rtp.packets.length;
      expect(n).toBeLessThan(100);
      await sleep(200);
      expect(rtp.packets.length).toBe(n); // nothing more after the abort
      // a play() with an already aborted signal sends nothing
      expect(await session.play(frames(5), ac.signal)).toBe('aborted');
    });

    it('reports one dtmf event per key press from RFC 4733 packets, ignoring retransmitted end packets', async () => {
      const { session } = await setup(pacer);
      const peer = await Receiver.open();
      open.push(peer);
      const digits: string[] = [];
      session.on('dtmf', (d) => digits.push(d));
      const send = (seq: number, ts: number, marker: boolean, event: number, end: boolean, duration: number, pt = 101) =>
        peer.send(encodeRtp({ marker, payloadType: pt, sequenceNumber: seq, timestamp: ts, ssrc: 0x1234, payload: encodeTelephoneEvent({ event, end, volume: 10, duration }) }), session.localPort);
      // key "1": start (M), two updates, end sent three times — all with the event's start timestamp
      await send(1, 8000, true, 1, false, 160);
      await send(2, 8000, false, 1, false, 320);
      await send(3, 8000, false, 1, false, 480);
      for (let i = 0; i < 3; i++) await send(4 + i, 8000, false, 1, true, 640);
      // key "#" on a different PT that the answer also mapped to telephone-event (96 here)
      await send(7, 16000, true, 11, false, 160, 96);
      await send(8, 16000, false, 11, true, 320, 96);
      // an audio packet (PT 0) and garbage are not key presses
      await peer.send(Buffer.alloc(172, 0x80), session.localPort);
      await peer.send(Buffer.from('not rtp'), session.localPort);
      await sleep(300);
      expect(digits).toEqual(['1']); // PT 96 not accepted yet
      session.setRemote({ address: '127.0.0.1', port: peer.port, rtcpPort: peer.port + 1, codec: 'PCMU', payloadType: 0, telephoneEventPt: 101, telephoneEventPts: [96] });
      await send(9, 24000, true, 11, false, 160, 96);
      await send(10, 24000, false, 11, true, 320, 96);
      for (let i = 0; i < 50 && digits.length < 2; i++) await sleep(20);
      expect(digits).toEqual(['1', '#']);
      expect(session.stats().packetsReceived).toBeGreaterThanOrEqual(11);
    });

    it('ignores RFC 4733 packets from an address that is not the far end', async () => {
      const { session } = await setup(pacer);
      session.setRemote({ address: '127.0.0.2', port: 4000, rtcpPort: 4001, codec: 'PCMU', payloadType: 0, telephoneEventPt: 101 });
      const peer = await Receiver.open('127.0.0.1');
      open.push(peer);
      const digits: string[] = [];
      session.on('dtmf', (d) => digits.push(d));
      await peer.send(encodeRtp({ marker: true, payloadType: 101, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: encodeTelephoneEvent({ event: 1, end: true, volume: 10, duration: 800 }) }), session.localPort);
      await sleep(300);
      expect(digits).toEqual([]);
    });

    it('sends RTCP SR + SDES CNAME to the remote RTCP port from RTP port + 1, and BYE on close', async () => {
      const { session, rtp, rtcp } = await setup(pacer, 'PCMU', { rtcpIntervalMs: 150 });
      await session.play(frames(20));
      await rtp.waitFor(20);
      const ssrc = rtpPackets(rtp)[0]!.ssrc;
      await rtcp.waitFor(1, 5000);
      await sleep(400); // let a report after the last packet go out
      const reports = rtcp.packets.map((p) => decodeRtcpCompound(p.data));
      expect(rtcp.packets.every((p) => p.from.port === session.localPort + 1)).toBe(true);
      const last = reports[reports.length - 1]!;
      const sr = last[0] as SenderReport;
      expect(sr.type).toBe('SR');
      expect(sr.ssrc).toBe(ssrc);
      expect(sr.packetCount).toBe(20);
      expect(sr.octetCount).toBe(20 * 160);
      const wall = Date.now();
      const ntpMs = (sr.ntp.seconds - 2208988800) * 1000 + (sr.ntp.fraction / 2 ** 32) * 1000;
      expect(Math.abs(ntpMs - wall)).toBeLessThan(5000);
      const sdes = last[1] as SourceDescription;
      expect(sdes.type).toBe('SDES');
      expect(sdes.chunks[0]!.ssrc).toBe(ssrc);
      expect(sdes.chunks[0]!.items[0]!.type).toBe(1);
      expect(sdes.chunks[0]!.items[0]!.value.length).toBeGreaterThan(0);
      const before = rtcp.packets.length;
      await session.close();
      await session.close(); // idempotent
      await rtcp.waitFor(before + 1);
      const byeCompound = decodeRtcpCompound(rtcp.packets[rtcp.packets.length - 1]!.data);
      const bye = byeCompound.find((p) => p.type === 'BYE') as Bye;
      expect(bye.ssrcs).toEqual([ssrc]);
      expect(byeCompound[0]!.type).toBe('SR');
      await sleep(300);
      expect(rtcp.packets.length).toBe(before + 1); // timers stopped: nothing after the BYE
    });

    it('resolves a running play as aborted on close and refuses to play afterwards', async () => {
      const { session, rtp } = await setup(pacer);
      const p = session.play(frames(500));
      await rtp.waitFor(3);
      await session.close();
      expect(await p).toBe('aborted');
      expect(await session.play(frames(1))).toBe('aborted');
    });

    it('rejects bad input with clear errors', async () => {
      const { session } = await setup(pacer);
      await expect(session.play([Buffer.alloc(100)])).rejects.toThrow(/160/);
      await expect(session.playSilence(-1)).rejects.toThrow(/silence/);
      expect(() => session.setRemote({ address: 'pbx.example.com', port: 5000, rtcpPort: 5001, codec: 'PCMU', payloadType: 0 })).toThrow(/IP/);
      expect(() => session.setRemote({ address: '::1', port: 5000, rtcpPort: 5001, codec: 'PCMU', payloadType: 0 })).toThrow(/IPv6/);
      expect(() => session.setRemote({ address: '127.0.0.1', port: 0, rtcpPort: 5001, codec: 'PCMU', payloadType: 0 })).toThrow(/port/);
      const fresh = await RtpSession.open({ portRange: portRange(), localAddress: '127.0.0.1', logger: silentLogger, pacer, workerScript: worker.script });
      open.unshift(fresh);
      await expect(fresh.play([Buffer.alloc(160)])).rejects.toThrow(/setRemote/);
    });
  });
}

describe('RtpSession ports', () => {
  it('skips busy pairs and fails clearly when the range is exhausted', async () => {
    const logger = memoryLogger();
    const base = 30000 + 2 * Math.floor(Math.random() * 4000); // even, away from other tests' ranges
    const a = await RtpSession.open({ portRange: { min: base, max: base + 1 }, localAddress: '127.0.0.1', logger, pacer: 'main' });
    open.push(a);
    expect(a.localPort).toBe(base);
    await expect(RtpSession.open({ portRange: { min: base, max: base + 1 }, localAddress: '127.0.0.1', logger, pacer: 'main' })).rejects.toThrow(/no free port pair/);
    const b = await RtpSession.open({ portRange: { min: base, max: base + 3 }, localAddress: '127.0.0.1', logger, pacer: 'main' });
    open.push(b);
    expect(b.localPort).toBe(base + 2);
    await expect(RtpSession.open({ portRange: { min: base + 5, max: base + 5 }, logger, pacer: 'main' })).rejects.toThrow(/no even RTP port/);
    await expect(RtpSession.open({ portRange: { min: base, max: base + 3 }, localAddress: 'localhost', logger, pacer: 'main' })).rejects.toThrow(/IP literal/);
  });

  it('works over IPv6 loopback', async () => {
    const rtp = await Receiver.open('::1');
    open.push(rtp);
    const s = await RtpSession.open({ portRange: portRange(), localAddress: '::1', logger: silentLogger, pacer: 'main' });
    open.unshift(s);
    s.setRemote({ address: '::1', port: rtp.port, rtcpPort: rtp.port + 1, codec: 'PCMA', payloadType: 8 });
    expect(await s.play(frames(3))).toBe('done');
    await rtp.waitFor(3);
    expect(rtpPackets(rtp).map((p) => p.payloadType)).toEqual([8, 8, 8]);
  });
});
