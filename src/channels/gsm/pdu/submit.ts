import { PduError } from './errors.js';
import { OctetReader, parseHex, toHex } from './hex.js';
import { decodeAddress, decodeSmscPart, encodeAddress, encodeSmscPart } from './address.js';
import { dcsFor, encodingFromDcs, type SmsEncoding } from './dcs.js';
import { planSegments } from './segmenter.js';
import { concatUdh8, type ConcatInfo } from './udh.js';
import { decodeUserData, encodeUserData } from './user-data.js';
import { minutesToRelativeValidity, relativeValidityToMinutes } from './validity.js';

/**
 * SMS-SUBMIT (3GPP TS 23.040 §9.2.2.2), preceded by an empty SMSC part ("00": the modem uses
 * the service centre stored on the SIM):
 *   first octet  TP-MTI=01, TP-RD=0, TP-VPF (00 none / 10 relative), TP-SRR, TP-UDHI, TP-RP=0
 *   TP-MR        00 (the modem assigns the reference and reports it in +CMGS)
 *   TP-DA, TP-PID=00, TP-DCS, [TP-VP], TP-UDL, TP-UD
 */

export interface SubmitPart {
  /** Whole PDU including the leading "00" SMSC octet. Upper-case hex digits only. */
  hex: string;
  /** Octets after the SMSC part: the number AT+CMGS= needs. */
  tpduLength: number;
}

export interface EncodedSms {
  parts: SubmitPart[];
  encoding: SmsEncoding;
  truncated: boolean;
  /** The text actually sent (after sanitizing and truncation). */
  text: string;
}

export interface SubmitOptions {
  to: string;
  text: string;
  /** Concatenation reference 0-255, the same for every part of one message. */
  reference: number;
  /** At most this many parts (1-255); longer text is truncated with an ellipsis. */
  maxParts: number;
  requestStatusReport?: boolean;
  /** Relative validity period; omitted → no TP-VP (the service centre's default). */
  validityMinutes?: number;
}

const MTI_SUBMIT = 0x01;
const VPF_RELATIVE = 0x10;
const SRR = 0x20;
const UDHI = 0x40;

export function encodeSmsSubmit(opts: SubmitOptions): EncodedSms {
  if (opts === null || typeof opts !== 'object') throw new PduError('encodeSmsSubmit needs an options object');
  const { reference } = opts;
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) {
    throw new PduError(`concatenation reference must be an integer 0-255, got ${String(reference)}`);
  }
  if (typeof opts.text !== 'string') throw new PduError('SMS text must be a string');
  const da = encodeAddress(opts.to);
  const vp = opts.validityMinutes === undefined ? undefined : minutesToRelativeValidity(opts.validityMinutes);
  const plan = planSegments(opts.text, opts.maxParts);
  const total = plan.parts.length;

  const parts = plan.parts.map((chunk, i): SubmitPart => {
    const udh = total > 1 ? concatUdh8({ ref: reference, total, seq: i + 1 }) : [];
    const { udl, ud } = encodeUserData(plan.encoding, chunk, udh);
    let first = MTI_SUBMIT;
    if (vp !== undefined) first |= VPF_RELATIVE;
    if (opts.requestStatusReport) first |= SRR;
    if (udh.length > 0) first |= UDHI;
    const tpdu = [first, 0x00, ...da, 0x00, dcsFor(plan.encoding), ...(vp === undefined ? [] : [vp]), udl, ...ud];
    return { hex: toHex([...encodeSmscPart(), ...tpdu]), tpduLength: tpdu.length };
  });
  return { parts, encoding: plan.encoding, truncated: plan.truncated, text: plan.text };
}

export interface DecodedSubmit {
  to: string;
  text: string;
  encoding: SmsEncoding;
  concat?: ConcatInfo;
  messageReference: number;
  /** TP-SRR. */
  statusReportRequested: boolean;
  /** TP-VP when it is in relative format. */
  validityMinutes?: number;
}

/** Decodes an SMS-SUBMIT PDU as AT+CMGS sends it (SMSC part first). */
export function decodeSmsSubmit(hex: string): DecodedSubmit {
  const r = new OctetReader(parseHex(hex));
  decodeSmscPart(r);
  const first = r.byte('first octet');
  const mti = first & 0x03;
  if (mti !== MTI_SUBMIT) throw new PduError(`not an SMS-SUBMIT: TP-MTI is ${mti}`);
  const messageReference = r.byte('TP-MR');
  const to = decodeAddress(r, 'TP-DA');
  r.byte('TP-PID');
  const encoding = encodingFromDcs(r.byte('TP-DCS'));
  const vpf = (first >> 3) & 0x03;
  let validityMinutes: number | undefined;
  if (vpf === 2) validityMinutes = relativeValidityToMinutes(r.byte('TP-VP'));
  else if (vpf !== 0) r.take(7, 'TP-VP'); // enhanced (01) or absolute (11): seven octets, not needed here
  const ud = decodeUserData(r, encoding, (first & UDHI) !== 0);
  const out: DecodedSubmit = {
    to,
    text: ud.text,
    encoding,
    messageReference,
    statusReportRequested: (first & SRR) !== 0,
  };
  if (ud.concat) out.concat = ud.concat;
  if (validityMinutes !== undefined) out.validityMinutes = validityMinutes;
  return out;
}
