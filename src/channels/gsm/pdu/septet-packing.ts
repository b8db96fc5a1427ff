import { PduError } from './errors.js';

/**
 * 7-bit packing (3GPP TS 23.038 §6.1.2.1.1): septets are laid end to end, least significant
 * bit first, into octets. `fillBits` zero bits come first — that is how the text after a User
 * Data Header is made to start on a septet boundary (TS 23.040 §9.2.3.24).
 *
 * When the last octet has spare bits they are zero; the septet count in TP-UDL says where the
 * text ends, so trailing zero bits are never read as '@'.
 */
export function packSeptets(septets: ArrayLike<number>, fillBits = 0): Uint8Array {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) {
    throw new PduError(`fill bits must be 0..6, got ${fillBits}`);
  }
  const totalBits = fillBits + septets.length * 7;
  const out = new Uint8Array(Math.ceil(totalBits / 8));
  let bit = fillBits;
  for (let i = 0; i < septets.length; i++) {
    const v = septets[i]! & 0x7f;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte]! |= (v << shift) & 0xff;
    if (shift > 1) out[byte + 1]! |= v >> (8 - shift);
    bit += 7;
  }
  return out;
}

/** Reads `count` septets starting after `fillBits` bits. Throws if the octets are too few. */
export function unpackSeptets(bytes: Uint8Array, count: number, fillBits = 0): number[] {
  const needed = Math.ceil((fillBits + count * 7) / 8);
  if (needed > bytes.length) {
    throw new PduError(`user data truncated: ${count} septets need ${needed} octets, got ${bytes.length}`);
  }
  const out: number[] = new Array<number>(count);
  let bit = fillBits;
  for (let i = 0; i < count; i++) {
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = bytes[byte]! >> shift;
    if (shift > 1) v |= bytes[byte + 1]! << (8 - shift);
    out[i] = v & 0x7f;
    bit += 7;
  }
  return out;
}
