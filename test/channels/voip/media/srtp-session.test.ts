/**
 * RtpSession with SRTP keys (SDES) against a far end on loopback that holds the other half of the
 * keys: what we send must decrypt and authenticate there, what it sends (speech, RFC 4733 keys,
 * RTCP) must reach us only when properly protected.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RtpSession } from '../../../../src/channels/voip/rtp/session.js';
import { decodeRtp, encodeRtp } from '../../../../src/channels/voip/rtp/packet.js';
import { decodeRtcpCompound, encodeCompound, encodeReceiverReport, encodeSdes, SDES_CNAME, type Bye } from '../../../../src/channels/voip/rtp/rtcp.js';
import { encodeTelephoneEvent } from '../../../../src/channels/voip/rtp/telephone-event.js';
import { keyingFor, newCryptoOffer, policyFor } from '../../../../src/channels/voip/srtp/sdes.js';
import { SrtpContext, type SrtpSuite } from '../../../../src/channels/voip/srtp/srtp.js';
import { memoryLogger } from '../../../../src/util/log.js';
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

const lastRemote = new Map<RtpSession, Parameters<RtpSession['setRemote']>[0]>();
const frames = (n: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(160, i + 1));

async function setup(pacer: 'main' | 'worker', suite: SrtpSuite) {
  const [ours] = newCryptoOffer([suite]); // what we put in the offer
  const [theirs] = newCryptoOffer([suite]); // what the far end put in its answer
  const rtp = await Receiver.open();
  const rtcp = await Receiver.open();
  open.push(rtp, rtcp);
  const logger = memoryLogger();
  const session = await RtpSession.open({ portRange: portRange(), localAddress: '127.0.0.1', logger, pacer, workerScript: worker.script, rtcpIntervalMs: 150 });
  open.unshift(session);
  const remote = {
    address: '127.0.0.1', port: rtp.port, rtcpPort: rtcp.port, codec: 'PCMU' as const, payloadType: 0, telephoneEventPt: 101,
    srtp: keyingFor(ours!, theirs!),
  };
  session.setRemote(remote);
  lastRemote.set(session, remote);
  // the far end: unprotects with our key, protects with its own
  const farRx = new SrtpContext(policyFor(ours!));
  const farTx = new SrtpContext(policyFor(theirs!));
  const keys = [ours!, theirs!].map((c) => Buffer.concat([c.keys[0]!.key, c.keys[0]!.salt]));
  return { session, rtp, rtcp, farRx, farTx, logger, keys };
}

for (const pacer of ['main', 'worker'] as const) {
  for (const [suite, tagLen] of [['AES_CM_128_HMAC_SHA1_80', 10], ['AES_CM_128_HMAC_SHA1_32', 4]] as const) {
    describe(`RtpSession with SRTP ${suite} (${pacer} pacer)`, () => {
      it('sends SRTP the far end decrypts to the frames played, and SRTCP it authenticates', async () => {
        const { session, rtp, rtcp, farRx } = await setup(pacer, suite);
        expect(await session.play(frames(30))).toBe('done');
        await rtp.waitFor(30);
        const got = rtp.packets.map((p, i) => {
          expect(p.data.length).toBe(12 + 160 + tagLen);
          expect(p.data.subarray(12, 172).equals(frames(30)[i]!)).toBe(false); // on the wire the payload is not the frame
          return p.data;
        });
        const plain = got.map((d) => {
          const r = farRx.unprotectRtp(d);
          if (!r.ok) throw new Error(`far end dropped our packet: ${r.reason}`);
          return decodeRtp(r.packet);
        });
        plain.forEach((p, i) => expect(p.payload.equals(frames(30)[i]!)).toBe(true));
        await rtcp.waitFor(1, 5000);
        await sleep(300);
        const reports = rtcp.packets.map((p) => {
          const r = farRx.unprotectRtcp(p.data);
          if (!r.ok) throw new Error(`far end dropped our RTCP: ${r.reason}`);
          return decodeRtcpCompound(r.packet);
        });
        expect(reports.at(-1)![0]!.type).toBe('SR');
        const before = rtcp.packets.length;
        await session.close();
        await rtcp.waitFor(before + 1);
        const last = farRx.unprotectRtcp(rtcp.packets.at(-1)!.data);
        expect(last.ok).toBe(true);
        const bye = last.ok && (decodeRtcpCompound(last.packet).find((p) => p.type === 'BYE') as Bye);
        expect(bye && bye.ssrcs).toEqual([plain[0]!.ssrc]);
      });

      it('takes RFC 4733 keys only from authenticated packets, and counts the rest', async () => {
        const { session, farTx, logger, keys } = await setup(pacer, suite);
        const peer = await Receiver.open();
        open.push(peer);
        const digits: string[] = [];
        session.on('dtmf', (d) => digits.push(d));
        const ev = (seq: number, ts: number, event: number, end: boolean, duration: number) =>
          encodeRtp({ marker: !end && duration === 160, payloadType: 101, sequenceNumber: seq, timestamp: ts, ssrc: 0x5151, payload: encodeTelephoneEvent({ event, end, volume: 10, duration }) });
        // plain RTP key 9: not protected, must be ignored
        await peer.send(ev(1, 800, 9, false, 160), session.localPort);
        await peer.send(ev(2, 800, 9, true, 320), session.localPort);
        // key 1, protected: start, update, end x3
        await peer.send(farTx.protectRtp(ev(10, 8000, 1, false, 160)), session.localPort);
        await peer.send(farTx.protectRtp(ev(11, 8000, 1, false, 320)), session.localPort);
        const end = farTx.protectRtp(ev(12, 8000, 1, true, 480));
        await peer.send(end, session.localPort);
        await peer.send(end, session.localPort); // a replay of the end packet: dropped
        // key 5 with a forged tag: dropped
        const forged = farTx.protectRtp(ev(13, 16000, 5, true, 480));
        forged[forged.length - 1]! ^= 0x01;
        await peer.send(forged, session.localPort);
        // RTCP from the far end: one protected RR (accepted), one plain (dropped)
        const rr = encodeCompound([encodeReceiverReport({ ssrc: 0x5151, reports: [] }), encodeSdes([{ ssrc: 0x5151, items: [{ type: SDES_CNAME, value: 'far' }] }])]);
        await peer.send(farTx.protectRtcp(rr), session.localPort + 1);
        await peer.send(rr, session.localPort + 1);
        for (let i = 0; i < 50 && session.stats().srtpDropped < 5; i++) await sleep(20);
        await sleep(100);
        expect(digits).toEqual(['1']);
        const stats = session.stats();
        expect(stats.srtpDropped).toBe(5); // 2 plain RTP, 1 replay, 1 forged, 1 plain RTCP
        expect(stats.packetsReceived).toBe(3);
        // no key material in the log
        await session.close();
        const log = logger.lines.join('\n');
        expect(log).toContain('srtp.dropped');
        for (const k of keys) {
          expect(log).not.toContain(k.toString('base64'));
          expect(log).not.toContain(k.toString('hex'));
        }
      });
    });
  }
}

describe('RtpSession SRTP keying checks', () => {
  for (const pacer of ['main', 'worker'] as const) {
    it(`keeps ROC and replay state when the same keys are set again (${pacer} pacer)`, async () => {
      const { session, farTx } = await setup(pacer, 'AES_CM_128_HMAC_SHA1_80');
      const peer = await Receiver.open();
      open.push(peer);
      const pkt = farTx.protectRtp(encodeRtp({ marker: false, payloadType: 0, sequenceNumber: 77, timestamp: 0, ssrc: 0x99, payload: Buffer.alloc(160, 0xff) }));
      await peer.send(pkt, session.localPort);
      for (let i = 0; i < 50 && session.stats().packetsReceived < 1; i++) await sleep(20);
      // the same description (same keys) again, as a session refresh would bring it
      const remote = lastRemote.get(session)!;
      session.setRemote(remote);
      await peer.send(pkt, session.localPort); // a replay: must still be refused
      for (let i = 0; i < 50 && session.stats().srtpDropped < 1; i++) await sleep(20);
      expect(session.stats()).toMatchObject({ packetsReceived: 1, srtpDropped: 1 });
    });
  }

  it('refuses unusable keys when the remote is set', async () => {
    const session = await RtpSession.open({ portRange: portRange(), localAddress: '127.0.0.1', logger: memoryLogger(), pacer: 'main' });
    open.push(session);
    const [c] = newCryptoOffer();
    const keying = keyingFor(c!, c!);
    keying.receive = { ...keying.receive, keys: [{ key: Buffer.alloc(5), salt: Buffer.alloc(14) }] };
    expect(() => session.setRemote({ address: '127.0.0.1', port: 4000, rtcpPort: 4001, codec: 'PCMU', payloadType: 0, srtp: keying })).toThrow(/SRTP: master key 0 must be 16 octets/);
  });
});
