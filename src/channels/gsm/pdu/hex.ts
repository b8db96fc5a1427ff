import { PduError } from './errors.js';

/**
 * Longest PDU accepted, in octets: an SMSC part (1 + 11) plus the largest TPDU
 * (SMS-SUBMIT: 1 + 1 + 12 + 1 + 1 + 7 + 1 + 140 = 164). Anything longer is not an SMS.
 */
export const MAX_PDU_OCTETS = 176;

/** Hex text → octets. Surrounding whitespace is ignored; anything else that is not hex is an error. */
export function parseHex(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new PduError('PDU must be a hex string');
  const s = hex.trim();
  if (s.length === 0) throw new PduError('PDU is empty');
  if (s.length > MAX_PDU_OCTETS * 2) {
    throw new PduError(`PDU too long: ${s.length / 2} octets (an SMS PDU has at most ${MAX_PDU_OCTETS})`);
  }
  if (!/^[0-9A-Fa-f]*$/.test(s)) {
    const bad = s.search(/[^0-9A-Fa-f]/);
    throw new PduError(`PDU contains a non-hex character at position ${bad}`);
  }
  if (s.length % 2 !== 0) throw new PduError(`PDU has an odd number of hex digits (${s.length})`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Octets → upper-case hex, the form modems expect after AT+CMGS. */
export function toHex(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! & 0xff).toString(16).toUpperCase().padStart(2, '0');
  return s;
}

/** Sequential reader over a PDU that turns every overrun into a clear PduError. */
export class OctetReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  byte(what: string): number {
    if (this.pos >= this.bytes.length) {
      throw new PduError(`PDU truncated: ${what} missing at octet ${this.pos}`);
    }
    return this.bytes[this.pos++]!;
  }

  take(n: number, what: string): Uint8Array {
    if (n > this.remaining) {
      throw new PduError(
        `PDU truncated: ${what} needs ${n} octets at octet ${this.pos}, only ${this.remaining} left`,
      );
    }
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  expectEnd(what: string): void {
    if (this.remaining !== 0) {
      throw new PduError(`PDU has ${this.remaining} unexpected octets after ${what}`);
    }
  }
}
