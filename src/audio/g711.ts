/**
 * ITU-T G.711 companding (pure). Linear samples are 16-bit signed; µ-law works on the 14-bit
 * uniform range (16-bit >> 2), A-law on the 13-bit range (16-bit >> 3), as in the G.711 tables.
 */
import type { G711Codec } from './prompt-audio.js';

/** The code of zero signal: what a silent RTP payload is filled with. */
export const PCMU_SILENCE = 0xff;
export const PCMA_SILENCE = 0xd5;

export function silenceByte(codec: G711Codec): number {
  return codec === 'PCMU' ? PCMU_SILENCE : PCMA_SILENCE;
}

const ULAW_BIAS = 0x84; // 33 in 14-bit units, scaled to 16-bit
const ULAW_CLIP = 32635; // 8159 (top of the µ-law range) * 4, less the bias

/** µ-law encode one 16-bit sample. */
export function ulawEncode(sample: number): number {
  let x = Math.trunc(sample);
  let sign = 0; // before inversion: 0 = positive (transmitted with bit 8 set)
  if (x < 0) {
    sign = 0x80;
    x = -x;
  }
  if (x > ULAW_CLIP) x = ULAW_CLIP;
  x += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (x & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (x >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** µ-law decode one byte to a 16-bit sample. */
export function ulawDecode(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const t = ((mantissa << 3) + ULAW_BIAS) << exponent;
  return u & 0x80 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

/** A-law encode one 16-bit sample. */
export function alawEncode(sample: number): number {
  let x = Math.trunc(sample);
  let sign = 0x80;
  if (x < 0) {
    sign = 0;
    x = -x;
  }
  let mag = x >> 3; // 13-bit magnitude
  if (mag > 4095) mag = 4095;
  let code: number;
  if (mag < 32) {
    code = mag >> 1;
  } else {
    let exponent = 1;
    while (mag >= 64 << (exponent - 1) && exponent < 7) exponent++;
    code = (exponent << 4) | ((mag >> exponent) & 0x0f);
  }
  return (sign | code) ^ 0x55;
}

/** A-law decode one byte to a 16-bit sample. */
export function alawDecode(code: number): number {
  const a = (code & 0xff) ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const t = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? t : -t;
}

const ULAW_DECODE = Int16Array.from({ length: 256 }, (_, i) => ulawDecode(i));
const ALAW_DECODE = Int16Array.from({ length: 256 }, (_, i) => alawDecode(i));

/** Encodes linear samples to G.711 bytes. */
export function g711Encode(samples: Int16Array, codec: G711Codec): Buffer {
  const out = Buffer.allocUnsafe(samples.length);
  const enc = codec === 'PCMU' ? ulawEncode : alawEncode;
  for (let i = 0; i < samples.length; i++) out[i] = enc(samples[i]!);
  return out;
}

/** Decodes G.711 bytes to linear samples. */
export function g711Decode(bytes: Uint8Array, codec: G711Codec): Int16Array {
  const table = codec === 'PCMU' ? ULAW_DECODE : ALAW_DECODE;
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}
