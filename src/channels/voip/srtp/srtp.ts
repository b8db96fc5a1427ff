/**
 * SRTP and SRTCP (RFC 3711) for the AES_CM_128_HMAC_SHA1_80 and _32 suites (RFC 4568 §6.2):
 * AES-128 in counter mode, HMAC-SHA1 authentication, key_derivation_rate 0. Pure: packets in,
 * packets out; an SrtpContext holds the derived keys and, per SSRC, the rollover counter, the
 * replay lists and the SRTCP index.
 *
 * One context serves one direction: the sender protects with its own master key, the receiver
 * unprotects with the far end's (SDES gives each side its own key).
 *
 *   SRTP  packet: RTP header | encrypted payload | [MKI] | auth tag
 *   SRTCP packet: first 8 octets of the compound | encrypted rest | E | SRTCP index (31) | [MKI] | auth tag
 *
 * The authenticated portion is everything before the MKI; for SRTP the 32-bit ROC is appended
 * to it for the HMAC (RFC 3711 §4.2).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { aesCmXor, deriveSrtcpKeys, deriveSrtpKeys, sessionIv, type SessionKeys } from './aes-cm.js';
import { ReplayWindow } from './replay.js';

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SuiteParams {
  keyLength: number;
  saltLength: number;
  authKeyLength: number;
  /** SRTP authentication tag, octets. */
  srtpTagLength: number;
  /** SRTCP authentication tag, octets. */
  srtcpTagLength: number;
}

/**
 * RFC 4568 §6.2.2: AES_CM_128_HMAC_SHA1_32 "is identical to AES_CM_128_HMAC_SHA1_80 except that
 * the authentication tag is 32 bits" — for SRTCP too, as SDES peers apply it (Asterisk's res_srtp
 * sets one suite on its RTP and RTCP policies; baresip sends 4-octet SRTCP tags, checked on
 * loopback). The 80-bit SRTCP tag of the DTLS-SRTP profile of the same name (RFC 5764) does not
 * apply to SDES.
 */
