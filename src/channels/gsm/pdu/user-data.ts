import { PduError } from './errors.js';
import type { OctetReader } from './hex.js';
import type { SmsEncoding } from './dcs.js';
import { septetsToText, textToSeptets } from './gsm7-alphabet.js';
import { packSeptets, unpackSeptets } from './septet-packing.js';
import { decodeUcs2, encodeUcs2 } from './ucs2.js';
import { parseUdh, type ConcatInfo } from './udh.js';

/**
 * TP-UDL + TP-UD (3GPP TS 23.040 §9.2.3.16, §9.2.3.24). For GSM 7-bit, TP-UDL counts septets,
 * header included: the header occupies ceil(octets × 8 / 7) septets and fill bits pad it to
 * that boundary so the text starts on a septet boundary. For UCS-2, TP-UDL counts octets.
 */

export const MAX_UD_OCTETS = 140;
export const MAX_UD_SEPTETS = 160;

export interface EncodedUserData {
  udl: number;
  ud: number[];
}

export function encodeUserData(encoding: SmsEncoding, text: string, udh: readonly number[] = []): EncodedUserData {
  if (encoding === 'ucs2') {
    const body = encodeUcs2(text);
    const udl = udh.length + body.length;
    if (udl > MAX_UD_OCTETS) throw new PduError(`UCS-2 user data of ${udl} octets exceeds ${MAX_UD_OCTETS}`);
    return { udl, ud: [...udh, ...body] };
  }
  const septets = textToSeptets(text);
  const headerSeptets = Math.ceil((udh.length * 8) / 7);
  const fill = headerSeptets * 7 - udh.length * 8;
  const udl = headerSeptets + septets.length;
  if (udl > MAX_UD_SEPTETS) throw new PduError(`GSM 7-bit user data of ${udl} septets exceeds ${MAX_UD_SEPTETS}`);
  return { udl, ud: [...udh, ...packSeptets(septets, fill)] };
}

export interface DecodedUserData {
  text: string;
  concat?: ConcatInfo;
}

/** Reads TP-UDL and TP-UD from the reader; the user data must end the PDU. */
export function decodeUserData(r: OctetReader, encoding: SmsEncoding, hasHeader: boolean): DecodedUserData {
  const udl = r.byte('TP-UDL');
  let octets: number;
  if (encoding === 'gsm7') {
    if (udl > MAX_UD_SEPTETS) throw new PduError(`TP-UDL of ${udl} septets exceeds ${MAX_UD_SEPTETS}`);
    octets = Math.ceil((udl * 7) / 8);
  } else {
    if (udl > MAX_UD_OCTETS) throw new PduError(`TP-UDL of ${udl} octets exceeds ${MAX_UD_OCTETS}`);
    octets = udl;
  }
  const ud = r.take(octets, 'user data');
  r.expectEnd('the user data');

  let headerSize = 0;
  let concat: ConcatInfo | undefined;
  if (hasHeader) {
    const h = parseUdh(ud);
    headerSize = h.size;
    concat = h.concat;
  }

  let text: string;
  if (encoding === 'ucs2') {
    text = decodeUcs2(ud.subarray(headerSize));
  } else {
    const headerSeptets = Math.ceil((headerSize * 8) / 7);
    if (headerSeptets > udl) {
      throw new PduError(`user data header (${headerSize} octets) is longer than TP-UDL (${udl} septets)`);
    }
    const fill = headerSeptets * 7 - headerSize * 8;
    text = septetsToText(unpackSeptets(ud.subarray(headerSize), udl - headerSeptets, fill));
  }
  return concat ? { text, concat } : { text };
}
