/**
 * SDP (RFC 4566) for one audio stream, offer/answer as RFC 3264 uses it. Pure.
 *
 * We offer PCMU/PCMA and telephone-event (RFC 4733); the answer tells us where to send
 * (connection address and port), which codec the far end picked and which payload type carries
 * key presses.
 *
 * SRTP with SDES keys (RFC 4568), by `srtp` mode:
 * - off:      RTP/AVP, no a=crypto (a=crypto in the answer is ignored).
 * - required: RTP/SAVP with one a=crypto per suite; an answer without a usable a=crypto (or not
 *             RTP/SAVP) is refused.
 * - optional: RTP/AVP *with* a=crypto lines — "best effort" / opportunistic SRTP as RFC 8643
 *             (OSRTP) describes it, and as Asterisk (media_encryption_optimistic) and baresip
 *             (mediaenc=srtp) do: a peer that knows SDES answers with a=crypto and both sides
 *             encrypt, a peer that does not ignores the unknown attribute and the call runs in
 *             clear. (Two m= lines, SAVP + AVP, would also be possible but many PBXs answer or
 *             ring on both.) An answer in RTP/SAVP is accepted too.
 *
 * Input from the far end is scanned, never matched with backtracking patterns: every step is
 * linear in the body, which is bounded at 64 KiB (bench/adversarial/sdp.ts).
 */
import { isIP } from 'node:net';
import { formatCrypto, maskSdp, parseCrypto, SdesError, type SdesCrypto } from './srtp/sdes.js';
import type { SrtpSuite } from './srtp/srtp.js';

export type G711Name = 'PCMU' | 'PCMA';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpOfferOptions {
  sessionId: string | number;
  sessionVersion: number;
  /** Our IP address (IPv4 or IPv6), used in o= and c=. */
  address: string;
  rtpPort: number;
  codecs: G711Name[];
  /** Dynamic payload type for telephone-event (usually 101). */
  telephoneEventPt: number;
  /** Session name (s=); default "Alertline". */
  sessionName?: string;
  /** SRTP mode (default off); with optional or required, `crypto` holds our keys (see newCryptoOffer). */
  srtp?: SrtpMode;
  crypto?: SdesCrypto[];
}

export type SrtpMode = 'off' | 'optional' | 'required';

/** What we offered, for matching the answer's a=crypto. */
export interface SrtpOffer {
  mode: SrtpMode;
  crypto: SdesCrypto[];
}

/** The SRTP keys both sides agreed on: ours protects what we send, theirs what we receive. */
export interface NegotiatedSrtp {
  suite: SrtpSuite;
  tag: number;
  local: SdesCrypto;
  remote: SdesCrypto;
}

export interface SdpAnswer {
  address: string;
  port: number;
  /** From a=rtcp (RFC 3605) or port + 1. */
  rtcpPort: number;
  codec: G711Name;
  payloadType: number;
  /** The first telephone-event payload type of the answer, if any. */
  telephoneEventPt?: number;
  /** Every payload type the answer maps to telephone-event/8000 (a far end may send with any). */
  telephoneEventPts: number[];
  direction: Direction;
  ptime?: number;
  /** Present when the answer accepted one of our a=crypto lines: the media is SRTP. */
  srtp?: NegotiatedSrtp;
}

export class SdpError extends Error {
  constructor(message: string) {
    super(`SDP: ${message}`);
    this.name = 'SdpError';
  }
}

const STATIC_PT: Record<number, G711Name> = { 0: 'PCMU', 8: 'PCMA' };
const CODEC_PT: Record<G711Name, number> = { PCMU: 0, PCMA: 8 };
const MAX_SDP = 64 * 1024;
const DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const;

function addrType(address: string): 'IP4' | 'IP6' {
  const v = isIP(address);
  if (v === 4) return 'IP4';
  if (v === 6) return 'IP6';
  throw new SdpError(`not an IP address: ${JSON.stringify(address)}`);
}

