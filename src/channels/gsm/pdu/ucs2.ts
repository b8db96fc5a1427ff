import { PduError } from './errors.js';

/**
 * UCS-2 user data (3GPP TS 23.038 §6.2.3): 16-bit units, big-endian. Characters beyond the
 * Basic Multilingual Plane travel as UTF-16 surrogate pairs, which is what handsets send and
 * display. The unit sequence is exactly a JavaScript string's code units.
 */
export function encodeUcs2(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    out[2 * i] = u >> 8;
    out[2 * i + 1] = u & 0xff;
  }
  return out;
}

/**
 * Octets → text. An odd octet count is an error. Unpaired surrogates are kept as they are, so
 * that a pair split across two parts of a concatenated message joins up again on reassembly.
 */
export function decodeUcs2(bytes: Uint8Array): string {
  if (bytes.length % 2 !== 0) throw new PduError(`UCS-2 user data has an odd number of octets (${bytes.length})`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) out += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return out;
}
