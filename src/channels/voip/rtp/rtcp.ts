/**
 * RTCP packets (RFC 3550 §6.4 SR/RR, §6.5 SDES, §6.6 BYE) and NTP timestamps. Pure.
 *
 * Every RTCP packet starts with a 4-octet common header:
 *   |V=2|P|  RC/SC  |   PT (8)     |  length (16, in 32-bit words minus one) |
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const SDES_CNAME = 1;

/** Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET = 2_208_988_800;

export interface NtpTimestamp {
  /** Seconds since 1900, 32 bits. */
  seconds: number;
  /** Fraction of a second in units of 2^-32 s. */
  fraction: number;
}

export function ntpFromUnixMs(ms: number): NtpTimestamp {
  const totalSec = Math.floor(ms / 1000);
  const fracMs = ms - totalSec * 1000;
  let fraction = Math.round((fracMs / 1000) * 0x100000000);
  let seconds = totalSec + NTP_UNIX_OFFSET;
  if (fraction >= 0x100000000) {
    fraction -= 0x100000000;
    seconds += 1;
  }
  return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}

export function ntpToUnixMs(t: NtpTimestamp): number {
  return (t.seconds - NTP_UNIX_OFFSET) * 1000 + (t.fraction / 0x100000000) * 1000;
}

/** The middle 32 bits of an NTP timestamp (the LSR field of a reception report, §6.4.1). */
export function ntpMiddle32(t: NtpTimestamp): number {
  return (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0;
}

/** One reception report block (§6.4.1). */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 8-bit fixed point (lost/expected × 256). */
  fractionLost: number;
  /** Cumulative number of packets lost, signed 24 bits. */
  cumulativeLost: number;
  /** Extended highest sequence number received. */
  highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Last SR timestamp (middle 32 bits), 0 if none. */
  lsr: number;
  /** Delay since last SR in units of 1/65536 s. */
  dlsr: number;
}

export interface SenderReport {
  type: 'SR';
  ssrc: number;
  ntp: NtpTimestamp;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'RR';
  ssrc: number;
  reports: ReportBlock[];
}

export interface SdesChunk {
  ssrc: number;
  /** Items by type number (1 = CNAME, 2 = NAME, ...). */
  items: { type: number; value: string }[];
}

export interface SourceDescription {
  type: 'SDES';
  chunks: SdesChunk[];
}

export interface Bye {
  type: 'BYE';
  ssrcs: number[];
  reason?: string;
}

export interface OtherRtcp {
  type: 'other';
  packetType: number;
  body: Buffer;
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | OtherRtcp;

export class RtcpParseError extends Error {
  constructor(message: string) {
    super(`RTCP: ${message}`);
    this.name = 'RtcpParseError';
  }
}

function u32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`RTCP: ${name} must be a 32-bit unsigned integer`);
  return v;
}

function header(count: number, packetType: number, totalLen: number): Buffer {
  if (totalLen % 4 !== 0) throw new Error('RTCP: internal error, packet not 32-bit aligned');
  const b = Buffer.alloc(totalLen);
  b[0] = 0x80 | count;
  b[1] = packetType;
  b.writeUInt16BE(totalLen / 4 - 1, 2);
  return b;
}

function writeReportBlock(b: Buffer, o: number, r: ReportBlock): void {
  b.writeUInt32BE(u32('report ssrc', r.ssrc), o);
  if (!Number.isInteger(r.fractionLost) || r.fractionLost < 0 || r.fractionLost > 255) {
    throw new RangeError('RTCP: fractionLost must be 0..255');
  }
  b[o + 4] = r.fractionLost;
  // cumulative lost: signed 24-bit, clamped as §6.4.1 / A.3 suggest
  const cl = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(r.cumulativeLost)));
  b.writeUIntBE(cl & 0xffffff, o + 5, 3);
  b.writeUInt32BE(u32('highestSeq', r.highestSeq), o + 8);
  b.writeUInt32BE(u32('jitter', Math.min(0xffffffff, Math.round(r.jitter))), o + 12);
  b.writeUInt32BE(u32('lsr', r.lsr), o + 16);
  b.writeUInt32BE(u32('dlsr', r.dlsr), o + 20);
}

