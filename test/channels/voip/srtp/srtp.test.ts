import { createHmac, randomBytes } from 'node:crypto';
import { deriveSrtcpKeys } from '../../../../src/channels/voip/srtp/aes-cm.js';
import { describe, expect, it } from 'vitest';
import { encodeRtp, decodeRtp } from '../../../../src/channels/voip/rtp/packet.js';
import { decodeRtcpCompound, encodeCompound, encodeSdes, encodeSenderReport, SDES_CNAME } from '../../../../src/channels/voip/rtp/rtcp.js';
import { estimateIndex, SrtpContext, SrtpError, type SrtpPolicy, type SrtpSuite } from '../../../../src/channels/voip/srtp/srtp.js';
import { ReplayWindow } from '../../../../src/channels/voip/srtp/replay.js';

const master = { key: randomBytes(16), salt: randomBytes(14) };
const pair = (suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80', extra: Partial<SrtpPolicy> = {}) => {
  const policy: SrtpPolicy = { suite, keys: [master], ...extra };
  return { tx: new SrtpContext(policy), rx: new SrtpContext(policy) };
};
const rtp = (seq: number, payload = Buffer.alloc(160, seq & 0xff), ssrc = 0x11223344) =>
  encodeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: (seq * 160) >>> 0, ssrc, payload });

function unprotect(rx: SrtpContext, pkt: Buffer): Buffer {
  const r = rx.unprotectRtp(pkt);
  if (!r.ok) throw new Error(`dropped: ${r.reason}`);
  return r.packet;
}

