import { describeInput, PduError } from './errors.js';
import type { OctetReader } from './hex.js';
import { isGsm7Text, textToSeptets, septetsToText } from './gsm7-alphabet.js';
import { packSeptets, unpackSeptets } from './septet-packing.js';

/**
 * Addresses (3GPP TS 23.040 §9.1.2.5): TP-DA / TP-OA are
 *   [number of useful semi-octets] [type of address] [semi-octets, low nibble first, F-padded]
 * and the SMSC part that precedes a TPDU (TS 24.011 RP address) is
 *   [number of octets that follow] [type of address] [semi-octets].
 */

/** Type of address: international number, ISDN/telephone numbering plan. */
export const TOA_INTERNATIONAL = 0x91;
/** Type of address: unknown type (national digits as dialled), ISDN/telephone numbering plan. */
export const TOA_UNKNOWN = 0x81;
/** Type of address: alphanumeric (TON 5), GSM 7-bit packed. */
export const TOA_ALPHANUMERIC = 0xd0;

const SEPARATORS = /[\s\-.()]/g;
const PHONE = /^\+?[0-9]{3,15}$/;

/**
 * Validates a phone number and returns it in canonical form: "+" and 3-15 digits for E.164,
 * or 3-15 national digits. Spaces, hyphens, dots and parentheses are removed first
 * ("+1 (555) 010-9999" → "+15550109999"). Anything else — letters, ";", "*", a "+" that is
 * not first, control characters — is rejected with a clear Error.
 */
export function normalizePhone(input: string): string {
  if (typeof input !== 'string') throw new PduError('phone number must be a string');
  if (input.length > 64) throw new PduError(`invalid phone number ${describeInput(input)}: too long`);
  const compact = input.replace(SEPARATORS, '');
  if (!PHONE.test(compact)) {
    const reason =
      compact.lastIndexOf('+') > 0
        ? '"+" may only come first'
        : /[^+0-9]/.test(compact)
          ? 'only digits, an optional leading "+", spaces, hyphens, dots and parentheses are allowed'
          : 'expected 3 to 15 digits';
    throw new PduError(`invalid phone number ${describeInput(input)}: ${reason}`);
  }
  return compact;
}

/** Digits → semi-octets, low nibble first, an odd count padded with F. */
function digitsToSemiOctets(digits: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < digits.length; i += 2) {
    const lo = digits.charCodeAt(i) - 48;
    const hi = i + 1 < digits.length ? digits.charCodeAt(i + 1) - 48 : 0xf;
    out.push((hi << 4) | lo);
  }
  return out;
}

/** BCD digit nibble → character; TS 23.040 §9.1.2.3: A='*', B='#', C/D/E = 'a'/'b'/'c'. */
const BCD_DIGITS = '0123456789*#abc';

function semiOctetsToDigits(bytes: Uint8Array, count: number, what: string): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    const b = bytes[i >> 1]!;
    const nibble = i % 2 === 0 ? b & 0x0f : b >> 4;
    if (nibble === 0xf) throw new PduError(`${what}: filler nibble F inside the number`);
    out += BCD_DIGITS[nibble]!;
  }
  return out;
}

function splitPhone(phone: string): { toa: number; digits: string } {
  const n = normalizePhone(phone);
  return n.startsWith('+') ? { toa: TOA_INTERNATIONAL, digits: n.slice(1) } : { toa: TOA_UNKNOWN, digits: n };
}

/** TP-DA / TP-OA for a phone number. */
export function encodeAddress(phone: string): number[] {
  const { toa, digits } = splitPhone(phone);
  return [digits.length, toa, ...digitsToSemiOctets(digits)];
}

/**
 * TP-OA for an alphanumeric sender (e.g. "Alertline"): up to 11 GSM 7-bit characters, packed;
 * the length field counts the semi-octets the packed septets occupy.
 */
export function encodeAlphanumericAddress(name: string): number[] {
  if (name.length === 0 || !isGsm7Text(name)) {
    throw new PduError(`invalid alphanumeric sender ${describeInput(name)}: must be GSM 7-bit text`);
  }
  const septets = textToSeptets(name);
  if (septets.length > 11) {
    throw new PduError(`invalid alphanumeric sender ${describeInput(name)}: longer than 11 characters`);
  }
  const packed = packSeptets(septets);
  return [Math.ceil((septets.length * 7) / 4), TOA_ALPHANUMERIC, ...packed];
}

function formatNumber(toa: number, digits: string): string {
  const ton = (toa >> 4) & 0x07;
  return ton === 1 && digits.length > 0 ? '+' + digits : digits;
}

/** Reads a TP-DA / TP-OA. International numbers come back with "+", alphanumeric as text. */
export function decodeAddress(r: OctetReader, what: string): string {
  const semiOctets = r.byte(`${what} length`);
  if (semiOctets > 20) throw new PduError(`${what}: length ${semiOctets} semi-octets exceeds the maximum of 20`);
  const toa = r.byte(`${what} type of address`);
  const body = r.take(Math.ceil(semiOctets / 2), what);
  const ton = (toa >> 4) & 0x07;
  if (ton === 5) {
    const septets = Math.floor((semiOctets * 4) / 7);
    return septetsToText(unpackSeptets(body, septets));
  }
  const digits = semiOctetsToDigits(body, semiOctets, what);
  if (semiOctets % 2 === 1 && body[body.length - 1]! >> 4 !== 0xf) {
    throw new PduError(`${what}: odd-length number not padded with F`);
  }
  return formatNumber(toa, digits);
}

/** The SMSC part in front of a TPDU; [0x00] means "use the SMSC stored in the modem/SIM". */
export function encodeSmscPart(smsc?: string): number[] {
  if (smsc === undefined || smsc === '') return [0x00];
  const { toa, digits } = splitPhone(smsc);
  const semi = digitsToSemiOctets(digits);
  return [semi.length + 1, toa, ...semi];
}

/** Reads the SMSC part; undefined when its length octet is 0. */
export function decodeSmscPart(r: OctetReader): string | undefined {
  const len = r.byte('SMSC length');
  if (len === 0) return undefined;
  if (len > 11) throw new PduError(`SMSC address length ${len} octets exceeds the maximum of 11`);
  const toa = r.byte('SMSC type of address');
  const body = r.take(len - 1, 'SMSC address');
  // Octet-counted: the digit count is 2 per octet, less a trailing F filler.
  let count = body.length * 2;
  if (count > 0 && body[body.length - 1]! >> 4 === 0xf) count--;
  if (count === 0) return undefined;
  return formatNumber(toa, semiOctetsToDigits(body, count, 'SMSC address'));
}
