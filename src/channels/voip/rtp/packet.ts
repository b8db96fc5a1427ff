/**
 * RTP fixed header and payload (RFC 3550 §5.1, §5.3.1). Pure: values in, values out.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers  (CC × 32)  |
 * | [extension: profile-defined 16 | length in 32-bit words 16 | data ...]
 * | payload ... [padding ... | pad count]
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_MIN = 12;

export interface RtpHeaderExtension {
  /** "defined by profile" 16-bit field. */
  profile: number;
  /** Extension data; its length must be a multiple of 4 octets. */
  data: Buffer;
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: number[];
  extension?: RtpHeaderExtension;
  payload: Buffer;
  /** Number of padding octets (including the count octet itself); 0 or absent = no padding. */
  padding?: number;
}

export class RtpParseError extends Error {
  constructor(message: string) {
    super(`RTP: ${message}`);
    this.name = 'RtpParseError';
  }
}

function checkUint(name: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 2 ** bits - 1) {
    throw new RangeError(`RTP: ${name} must be an integer 0..${2 ** bits - 1}, got ${v}`);
  }
}

/** Serializes an RTP packet. Throws RangeError on out-of-range fields. */
export function encodeRtp(p: RtpPacket): Buffer {
  checkUint('payloadType', p.payloadType, 7);
  checkUint('sequenceNumber', p.sequenceNumber, 16);
  checkUint('timestamp', p.timestamp, 32);
  checkUint('ssrc', p.ssrc, 32);
  const csrcs = p.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('RTP: at most 15 CSRC identifiers');
  csrcs.forEach((c) => checkUint('csrc', c, 32));
  const ext = p.extension;
  if (ext) {
    checkUint('extension profile', ext.profile, 16);
    if (ext.data.length % 4 !== 0) throw new RangeError('RTP: extension data length must be a multiple of 4');
    if (ext.data.length / 4 > 0xffff) throw new RangeError('RTP: extension data too long');
  }
  const pad = p.padding ?? 0;
  checkUint('padding', pad, 8);
  const headerLen = RTP_HEADER_MIN + 4 * csrcs.length + (ext ? 4 + ext.data.length : 0);
  const out = Buffer.alloc(headerLen + p.payload.length + pad);
  out[0] = (RTP_VERSION << 6) | (pad > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  out.writeUInt16BE(p.sequenceNumber, 2);
  out.writeUInt32BE(p.timestamp, 4);
  out.writeUInt32BE(p.ssrc, 8);
  let o = RTP_HEADER_MIN;
  for (const c of csrcs) {
    out.writeUInt32BE(c, o);
    o += 4;
  }
  if (ext) {
    out.writeUInt16BE(ext.profile, o);
    out.writeUInt16BE(ext.data.length / 4, o + 2);
    ext.data.copy(out, o + 4);
    o += 4 + ext.data.length;
  }
  p.payload.copy(out, o);
  if (pad > 0) out[out.length - 1] = pad; // padding octets are zero, the last one holds the count
  return out;
}

/**
 * Parses an RTP packet; throws RtpParseError on anything that is not a valid RTP/2 packet
 * (too short, wrong version, CSRC/extension running past the end, bad padding count).
 * The returned payload is a view into the input buffer.
 */
export function decodeRtp(buf: Buffer): RtpPacket {
  if (buf.length < RTP_HEADER_MIN) throw new RtpParseError(`packet too short (${buf.length} octets)`);
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== RTP_VERSION) throw new RtpParseError(`unsupported version ${version}`);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExt = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  const b1 = buf[1]!;
  let o = RTP_HEADER_MIN;
  if (buf.length < o + 4 * cc) throw new RtpParseError('CSRC list runs past the end of the packet');
  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++, o += 4) csrcs.push(buf.readUInt32BE(o));
  let extension: RtpHeaderExtension | undefined;
  if (hasExt) {
    if (buf.length < o + 4) throw new RtpParseError('header extension runs past the end of the packet');
    const profile = buf.readUInt16BE(o);
    const words = buf.readUInt16BE(o + 2);
    if (buf.length < o + 4 + 4 * words) throw new RtpParseError('header extension runs past the end of the packet');
    extension = { profile, data: buf.subarray(o + 4, o + 4 + 4 * words) };
    o += 4 + 4 * words;
  }
  let end = buf.length;
  let padding = 0;
  if (hasPadding) {
    padding = buf[buf.length - 1]!;
    if (padding === 0 || o + padding > buf.length) throw new RtpParseError(`bad padding count ${padding}`);
    end -= padding;
  }
  const pkt: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(o, end),
  };
  if (csrcs.length) pkt.csrcs = csrcs;
  if (extension) pkt.extension = extension;
  if (padding) pkt.padding = padding;
  return pkt;
}

/** Signed difference a - b between two 16-bit sequence numbers (wrap-aware). */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}

/** Signed difference a - b between two 32-bit RTP timestamps (wrap-aware). */
export function tsDiff(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d >= 0x80000000 ? d - 0x100000000 : d;
}
