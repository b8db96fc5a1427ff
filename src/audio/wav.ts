/**
 * RIFF/WAVE encode and parse (pure). Writes 16-bit PCM, 8-bit G.711 (format 7 µ-law, 6 A-law);
 * reads PCM 8/16/24/32-bit, IEEE float 32/64, G.711 and WAVE_FORMAT_EXTENSIBLE, any channel count.
 */
import { g711Decode } from './g711.js';

export const WAVE_PCM = 1;
export const WAVE_FLOAT = 3;
export const WAVE_ALAW = 6;
export const WAVE_MULAW = 7;
const WAVE_EXTENSIBLE = 0xfffe;

export class WavError extends Error {
  override name = 'WavError';
}

export interface WavInfo {
  /** WAVE format tag (extensible resolved to its sub-format). */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** The raw bytes of the data chunk. */
  data: Buffer;
  /** Chunks other than fmt and data, in file order. */
  extraChunks: { id: string; body: Buffer }[];
}

function header(format: number, channels: number, rate: number, bits: number, dataLen: number, extraLen: number): Buffer {
  const h = Buffer.alloc(44);
  const blockAlign = (channels * bits) / 8;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataLen + (dataLen & 1) + extraLen, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataLen, 40);
  return h;
}

function checkRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < 1 || rate > 1_000_000) throw new WavError(`bad sample rate ${rate}`);
}

/** A mono 16-bit PCM WAV file. */
export function encodeWavPcm16(samples: Int16Array, sampleRate: number): Buffer {
  checkRate(sampleRate);
  const body = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) body.writeInt16LE(samples[i]!, i * 2);
  return Buffer.concat([header(WAVE_PCM, 1, sampleRate, 16, body.length, 0), body]);
}

/** A mono 8-bit G.711 WAV file (format 7 µ-law or 6 A-law). */
export function encodeWavG711(bytes: Uint8Array, codec: 'PCMU' | 'PCMA', sampleRate = 8000): Buffer {
  checkRate(sampleRate);
  const fmt = codec === 'PCMU' ? WAVE_MULAW : WAVE_ALAW;
  const pad = bytes.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([header(fmt, 1, sampleRate, 8, bytes.length, 0), bytes, pad]);
}

/**
 * Appends a chunk after the existing ones and fixes the RIFF size. The input must be a WAV
 * whose chunks run to the end of the buffer (as the encoders above produce).
 */
export function appendChunk(wav: Buffer, id: string, body: Buffer): Buffer {
  if (id.length !== 4) throw new WavError('chunk id must be 4 characters');
  const h = Buffer.alloc(8);
  h.write(id, 0, 'ascii');
  h.writeUInt32LE(body.length, 4);
  const pad = body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  const out = Buffer.concat([wav, h, body, pad]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

/**
 * Parses a WAV file. A data chunk whose declared length runs past the end (as written by
 * programs streaming to a pipe, 0 or 0xFFFFFFFF) is taken to end at the end of the buffer.
 */
export function parseWav(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavError('not a RIFF/WAVE file');
  }
  let fmt: Omit<WavInfo, 'data' | 'extraChunks'> | undefined;
  let data: Buffer | undefined;
  const extraChunks: WavInfo['extraChunks'] = [];
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let len = buf.readUInt32LE(off + 4);
    const start = off + 8;
    if (id === 'data') {
      if (len >= 0x7fff0000) {
        len = buf.length - start; // unknown length: written by a program streaming to a pipe
      } else if (start + len > buf.length) {
        throw new WavError(`truncated data chunk: ${len} bytes declared, ${buf.length - start} present`);
      }
      data = buf.subarray(start, start + len);
    } else {
      if (start + len > buf.length) throw new WavError(`truncated ${JSON.stringify(id)} chunk`);
      const body = buf.subarray(start, start + len);
      if (id === 'fmt ') {
        if (len < 16) throw new WavError('fmt chunk too short');
        let format = body.readUInt16LE(0);
        const channels = body.readUInt16LE(2);
        const sampleRate = body.readUInt32LE(4);
        const bitsPerSample = body.readUInt16LE(14);
        if (format === WAVE_EXTENSIBLE) {
          if (len < 40) throw new WavError('extensible fmt chunk too short');
          format = body.readUInt16LE(24);
        }
        fmt = { format, channels, sampleRate, bitsPerSample };
      } else {
        extraChunks.push({ id, body });
      }
    }
    off = start + len + (len & 1);
  }
  if (!fmt) throw new WavError('no fmt chunk');
  if (!data) throw new WavError('no data chunk');
  if (fmt.channels < 1 || fmt.channels > 32) throw new WavError(`bad channel count ${fmt.channels}`);
  checkRate(fmt.sampleRate);
  return { ...fmt, data, extraChunks };
}

/** The samples of a parsed WAV as mono 16-bit (channels averaged). */
export function wavToMono16(w: WavInfo): Int16Array {
  const { format, bitsPerSample: bits, channels, data } = w;
  let read: (i: number) => number;
  let bytes: number;
  if (format === WAVE_PCM && bits === 16) {
    bytes = 2;
    read = (o) => data.readInt16LE(o);
  } else if (format === WAVE_PCM && bits === 8) {
    bytes = 1;
    read = (o) => (data[o]! - 128) << 8;
  } else if (format === WAVE_PCM && bits === 24) {
    bytes = 3;
    read = (o) => data.readIntLE(o, 3) >> 8;
  } else if (format === WAVE_PCM && bits === 32) {
    bytes = 4;
    read = (o) => data.readInt32LE(o) >> 16;
  } else if (format === WAVE_FLOAT && (bits === 32 || bits === 64)) {
    bytes = bits / 8;
    read = (o) => Math.round(Math.max(-1, Math.min(1, bits === 32 ? data.readFloatLE(o) : data.readDoubleLE(o))) * 32767);
  } else if ((format === WAVE_MULAW || format === WAVE_ALAW) && bits === 8) {
    const lin = g711Decode(data, format === WAVE_MULAW ? 'PCMU' : 'PCMA');
    bytes = 1;
    read = (o) => lin[o]!;
  } else {
    throw new WavError(`unsupported WAV encoding (format ${format}, ${bits} bits)`);
  }
  const frame = bytes * channels;
  const n = Math.floor(data.length / frame);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(i * frame + c * bytes);
    out[i] = Math.round(sum / channels);
  }
  return out;
}