export const SRTP_SUITES: Readonly<Record<SrtpSuite, SuiteParams>> = {
  AES_CM_128_HMAC_SHA1_80: { keyLength: 16, saltLength: 14, authKeyLength: 20, srtpTagLength: 10, srtcpTagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { keyLength: 16, saltLength: 14, authKeyLength: 20, srtpTagLength: 4, srtcpTagLength: 4 },
};

export function isSrtpSuite(s: string): s is SrtpSuite {
  return Object.prototype.hasOwnProperty.call(SRTP_SUITES, s);
}

/** Most packets one master key may protect (RFC 3711 §9.2): 2^48 SRTP, 2^31 SRTCP. */
export const SRTP_MAX_PACKETS = 2 ** 48;
export const SRTCP_MAX_PACKETS = 2 ** 31;

export interface MasterKey {
  /** 16 octets. */
  key: Uint8Array;
  /** 14 octets. */
  salt: Uint8Array;
  /** MKI carried by packets under this key; its length is the policy's mkiLength. */
  mki?: Uint8Array;
  /** Most SRTP (and, separately, SRTCP) packets under this key (SDES lifetime); capped at the RFC maxima. */
  lifetime?: number;
}

export interface SrtpPolicy {
  suite: SrtpSuite;
  /** The first key protects; any of them unprotects (chosen by MKI when mkiLength > 0). */
  keys: MasterKey[];
  /** MKI length in octets; 0 (default): packets carry no MKI. */
  mkiLength?: number;
  /** Replay window size in packets (default 128; at least 64). */
  replayWindow?: number;
  /** Most SSRCs tracked on receive (default 16; the least recently used is forgotten). */
  maxStreams?: number;
}

/** The two policies of one SRTP media stream: ours for what we send, the far end's for what we receive. */
export interface SrtpKeying {
  send: SrtpPolicy;
  receive: SrtpPolicy;
}

/** A deep copy with every key in its own small buffer (for postMessage: a pooled Buffer would carry its whole pool). */
export function copyKeying(k: SrtpKeying): SrtpKeying {
  const copy = (p: SrtpPolicy): SrtpPolicy => ({
    ...p,
    keys: p.keys.map((m) => ({ ...m, key: Uint8Array.from(m.key), salt: Uint8Array.from(m.salt), ...(m.mki ? { mki: Uint8Array.from(m.mki) } : {}) })),
  });
  return { send: copy(k.send), receive: copy(k.receive) };
}

/** True when two policies name the same suite, keys, salts and MKIs (a context for one serves the other). */
export function samePolicy(a: SrtpPolicy, b: SrtpPolicy): boolean {
  const eq = (x?: Uint8Array, y?: Uint8Array) => (x === undefined || y === undefined ? x === y : Buffer.from(x).equals(Buffer.from(y)));
  return (
    a.suite === b.suite &&
    (a.mkiLength ?? 0) === (b.mkiLength ?? 0) &&
    a.keys.length === b.keys.length &&
    a.keys.every((k, i) => eq(k.key, b.keys[i]!.key) && eq(k.salt, b.keys[i]!.salt) && eq(k.mki, b.keys[i]!.mki))
  );
}

/** Why unprotect refused a packet. */
export type SrtpDrop = 'short' | 'malformed' | 'mki' | 'replay' | 'auth' | 'lifetime';

export type Unprotected = { ok: true; packet: Buffer; index: number } | { ok: false; reason: SrtpDrop };

export class SrtpError extends Error {
  constructor(message: string) {
    super(`SRTP: ${message}`);
    this.name = 'SrtpError';
  }
}

interface KeyState {
  mki: Buffer | undefined;
  srtp: SessionKeys;
  srtcp: SessionKeys;
  rtpLimit: number;
  rtcpLimit: number;
  rtpUsed: number;
  rtcpUsed: number;
}

interface StreamState {
  rtp: ReplayWindow;
  rtcp: ReplayWindow;
  /** Next SRTCP index to send. */
  rtcpNext: number;
}

const RTP_HEADER_MIN = 12;
const RTCP_HEADER = 8;
const SEQ_MOD = 0x10000;

/** Length of the RTP header (fixed part, CSRCs, extension); -1 if the packet is not RTP/2 or too short. */
export function rtpHeaderLength(p: Uint8Array): number {
  if (p.length < RTP_HEADER_MIN || p[0]! >> 6 !== 2) return -1;
  let n = RTP_HEADER_MIN + 4 * (p[0]! & 0x0f);
  if ((p[0]! & 0x10) !== 0) {
    if (p.length < n + 4) return -1;
    n += 4 + 4 * ((p[n + 2]! << 8) | p[n + 3]!);
  }
  return n <= p.length ? n : -1;
}

/**
 * Packet index estimate of RFC 3711 §3.3.1 / Appendix A from the highest index accepted so far
 * (`top`, -1 before the first packet) and the 16-bit sequence number. May be negative (a packet
 * from before the first rollover counter value) or ≥ 2^48; the caller rejects both.
 */
export function estimateIndex(top: number, seq: number): number {
  if (top < 0) return seq; // first packet: ROC 0, s_l = SEQ (§3.3.1)
  const roc = Math.floor(top / SEQ_MOD);
  const sl = top % SEQ_MOD;
  let v = roc;
  if (sl < 0x8000) {
    if (seq - sl > 0x8000) v = roc - 1;
  } else if (sl - 0x8000 > seq) {
    v = roc + 1;
  }
  return v * SEQ_MOD + seq;
}

function view(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

function tag(key: Buffer, length: number, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha1', key);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, length);
}

function rocBytes(index: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(Math.floor(index / SEQ_MOD) >>> 0, 0);
  return b;
}

export class SrtpContext {
  readonly suite: SrtpSuite;
  private readonly params: SuiteParams;
  private readonly keys: KeyState[];
  private readonly mkiLength: number;
  private readonly windowSize: number;
  private readonly maxStreams: number;
  private readonly tx = new Map<number, StreamState>();
  private readonly rx = new Map<number, StreamState>();

  constructor(policy: SrtpPolicy) {
    if (!policy || !isSrtpSuite(policy.suite)) throw new SrtpError(`unsupported suite ${JSON.stringify(policy?.suite)}`);
    this.suite = policy.suite;
    this.params = SRTP_SUITES[policy.suite];
    const mkiLength = policy.mkiLength ?? 0;
    if (!Number.isInteger(mkiLength) || mkiLength < 0 || mkiLength > 128) throw new SrtpError('mkiLength must be 0..128 octets');
    if (!Array.isArray(policy.keys) || policy.keys.length === 0) throw new SrtpError('at least one master key is needed');
    if (policy.keys.length > 1 && mkiLength === 0) throw new SrtpError('several master keys need an MKI to tell them apart');
    this.mkiLength = mkiLength;
    this.windowSize = policy.replayWindow ?? 128;
    this.maxStreams = policy.maxStreams ?? 16;
    if (!Number.isInteger(this.maxStreams) || this.maxStreams < 1) throw new SrtpError('maxStreams must be a positive integer');
    new ReplayWindow(this.windowSize); // validates the size
    const seen = new Set<string>();
    this.keys = policy.keys.map((k, i) => {
      if (k.key?.length !== this.params.keyLength) throw new SrtpError(`master key ${i} must be ${this.params.keyLength} octets`);
      if (k.salt?.length !== this.params.saltLength) throw new SrtpError(`master salt ${i} must be ${this.params.saltLength} octets`);
      let mki: Buffer | undefined;
      if (mkiLength > 0) {
        if (k.mki?.length !== mkiLength) throw new SrtpError(`master key ${i} needs an MKI of ${mkiLength} octets`);
        mki = Buffer.from(k.mki);
        const hex = mki.toString('hex');
        if (seen.has(hex)) throw new SrtpError('two master keys share one MKI');
        seen.add(hex);
      }
      const life = k.lifetime;
      if (life !== undefined && !(Number.isSafeInteger(life) && life > 0)) throw new SrtpError(`bad key lifetime for master key ${i}`);
      return {
        mki,
        srtp: deriveSrtpKeys(k.key, k.salt, this.params.authKeyLength),
        srtcp: deriveSrtcpKeys(k.key, k.salt, this.params.authKeyLength),
        rtpLimit: Math.min(life ?? SRTP_MAX_PACKETS, SRTP_MAX_PACKETS),
        rtcpLimit: Math.min(life ?? SRTCP_MAX_PACKETS, SRTCP_MAX_PACKETS),
        rtpUsed: 0,
        rtcpUsed: 0,
      };
    });
  }

  /** Length an SRTP packet grows by (MKI + tag). */
  get rtpOverhead(): number {
    return this.mkiLength + this.params.srtpTagLength;
  }

  /** Length an SRTCP packet grows by (E||index + MKI + tag). */
  get rtcpOverhead(): number {
    return 4 + this.mkiLength + this.params.srtcpTagLength;
  }

  /** Rollover counter of a sending (`tx`) or receiving (`rx`) stream, undefined before its first packet. */
  rolloverCounter(ssrc: number, direction: 'tx' | 'rx'): number | undefined {
    const s = (direction === 'tx' ? this.tx : this.rx).get(ssrc >>> 0);
    if (!s || s.rtp.highest < 0) return undefined;
    return Math.floor(s.rtp.highest / SEQ_MOD);
  }

  private newStream(): StreamState {
    return { rtp: new ReplayWindow(this.windowSize), rtcp: new ReplayWindow(this.windowSize), rtcpNext: 0 };
  }

  private txStream(ssrc: number): StreamState {
    let s = this.tx.get(ssrc);
    if (!s) {
      s = this.newStream();
      this.tx.set(ssrc, s);
    }
    return s;
  }

  /** Keeps an authenticated receive stream, most recently used last; forgets the oldest beyond maxStreams. */
  private keepRx(ssrc: number, s: StreamState): void {
    this.rx.delete(ssrc);
    this.rx.set(ssrc, s);
    if (this.rx.size > this.maxStreams) this.rx.delete(this.rx.keys().next().value!);
  }

  private keyFor(p: Buffer, mkiEnd: number): KeyState | undefined {
    if (this.mkiLength === 0) return this.keys[0];
    const mki = p.subarray(mkiEnd - this.mkiLength, mkiEnd);
    return this.keys.find((k) => k.mki!.equals(mki));
  }

  /** Encrypts and authenticates one RTP packet. Throws SrtpError on a malformed packet, a reused index or an exhausted key. */
  protectRtp(packet: Uint8Array): Buffer {
    const p = view(packet);
    const hdr = rtpHeaderLength(p);
    if (hdr < 0) throw new SrtpError('not an RTP packet');
    const ssrc = p.readUInt32BE(8);
    const stream = this.txStream(ssrc);
    const index = estimateIndex(stream.rtp.highest, p.readUInt16BE(2));
    if (index < 0 || index >= SRTP_MAX_PACKETS) throw new SrtpError('packet index out of range: re-key');
    // sending one index twice would reuse its keystream (RFC 3711 §9.1)
    if (!stream.rtp.check(index)) throw new SrtpError(`packet index ${index} already protected (or too old)`);
    const key = this.keys[0]!;
    if (key.rtpUsed >= key.rtpLimit) throw new SrtpError('master key lifetime exhausted: re-key');
    const header = p.subarray(0, hdr);
    const enc = aesCmXor(key.srtp.encryption, sessionIv(key.srtp.salt, ssrc, index), p.subarray(hdr));
    const t = tag(key.srtp.auth, this.params.srtpTagLength, header, enc, rocBytes(index));
    stream.rtp.commit(index);
    key.rtpUsed++;
    return Buffer.concat(key.mki ? [header, enc, key.mki, t] : [header, enc, t]);
  }

  /** Verifies and decrypts one SRTP packet; a refused packet says why and changes no state. */
  unprotectRtp(packet: Uint8Array): Unprotected {
    const p = view(packet);
    const hdr = rtpHeaderLength(p);
    if (hdr < 0) return p.length < RTP_HEADER_MIN ? { ok: false, reason: 'short' } : { ok: false, reason: 'malformed' };
    const tagStart = p.length - this.params.srtpTagLength;
    const mkiStart = tagStart - this.mkiLength;
    if (mkiStart < hdr) return { ok: false, reason: 'short' };
    const key = this.keyFor(p, tagStart);
    if (!key) return { ok: false, reason: 'mki' };
    const ssrc = p.readUInt32BE(8);
    const known = this.rx.get(ssrc);
    const stream = known ?? this.newStream();
    const index = estimateIndex(stream.rtp.highest, p.readUInt16BE(2));
    if (index >= SRTP_MAX_PACKETS) return { ok: false, reason: 'lifetime' };
    if (!stream.rtp.check(index)) return { ok: false, reason: 'replay' };
    const authed = p.subarray(0, mkiStart);
    const expected = tag(key.srtp.auth, this.params.srtpTagLength, authed, rocBytes(index));
    if (!timingSafeEqual(expected, p.subarray(tagStart))) return { ok: false, reason: 'auth' };
    if (key.rtpUsed >= key.rtpLimit) return { ok: false, reason: 'lifetime' };
    const plain = aesCmXor(key.srtp.encryption, sessionIv(key.srtp.salt, ssrc, index), p.subarray(hdr, mkiStart));
    stream.rtp.commit(index);
    key.rtpUsed++;
    this.keepRx(ssrc, stream);
    return { ok: true, packet: Buffer.concat([p.subarray(0, hdr), plain]), index };
  }

  /** Encrypts and authenticates one (compound) RTCP packet with the next SRTCP index. */
  protectRtcp(packet: Uint8Array): Buffer {
    const p = view(packet);
    if (p.length < RTCP_HEADER || p[0]! >> 6 !== 2) throw new SrtpError('not an RTCP packet');
    const ssrc = p.readUInt32BE(4);
    const stream = this.txStream(ssrc);
    const key = this.keys[0]!;
    if (stream.rtcpNext >= SRTCP_MAX_PACKETS || key.rtcpUsed >= key.rtcpLimit) throw new SrtpError('SRTCP index or key lifetime exhausted: re-key');
    const index = stream.rtcpNext;
    const header = p.subarray(0, RTCP_HEADER);
    const enc = aesCmXor(key.srtcp.encryption, sessionIv(key.srtcp.salt, ssrc, index), p.subarray(RTCP_HEADER));
    const eIndex = Buffer.alloc(4);
    eIndex.writeUInt32BE((0x80000000 | index) >>> 0, 0); // E = 1: encrypted
    const t = tag(key.srtcp.auth, this.params.srtcpTagLength, header, enc, eIndex);
    stream.rtcpNext++;
    key.rtcpUsed++;
    return Buffer.concat(key.mki ? [header, enc, eIndex, key.mki, t] : [header, enc, eIndex, t]);
  }

  /** Verifies and (when its E flag is set) decrypts one SRTCP packet; a refused packet changes no state. */
  unprotectRtcp(packet: Uint8Array): Unprotected {
    const p = view(packet);
    const tagStart = p.length - this.params.srtcpTagLength;
    const mkiStart = tagStart - this.mkiLength;
    const eStart = mkiStart - 4;
    if (eStart < RTCP_HEADER) return { ok: false, reason: 'short' };
    if (p[0]! >> 6 !== 2) return { ok: false, reason: 'malformed' };
    const key = this.keyFor(p, tagStart);
    if (!key) return { ok: false, reason: 'mki' };
    const ssrc = p.readUInt32BE(4);
    const eIndex = p.readUInt32BE(eStart);
    const encrypted = eIndex >>> 31 === 1;
    const index = eIndex & 0x7fffffff;
    const known = this.rx.get(ssrc);
    const stream = known ?? this.newStream();
    if (!stream.rtcp.check(index)) return { ok: false, reason: 'replay' };
    const expected = tag(key.srtcp.auth, this.params.srtcpTagLength, p.subarray(0, mkiStart));
    if (!timingSafeEqual(expected, p.subarray(tagStart))) return { ok: false, reason: 'auth' };
    if (key.rtcpUsed >= key.rtcpLimit) return { ok: false, reason: 'lifetime' };
    const body = p.subarray(RTCP_HEADER, eStart);
    const plain = encrypted ? aesCmXor(key.srtcp.encryption, sessionIv(key.srtcp.salt, ssrc, index), body) : Buffer.from(body);
    stream.rtcp.commit(index);
    key.rtcpUsed++;
    this.keepRx(ssrc, stream);
    return { ok: true, packet: Buffer.concat([p.subarray(0, RTCP_HEADER), plain]), index };
  }
}