/** Builds our offer: one audio stream, CRLF line endings (RFC 4566 §5). */
export function buildSdpOffer(o: SdpOfferOptions): string {
  const type = addrType(o.address);
  const sid = String(o.sessionId);
  if (!/^\d{1,20}$/.test(sid)) throw new SdpError('sessionId must be a decimal number');
  if (!Number.isSafeInteger(o.sessionVersion) || o.sessionVersion < 0) throw new SdpError('sessionVersion must be a non-negative integer');
  if (!Number.isInteger(o.rtpPort) || o.rtpPort < 1 || o.rtpPort > 65535) throw new SdpError(`bad RTP port ${o.rtpPort}`);
  if (!Number.isInteger(o.telephoneEventPt) || o.telephoneEventPt < 96 || o.telephoneEventPt > 127) {
    throw new SdpError('telephoneEventPt must be a dynamic payload type 96..127');
  }
  const codecs = [...new Set(o.codecs)];
  if (codecs.length === 0) throw new SdpError('at least one codec must be offered');
  for (const c of codecs) if (!(c in CODEC_PT)) throw new SdpError(`unsupported codec ${JSON.stringify(c)}`);
  const name = o.sessionName ?? 'Alertline';
  if (/[\r\n\0]/.test(name) || name.length === 0) throw new SdpError('bad session name');
  const pts = codecs.map((c) => CODEC_PT[c]);
  const mode = o.srtp ?? 'off';
  if (mode !== 'off' && mode !== 'optional' && mode !== 'required') throw new SdpError(`bad srtp mode ${JSON.stringify(mode)}`);
  const crypto = mode === 'off' ? [] : (o.crypto ?? []);
  if (mode !== 'off' && crypto.length === 0) throw new SdpError(`srtp ${mode} needs at least one a=crypto key`);
  if (new Set(crypto.map((c) => c.tag)).size !== crypto.length) throw new SdpError('a=crypto tags must be distinct');
  let cryptoLines: string[];
  try {
    cryptoLines = crypto.map((c) => `a=crypto:${formatCrypto(c)}`);
  } catch (e) {
    throw new SdpError((e as Error).message);
  }
  const lines = [
    'v=0',
    `o=alertline ${sid} ${o.sessionVersion} IN ${type} ${o.address}`,
    `s=${name}`,
    `c=IN ${type} ${o.address}`,
    't=0 0',
    `m=audio ${o.rtpPort} ${mode === 'required' ? 'RTP/SAVP' : 'RTP/AVP'} ${[...pts, o.telephoneEventPt].join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${CODEC_PT[c]} ${c}/8000`),
    `a=rtpmap:${o.telephoneEventPt} telephone-event/8000`,
    `a=fmtp:${o.telephoneEventPt} 0-15`,
    'a=ptime:20',
    'a=sendrecv',
    ...cryptoLines,
  ];
  return lines.join('\r\n') + '\r\n';
}

interface Connection {
  address: string;
}

/** Blank-separated fields of a line (runs of SP/HTAB count as one separator). */
function fields(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    const blank = c === 32 || c === 9;
    if (blank && start >= 0) {
      out.push(s.slice(start, i));
      start = -1;
    } else if (!blank && start < 0) {
      start = i;
    }
  }
  return out;
}

const DIGITS = /^[0-9]+$/;

function parseConnection(value: string): Connection {
  // c=<nettype> <addrtype> <connection-address>
  const f = fields(value);
  if (f.length !== 3) throw new SdpError(`malformed c= line: ${JSON.stringify(value)}`);
  const [net, type, rawAddr] = f as [string, string, string];
  if (net.toUpperCase() !== 'IN') throw new SdpError(`unsupported network type ${JSON.stringify(net)}`);
  const t = type.toUpperCase();
  if (t !== 'IP4' && t !== 'IP6') throw new SdpError(`unsupported address type ${JSON.stringify(type)}`);
  // strip multicast TTL / count suffixes ("224.2.1.1/127/3"); we only ever unicast
  const address = rawAddr.split('/')[0]!;
  const v = isIP(address);
  if (v === 0) throw new SdpError(`c= address is not an IP literal: ${JSON.stringify(address)}`);
  if ((v === 4) !== (t === 'IP4')) throw new SdpError(`c= address ${address} does not match ${t}`);
  return { address };
}

function parseIntField(s: string, what: string, min: number, max: number): number {
  if (s.length === 0 || s.length > 10 || !DIGITS.test(s)) throw new SdpError(`bad ${what}: ${JSON.stringify(s.slice(0, 20))}`);
  const n = Number(s);
  if (n < min || n > max) throw new SdpError(`${what} out of range: ${n}`);
  return n;
}