describe('SRTP protect / unprotect', () => {
  for (const [suite, tagLen] of [['AES_CM_128_HMAC_SHA1_80', 10], ['AES_CM_128_HMAC_SHA1_32', 4]] as const) {
    it(`${suite}: round trip, payload encrypted, header in clear, ${tagLen}-octet tag`, () => {
      const { tx, rx } = pair(suite);
      const plain = rtp(1000);
      const sec = tx.protectRtp(plain);
      expect(sec.length).toBe(plain.length + tagLen);
      expect(sec.subarray(0, 12).equals(plain.subarray(0, 12))).toBe(true);
      expect(sec.subarray(12, 12 + 160).equals(plain.subarray(12))).toBe(false);
      expect(unprotect(rx, sec).equals(plain)).toBe(true);
    });
  }

  it('keeps CSRCs, header extension and padding intact (header authenticated, padding encrypted)', () => {
    const { tx, rx } = pair();
    const plain = encodeRtp({
      marker: true, payloadType: 8, sequenceNumber: 7, timestamp: 99, ssrc: 5, csrcs: [1, 2],
      extension: { profile: 0xbede, data: Buffer.from([1, 2, 3, 4]) }, payload: Buffer.from('hello'), padding: 3,
    });
    const sec = tx.protectRtp(plain);
    const back = unprotect(rx, sec);
    expect(back.equals(plain)).toBe(true);
    expect(decodeRtp(back).payload.toString()).toBe('hello');
    const tampered = Buffer.from(sec);
    tampered[17]! ^= 1; // inside the extension: authenticated, not encrypted
    expect(pair().rx.unprotectRtp(tampered)).toEqual({ ok: false, reason: 'auth' });
  });

  it('tracks the rollover counter across seq 65535 -> 0 on both sides', () => {
    const { tx, rx } = pair();
    const seqs = [65533, 65534, 65535, 0, 1, 2];
    for (const s of seqs) {
      const plain = rtp(s);
      expect(unprotect(rx, tx.protectRtp(plain)).equals(plain)).toBe(true);
    }
    expect(tx.rolloverCounter(0x11223344, 'tx')).toBe(1);
    expect(rx.rolloverCounter(0x11223344, 'rx')).toBe(1);
  });

  it('decrypts a packet from before the wrap that arrives after it (index estimate v = ROC - 1)', () => {
    // a fresh pair: 65534 first, then 0 and 1 (ROC 1), then the late 65535 (ROC 0)
    const p = pair();
    const pk = [65534, 65535, 0, 1].map((s) => p.tx.protectRtp(rtp(s)));
    unprotect(p.rx, pk[0]!);
    unprotect(p.rx, pk[2]!);
    unprotect(p.rx, pk[3]!);
    expect(unprotect(p.rx, pk[1]!).equals(rtp(65535))).toBe(true);
    expect(p.rx.rolloverCounter(0x11223344, 'rx')).toBe(1);
  });

  it('a receiver that guessed the wrong ROC cannot authenticate (ROC is covered by the tag)', () => {
    const { tx } = pair();
    for (const s of [65535, 0, 20000]) tx.protectRtp(rtp(s));
    const afterWrap = tx.protectRtp(rtp(40000)); // ROC 1, seq 40000
    expect(tx.rolloverCounter(0x11223344, 'tx')).toBe(1);
    // a receiver that never saw the wrap starts at ROC 0 and fails the tag check
    expect(pair().rx.unprotectRtp(afterWrap)).toEqual({ ok: false, reason: 'auth' });
  });

  it('rejects a replayed packet, and one older than the window', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { replayWindow: 64 });
    const first = tx.protectRtp(rtp(100));
    unprotect(rx, first);
    expect(rx.unprotectRtp(first)).toEqual({ ok: false, reason: 'replay' });
    const skipped = tx.protectRtp(rtp(101));
    for (let s = 102; s < 200; s++) unprotect(rx, tx.protectRtp(rtp(s)));
    // 101 was never received but is now 98 behind the highest index: outside a 64-packet window
    expect(rx.unprotectRtp(skipped)).toEqual({ ok: false, reason: 'replay' });
    // one inside the window that was not seen yet is still accepted
    const p = pair();
    const a = p.tx.protectRtp(rtp(10));
    const b = p.tx.protectRtp(rtp(11));
    unprotect(p.rx, b);
    expect(unprotect(p.rx, a).equals(rtp(10))).toBe(true);
  });

  it('rejects a tampered tag or payload without touching the replay state', () => {
    const { tx, rx } = pair();
    const sec = tx.protectRtp(rtp(5));
    const badTag = Buffer.from(sec);
    badTag[badTag.length - 1]! ^= 0x80;
    expect(rx.unprotectRtp(badTag)).toEqual({ ok: false, reason: 'auth' });
    const badBody = Buffer.from(sec);
    badBody[20]! ^= 0x01;
    expect(rx.unprotectRtp(badBody)).toEqual({ ok: false, reason: 'auth' });
    // the genuine packet is still accepted afterwards: a forgery did not advance the window
    expect(unprotect(rx, sec).equals(rtp(5))).toBe(true);
  });

  it('a 32-bit-tag receiver refuses an 80-bit-tag packet and the other way round', () => {
    const tx80 = pair('AES_CM_128_HMAC_SHA1_80').tx;
    const tx32 = pair('AES_CM_128_HMAC_SHA1_32').tx;
    expect(pair('AES_CM_128_HMAC_SHA1_32').rx.unprotectRtp(tx80.protectRtp(rtp(1))).ok).toBe(false);
    expect(pair('AES_CM_128_HMAC_SHA1_80').rx.unprotectRtp(tx32.protectRtp(rtp(1))).ok).toBe(false);
  });

  it('refuses a packet under another master key, and non-RTP input', () => {
    const other = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [{ key: randomBytes(16), salt: randomBytes(14) }] });
    expect(pair().rx.unprotectRtp(other.protectRtp(rtp(1)))).toEqual({ ok: false, reason: 'auth' });
    expect(pair().rx.unprotectRtp(Buffer.alloc(8))).toEqual({ ok: false, reason: 'short' });
    expect(pair().rx.unprotectRtp(Buffer.alloc(40, 0x00))).toEqual({ ok: false, reason: 'malformed' });
    expect(() => pair().tx.protectRtp(Buffer.alloc(40, 0))).toThrow(SrtpError);
  });

  it('never protects one index twice (that would reuse keystream)', () => {
    const { tx } = pair();
    tx.protectRtp(rtp(9));
    expect(() => tx.protectRtp(rtp(9))).toThrow(/already protected/);
  });

  it('keeps ROC and replay state per SSRC', () => {
    const { tx, rx } = pair();
    const a = tx.protectRtp(rtp(500, undefined, 1));
    const b = tx.protectRtp(rtp(500, undefined, 2));
    expect(unprotect(rx, a).equals(rtp(500, undefined, 1))).toBe(true);
    expect(unprotect(rx, b).equals(rtp(500, undefined, 2))).toBe(true);
    expect(rx.unprotectRtp(b)).toEqual({ ok: false, reason: 'replay' });
  });

  it('picks the master key by MKI and refuses an unknown MKI', () => {
    const k1 = { key: randomBytes(16), salt: randomBytes(14), mki: Buffer.from([0, 1]) };
    const k2 = { key: randomBytes(16), salt: randomBytes(14), mki: Buffer.from([0, 2]) };
    const rx = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [k1, k2], mkiLength: 2 });
    const tx2 = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [k2], mkiLength: 2 });
    const sec = tx2.protectRtp(rtp(1));
    expect(sec.length).toBe(12 + 160 + 2 + 10);
    expect(sec.subarray(172, 174)).toEqual(Buffer.from([0, 2]));
    expect(unprotect(rx, sec).equals(rtp(1))).toBe(true);
    const other = Buffer.from(tx2.protectRtp(rtp(2)));
    other[173] = 9;
    expect(rx.unprotectRtp(other)).toEqual({ ok: false, reason: 'mki' });
  });

  it('stops at the key lifetime', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { keys: [{ ...master, lifetime: 2 }] });
    const p1 = tx.protectRtp(rtp(1));
    const p2 = tx.protectRtp(rtp(2));
    expect(() => tx.protectRtp(rtp(3))).toThrow(/lifetime/);
    unprotect(rx, p1);
    unprotect(rx, p2);
    const rogue = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [master] });
    for (let s = 1; s <= 3; s++) rogue.protectRtp(rtp(s));
    expect(rx.unprotectRtp(rogue.protectRtp(rtp(4)))).toEqual({ ok: false, reason: 'lifetime' });
  });

  it('refuses bad policies with its own error', () => {
    expect(() => new SrtpContext({ suite: 'F8_128_HMAC_SHA1_80' as SrtpSuite, keys: [master] })).toThrow(SrtpError);
    expect(() => new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [{ key: randomBytes(15), salt: randomBytes(14) }] })).toThrow(/16 octets/);
    expect(() => new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [master, master] })).toThrow(/MKI/);
    expect(() => new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [master], replayWindow: 32 })).toThrow(/at least 64/);
  });
});