function readReportBlock(b: Buffer, o: number): ReportBlock {
  let cl = b.readUIntBE(o + 5, 3);
  if (cl & 0x800000) cl -= 0x1000000;
  return {
    ssrc: b.readUInt32BE(o),
    fractionLost: b[o + 4]!,
    cumulativeLost: cl,
    highestSeq: b.readUInt32BE(o + 8),
    jitter: b.readUInt32BE(o + 12),
    lsr: b.readUInt32BE(o + 16),
    dlsr: b.readUInt32BE(o + 20),
  };
}

export function encodeSenderReport(sr: Omit<SenderReport, 'type'>): Buffer {
  if (sr.reports.length > 31) throw new RangeError('RTCP: at most 31 report blocks');
  const b = header(sr.reports.length, RTCP_SR, 28 + 24 * sr.reports.length);
  b.writeUInt32BE(u32('ssrc', sr.ssrc), 4);
  b.writeUInt32BE(u32('ntp seconds', sr.ntp.seconds), 8);
  b.writeUInt32BE(u32('ntp fraction', sr.ntp.fraction), 12);
  b.writeUInt32BE(u32('rtpTimestamp', sr.rtpTimestamp), 16);
  b.writeUInt32BE(u32('packetCount', sr.packetCount), 20);
  b.writeUInt32BE(u32('octetCount', sr.octetCount), 24);
  sr.reports.forEach((r, i) => writeReportBlock(b, 28 + 24 * i, r));
  return b;
}

export function encodeReceiverReport(rr: Omit<ReceiverReport, 'type'>): Buffer {
  if (rr.reports.length > 31) throw new RangeError('RTCP: at most 31 report blocks');
  const b = header(rr.reports.length, RTCP_RR, 8 + 24 * rr.reports.length);
  b.writeUInt32BE(u32('ssrc', rr.ssrc), 4);
  rr.reports.forEach((r, i) => writeReportBlock(b, 8 + 24 * i, r));
  return b;
}

/**
 * SDES with one chunk per source (§6.5): SSRC, items (type, length, UTF-8 text), then a null
 * item terminating the list, padded with nulls to a 32-bit boundary.
 */
export function encodeSdes(chunks: SdesChunk[]): Buffer {
  if (chunks.length > 31) throw new RangeError('RTCP: at most 31 SDES chunks');
  const parts: Buffer[] = [];
  for (const c of chunks) {
    const items: Buffer[] = [];
    for (const it of c.items) {
      if (!Number.isInteger(it.type) || it.type < 1 || it.type > 255) throw new RangeError('RTCP: SDES item type must be 1..255');
      const v = Buffer.from(it.value, 'utf8');
      if (v.length > 255) throw new RangeError('RTCP: SDES item longer than 255 octets');
      items.push(Buffer.from([it.type, v.length]), v);
    }
    const body = Buffer.concat(items);
    const len = 4 + body.length;
    const padded = (Math.floor(len / 4) + 1) * 4; // at least one null octet terminates the list
    const chunk = Buffer.alloc(padded);
    chunk.writeUInt32BE(u32('sdes ssrc', c.ssrc), 0);
    body.copy(chunk, 4);
    parts.push(chunk);
  }
  const payload = Buffer.concat(parts);
  const b = header(chunks.length, RTCP_SDES, 4 + payload.length);
  payload.copy(b, 4);
  return b;
}

export function encodeBye(ssrcs: number[], reason?: string): Buffer {
  if (ssrcs.length > 31) throw new RangeError('RTCP: at most 31 SSRCs in BYE');
  const r = reason !== undefined ? Buffer.from(reason, 'utf8') : undefined;
  if (r && r.length > 255) throw new RangeError('RTCP: BYE reason longer than 255 octets');
  const reasonLen = r ? 1 + r.length : 0;
  const total = 4 + 4 * ssrcs.length + Math.ceil(reasonLen / 4) * 4;
  const b = header(ssrcs.length, RTCP_BYE, total);
  ssrcs.forEach((s, i) => b.writeUInt32BE(u32('bye ssrc', s), 4 + 4 * i));
  if (r) {
    b[4 + 4 * ssrcs.length] = r.length;
    r.copy(b, 5 + 4 * ssrcs.length);
  }
  return b;
}

/** Joins packets into one compound packet (§6.1); the first must be SR or RR. */
export function encodeCompound(packets: Buffer[]): Buffer {
  if (packets.length === 0) throw new RangeError('RTCP: empty compound packet');
  const pt = packets[0]![1];
  if (pt !== RTCP_SR && pt !== RTCP_RR) throw new RangeError('RTCP: compound packet must start with SR or RR');
  return Buffer.concat(packets);
}