interface MediaSection {
  media: string;
  port: number;
  proto: string;
  formats: number[];
  connection?: Connection;
  attrs: { name: string; value: string | undefined }[];
}

/**
 * Parses the answer to our offer. Uses the first m= line (our offer has exactly one, and an answer
 * keeps the offer's m-line order, RFC 3264 §6). Throws SdpError with a clear message when the SDP
 * is malformed, the audio stream was rejected (port 0), no connection address is given, or no
 * codec we offered was accepted.
 */
export function parseSdpAnswer(sdp: string, offered: G711Name[], srtp: SrtpOffer = { mode: 'off', crypto: [] }): SdpAnswer {
  if (typeof sdp !== 'string' || sdp.trim() === '') throw new SdpError('empty body');
  if (sdp.length > MAX_SDP) throw new SdpError(`body too large (${sdp.length} characters)`);
  // split at LF, drop a CR before it and trailing blanks (trimEnd: linear, unlike /\s+$/)
  const lines = sdp.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  if (lines[0] !== 'v=0') throw new SdpError('does not start with v=0');

  let sessionConn: Connection | undefined;
  const sessionAttrs: { name: string; value: string | undefined }[] = [];
  const media: MediaSection[] = [];
  for (const line of lines) {
    const t = line.charCodeAt(0);
    if (!(t >= 0x61 && t <= 0x7a) || line.charCodeAt(1) !== 0x3d || /[\r\0]/.test(line)) {
      throw new SdpError(`malformed line: ${JSON.stringify(maskSdp(line.slice(0, 80)))}`);
    }
    const type = line[0]!;
    const value = line.slice(2);
    const cur = media[media.length - 1];
    switch (type) {
      case 'm': {
        const f = fields(value);
        if (f.length < 3) throw new SdpError(`malformed m= line: ${JSON.stringify(value)}`);
        const [mediaType, portField, proto, ...fmts] = f as [string, string, string, ...string[]];
        const port = parseIntField(portField.split('/')[0]!, 'm= port', 0, 65535);
        media.push({
          media: mediaType.toLowerCase(),
          port,
          proto,
          formats: fmts.map((x) => parseIntField(x, 'payload type', 0, 127)),
          attrs: [],
        });
        break;
      }
      case 'c': {
        const c = parseConnection(value);
        if (cur) cur.connection = c;
        else sessionConn = c;
        break;
      }
      case 'a': {
        const i = value.indexOf(':');
        const attr = i < 0 ? { name: value.toLowerCase(), value: undefined } : { name: value.slice(0, i).toLowerCase(), value: value.slice(i + 1) };
        (cur ? cur.attrs : sessionAttrs).push(attr);
        break;
      }
      default:
        break; // o=, s=, t=, b=, ... carry nothing we need
    }
  }

  const audio = media[0];
  if (!audio) throw new SdpError('no m= line in the answer');
  if (audio.media !== 'audio') throw new SdpError(`first m= line is ${audio.media}, not audio`);
  if (audio.port === 0) throw new SdpError('audio stream rejected (m= port 0)');
  const negotiated = negotiateSrtp(audio, srtp);
  const conn = audio.connection ?? sessionConn;
  if (!conn) throw new SdpError('no c= connection address for the audio stream');

  const rtpmap = new Map<number, { name: string; rate: number }>();
  for (const a of audio.attrs) {
    if (a.name !== 'rtpmap' || a.value === undefined) continue;
    // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
    const f = fields(a.value);
    const enc = f.length === 2 ? f[1]!.split('/') : [];
    const [pt, name, rate, channels] = [f[0] ?? '', enc[0] ?? '', enc[1] ?? '', enc[2]];
    const ok =
      enc.length >= 2 && enc.length <= 3 && pt.length <= 3 && DIGITS.test(pt) && name !== '' &&
      rate.length <= 10 && DIGITS.test(rate) && (channels === undefined || (channels.length <= 3 && DIGITS.test(channels)));
    if (!ok) throw new SdpError(`malformed a=rtpmap: ${JSON.stringify(a.value.slice(0, 80))}`);
    rtpmap.set(Number(pt), { name: name.toUpperCase(), rate: Number(rate) });
  }

  let chosen: { codec: G711Name; pt: number } | undefined;
  const telephoneEventPts: number[] = [];
  for (const pt of audio.formats) {
    const map = rtpmap.get(pt);
    const name = map ? map.name : STATIC_PT[pt];
    const rate = map ? map.rate : 8000;
    if (name === undefined || rate !== 8000) continue;
    if (name === 'TELEPHONE-EVENT') {
      telephoneEventPts.push(pt);
    } else if (!chosen && (name === 'PCMU' || name === 'PCMA') && offered.includes(name)) {
      chosen = { codec: name, pt };
    }
  }
  if (!chosen) {
    throw new SdpError(`no common codec: offered ${offered.join(',') || '(none)'}, answer has payload types ${audio.formats.join(' ') || '(none)'}`);
  }

  const find = (name: string) => audio.attrs.find((a) => a.name === name) ?? sessionAttrs.find((a) => a.name === name);
  const dirOf = (attrs: { name: string }[]) => attrs.find((a) => (DIRECTIONS as readonly string[]).includes(a.name))?.name as Direction | undefined;
  let direction: Direction = dirOf(audio.attrs) ?? dirOf(sessionAttrs) ?? 'sendrecv';
  // RFC 3264 §8.4 (and RFC 2543 before it): c=0.0.0.0 means "do not send to me"
  if (conn.address === '0.0.0.0') direction = 'inactive';

  let rtcpPort = audio.port + 1;
  const rtcpAttr = audio.attrs.find((a) => a.name === 'rtcp');
  if (rtcpAttr?.value !== undefined) {
    rtcpPort = parseIntField(fields(rtcpAttr.value)[0] ?? '', 'a=rtcp port', 1, 65535);
  } else if (rtcpPort > 65535) {
    throw new SdpError('RTP port 65535 leaves no RTCP port');
  }

  const answer: SdpAnswer = {
    address: conn.address,
    port: audio.port,
    rtcpPort,
    codec: chosen.codec,
    payloadType: chosen.pt,
    telephoneEventPts,
    direction,
  };
  if (telephoneEventPts.length) answer.telephoneEventPt = telephoneEventPts[0];
  if (negotiated) answer.srtp = negotiated;
  const ptime = find('ptime');
  if (ptime?.value !== undefined) {
    const v = Number(ptime.value.trim());
    if (Number.isFinite(v) && v > 0 && v <= 1000) answer.ptime = v;
  }
  return answer;
}