describe('SRTCP protect / unprotect', () => {
  const compound = (ssrc = 0xabcdef01) =>
    encodeCompound([
      encodeSenderReport({ ssrc, ntp: { seconds: 1, fraction: 2 }, rtpTimestamp: 3, packetCount: 4, octetCount: 5, reports: [] }),
      encodeSdes([{ ssrc, items: [{ type: SDES_CNAME, value: 'alertline-test' }] }]),
    ]);

  // RFC 4568 §6.2.2: _32 uses a 32-bit tag for SRTCP too (as Asterisk and baresip do)
  for (const [suite, tagLen] of [['AES_CM_128_HMAC_SHA1_80', 10], ['AES_CM_128_HMAC_SHA1_32', 4]] as const) {
    it(`${suite}: round trip with the E flag, counting SRTCP index, ${tagLen}-octet tag`, () => {
      const { tx, rx } = pair(suite);
      const plain = compound();
      for (let i = 0; i < 3; i++) {
        const sec = tx.protectRtcp(plain);
        expect(sec.length).toBe(plain.length + 4 + tagLen);
        expect(sec.readUInt32BE(plain.length)).toBe((0x80000000 | i) >>> 0);
        expect(sec.subarray(0, 8).equals(plain.subarray(0, 8))).toBe(true);
        expect(sec.subarray(8, plain.length).equals(plain.subarray(8))).toBe(false);
        const r = rx.unprotectRtcp(sec);
        expect(r.ok && r.index).toBe(i);
        expect(r.ok && decodeRtcpCompound(r.packet).map((p) => p.type)).toEqual(['SR', 'SDES']);
      }
    });
  }

  it('rejects replayed and tampered SRTCP (index and E flag are authenticated)', () => {
    const { tx, rx } = pair();
    const sec = tx.protectRtcp(compound());
    const flipE = Buffer.from(sec);
    flipE[sec.length - 14]! ^= 0x80;
    expect(rx.unprotectRtcp(flipE)).toEqual({ ok: false, reason: 'auth' });
    const badIndex = Buffer.from(sec);
    badIndex[sec.length - 11]! ^= 0x01;
    expect(rx.unprotectRtcp(badIndex)).toEqual({ ok: false, reason: 'auth' });
    expect(rx.unprotectRtcp(sec).ok).toBe(true);
    expect(rx.unprotectRtcp(sec)).toEqual({ ok: false, reason: 'replay' });
  });

  it('accepts an authenticated but unencrypted packet (E = 0, RFC 3711 §3.4)', () => {
    const plain = compound();
    const authed = Buffer.concat([plain, Buffer.from([0, 0, 0, 7])]); // E = 0, index 7
    const t = createHmac('sha1', deriveSrtcpKeys(master.key, master.salt).auth).update(authed).digest().subarray(0, 10);
    const r = pair().rx.unprotectRtcp(Buffer.concat([authed, t]));
    expect(r.ok && r.packet.equals(plain)).toBe(true);
    expect(r.ok && r.index).toBe(7);
  });
});

describe('index estimate (RFC 3711 Appendix A)', () => {
  it('follows the pseudocode at the edges', () => {
    expect(estimateIndex(-1, 42)).toBe(42);
    expect(estimateIndex(65535, 0)).toBe(65536); // wrap forward
    expect(estimateIndex(65536, 65535)).toBe(65535); // late packet from ROC 0
    expect(estimateIndex(100, 65000)).toBe(-536); // before the first ROC: negative, rejected
    expect(estimateIndex(3 * 65536 + 40000, 7000)).toBe(4 * 65536 + 7000);
    expect(estimateIndex(3 * 65536 + 40000, 8000)).toBe(3 * 65536 + 8000);
  });
});

describe('ReplayWindow', () => {
  it('accepts each index once, out of order within the window', () => {
    const w = new ReplayWindow(64);
    for (const i of [5, 3, 4, 60, 7, 6]) {
      expect(w.check(i)).toBe(true);
      w.commit(i);
      expect(w.check(i)).toBe(false);
    }
    w.commit(70);
    expect(w.check(7)).toBe(false); // seen
    expect(w.check(6)).toBe(false); // 70 - 6 = 64: outside a 64-wide window
    expect(w.check(8)).toBe(true); // 62 behind, never seen
    expect(w.check(69)).toBe(true);
    expect(w.check(1_000_000)).toBe(true);
  });
});