/**
 * Parses a compound RTCP packet with the validity checks of RFC 3550 Appendix A.2: version 2 in
 * every packet, first packet SR or RR, padding only in the last packet, lengths adding up to the
 * datagram size. Throws RtcpParseError otherwise.
 */
export function decodeRtcpCompound(buf: Buffer): RtcpPacket[] {
  if (buf.length < 4) throw new RtcpParseError(`packet too short (${buf.length} octets)`);
  if (buf.length % 4 !== 0) throw new RtcpParseError('length is not a multiple of 4');
  const out: RtcpPacket[] = [];
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < 4) throw new RtcpParseError('truncated header');
    const b0 = buf[o]!;
    if (b0 >> 6 !== 2) throw new RtcpParseError(`unsupported version ${b0 >> 6}`);
    const count = b0 & 0x1f;
    const pt = buf[o + 1]!;
    const len = (buf.readUInt16BE(o + 2) + 1) * 4;
    if (o + len > buf.length) throw new RtcpParseError('packet length runs past the end of the datagram');
    if (out.length === 0 && pt !== RTCP_SR && pt !== RTCP_RR) throw new RtcpParseError(`compound packet starts with type ${pt}, not SR/RR`);
    let end = o + len;
    if (b0 & 0x20) {
      if (end !== buf.length) throw new RtcpParseError('padding in a packet that is not the last');
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > len - 4) throw new RtcpParseError(`bad padding count ${pad}`);
      end -= pad;
    }
    const p = buf.subarray(o, end);
    out.push(decodeOne(p, pt, count));
    o += len;
  }
  return out;
}

function decodeOne(p: Buffer, pt: number, count: number): RtcpPacket {
  switch (pt) {
    case RTCP_SR: {
      if (p.length < 28 + 24 * count) throw new RtcpParseError('SR shorter than its report count');
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(readReportBlock(p, 28 + 24 * i));
      return {
        type: 'SR',
        ssrc: p.readUInt32BE(4),
        ntp: { seconds: p.readUInt32BE(8), fraction: p.readUInt32BE(12) },
        rtpTimestamp: p.readUInt32BE(16),
        packetCount: p.readUInt32BE(20),
        octetCount: p.readUInt32BE(24),
        reports,
      };
    }
    case RTCP_RR: {
      if (p.length < 8 + 24 * count) throw new RtcpParseError('RR shorter than its report count');
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(readReportBlock(p, 8 + 24 * i));
      return { type: 'RR', ssrc: p.readUInt32BE(4), reports };
    }
    case RTCP_SDES: {
      const chunks: SdesChunk[] = [];
      let o = 4;
      for (let i = 0; i < count; i++) {
        if (o + 4 > p.length) throw new RtcpParseError('SDES chunk runs past the end');
        const ssrc = p.readUInt32BE(o);
        o += 4;
        const items: { type: number; value: string }[] = [];
        for (;;) {
          if (o >= p.length) throw new RtcpParseError('SDES item list not terminated');
          const t = p[o]!;
          if (t === 0) break;
          if (o + 2 > p.length) throw new RtcpParseError('SDES item runs past the end');
          const l = p[o + 1]!;
          if (o + 2 + l > p.length) throw new RtcpParseError('SDES item runs past the end');
          items.push({ type: t, value: p.toString('utf8', o + 2, o + 2 + l) });
          o += 2 + l;
        }
        o = (Math.floor(o / 4) + 1) * 4; // skip the null terminator and padding to the next word
        chunks.push({ ssrc, items });
      }
      return { type: 'SDES', chunks };
    }
    case RTCP_BYE: {
      if (p.length < 4 + 4 * count) throw new RtcpParseError('BYE shorter than its source count');
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(p.readUInt32BE(4 + 4 * i));
      const bye: Bye = { type: 'BYE', ssrcs };
      const ro = 4 + 4 * count;
      if (p.length > ro) {
        const l = p[ro]!;
        if (ro + 1 + l > p.length) throw new RtcpParseError('BYE reason runs past the end');
        bye.reason = p.toString('utf8', ro + 1, ro + 1 + l);
      }
      return bye;
    }
    default:
      return { type: 'other', packetType: pt, body: p.subarray(4) };
  }
}
