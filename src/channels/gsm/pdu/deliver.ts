import { PduError } from './errors.js';
import { OctetReader, parseHex, toHex } from './hex.js';
import {
  decodeAddress,
  decodeSmscPart,
  encodeAddress,
  encodeAlphanumericAddress,
  encodeSmscPart,
} from './address.js';
import { dcsFor, encodingFromDcs, type SmsEncoding } from './dcs.js';
import { isGsm7Text } from './gsm7-alphabet.js';
import { decodeScts, encodeScts } from './timestamp.js';
import { concatUdh8, type ConcatInfo } from './udh.js';
import { decodeUserData, encodeUserData } from './user-data.js';

/**
 * SMS-DELIVER (3GPP TS 23.040 §9.2.2.1) with the SMSC part in front, as AT+CMGR shows it in
 * PDU mode:
 *   first octet  TP-MTI=00, TP-MMS, TP-LP, TP-SRI, TP-UDHI, TP-RP
 *   TP-OA, TP-PID, TP-DCS, TP-SCTS (7 octets), TP-UDL, TP-UD
 */

export interface DecodedDeliver {
  smsc?: string;
  sender: string;
  text: string;
  encoding: SmsEncoding;
  /** ISO 8601 with the service centre's offset, e.g. "2024-01-31T23:59:00-05:00". */
  timestamp: string;
  concat?: ConcatInfo;
}

const MTI_DELIVER = 0x00;
const MMS_NO_MORE = 0x04;
const UDHI = 0x40;

export function decodeSmsDeliver(hex: string): DecodedDeliver {
  const r = new OctetReader(parseHex(hex));
  const smsc = decodeSmscPart(r);
  const first = r.byte('first octet');
  const mti = first & 0x03;
  if (mti !== MTI_DELIVER) throw new PduError(`not an SMS-DELIVER: TP-MTI is ${mti}`);
  const sender = decodeAddress(r, 'TP-OA');
  r.byte('TP-PID');
  const encoding = encodingFromDcs(r.byte('TP-DCS'));
  const timestamp = decodeScts(r.take(7, 'TP-SCTS'));
  const ud = decodeUserData(r, encoding, (first & UDHI) !== 0);
  const out: DecodedDeliver = { sender, text: ud.text, encoding, timestamp };
  if (smsc !== undefined) out.smsc = smsc;
  if (ud.concat) out.concat = ud.concat;
  return out;
}

export interface DeliverOptions {
  smsc?: string;
  /** A phone number (E.164 or national digits), or — if it contains a letter — an alphanumeric sender of up to 11 GSM 7-bit characters. */
  sender: string;
  /** Sent as given: GSM 7-bit when every character allows it, else UCS-2. Must fit one part. */
  text: string;
  timestamp: Date;
  /** Time zone of the time stamp, minutes east of UTC (default 0). */
  timezoneOffsetMinutes?: number;
  concat?: ConcatInfo;
}

/** Builds one SMS-DELIVER PDU (the simulator's incoming SMS). Throws if the text does not fit. */
export function encodeSmsDeliver(opts: DeliverOptions): string {
  if (opts === null || typeof opts !== 'object') throw new PduError('encodeSmsDeliver needs an options object');
  if (typeof opts.text !== 'string') throw new PduError('SMS text must be a string');
  if (typeof opts.sender !== 'string') throw new PduError('sender must be a string');
  // A sender with a letter in it is alphanumeric ("Alertline"); anything else must be a phone number.
  const oa = /\p{L}/u.test(opts.sender) ? encodeAlphanumericAddress(opts.sender) : encodeAddress(opts.sender);
  const encoding: SmsEncoding = isGsm7Text(opts.text) ? 'gsm7' : 'ucs2';
  let udh: number[] = [];
  if (opts.concat) {
    const { ref, total, seq } = opts.concat;
    for (const [name, v, min] of [['ref', ref, 0], ['total', total, 1], ['seq', seq, 1]] as const) {
      if (!Number.isInteger(v) || v < min || v > 255) throw new PduError(`concat ${name} must be ${min}-255, got ${v}`);
    }
    if (seq > total) throw new PduError(`concat seq ${seq} is beyond total ${total}`);
    udh = concatUdh8(opts.concat);
  }
  const { udl, ud } = encodeUserData(encoding, opts.text, udh);
  const first = MTI_DELIVER | MMS_NO_MORE | (udh.length > 0 ? UDHI : 0);
  const tpdu = [first, ...oa, 0x00, dcsFor(encoding), ...encodeScts(opts.timestamp, opts.timezoneOffsetMinutes), udl, ...ud];
  return toHex([...encodeSmscPart(opts.smsc), ...tpdu]);
}