/**
 * RFC 4568 §7.1.3 / §7.4 as the offerer sees it: the answer accepts one of our a=crypto lines by
 * repeating its tag and suite with the answerer's own key. Lines we cannot use (other suites,
 * key methods, session parameters) are ignored; a malformed line is an error.
 */
function negotiateSrtp(audio: MediaSection, offer: SrtpOffer): NegotiatedSrtp | undefined {
  const proto = audio.proto.toUpperCase();
  if (offer.mode === 'off') {
    if (proto !== 'RTP/AVP') throw new SdpError(`unsupported transport ${JSON.stringify(audio.proto)} (we offer RTP/AVP)`);
    return undefined;
  }
  if (proto !== 'RTP/AVP' && proto !== 'RTP/SAVP') throw new SdpError(`unsupported transport ${JSON.stringify(audio.proto)} (we offer RTP/SAVP or RTP/AVP)`);
  if (offer.mode === 'required' && proto !== 'RTP/SAVP') throw new SdpError(`SRTP is required but the answer uses ${audio.proto}`);
  let chosen: NegotiatedSrtp | undefined;
  for (const a of audio.attrs) {
    if (a.name !== 'crypto') continue;
    let parsed;
    try {
      parsed = parseCrypto(a.value ?? '');
    } catch (e) {
      if (e instanceof SdesError) throw new SdpError(`bad a=crypto: ${e.message}`);
      throw e;
    }
    if (!parsed.usable || chosen) continue;
    const remote = parsed.crypto;
    const local = offer.crypto.find((c) => c.tag === remote.tag);
    if (!local || local.suite !== remote.suite) continue; // not an answer to one of our lines
    chosen = { suite: remote.suite, tag: remote.tag, local, remote };
  }
  if (!chosen && (offer.mode === 'required' || proto === 'RTP/SAVP')) {
    throw new SdpError('SRTP is required but the answer has no a=crypto matching our offer');
  }
  return chosen;
}
