import { PduError } from './errors.js';

export type SmsEncoding = 'gsm7' | 'ucs2';

/** TP-DCS written by the encoder: general data coding, no class, default alphabet / UCS-2. */
export const DCS_GSM7 = 0x00;
export const DCS_UCS2 = 0x08;

export function dcsFor(encoding: SmsEncoding): number {
  return encoding === 'ucs2' ? DCS_UCS2 : DCS_GSM7;
}

/**
 * TP-DCS → alphabet (3GPP TS 23.038 §4). Reserved alphabet values and reserved coding groups
 * are read as the GSM 7-bit default alphabet, as §4 directs. Compressed text and 8-bit data
 * are not text this appliance can act on: they raise a clear error.
 */
export function encodingFromDcs(dcs: number): SmsEncoding {
  const group = dcs >> 4;
  if (group <= 0x7) {
    // 00xx / 01xx: general data coding (01xx = marked for automatic deletion).
    if (dcs & 0x20) throw new PduError(`compressed user data is not supported (TP-DCS 0x${hex(dcs)})`);
    const alphabet = (dcs >> 2) & 0x03;
    if (alphabet === 1) throw new PduError(`8-bit data messages are not supported (TP-DCS 0x${hex(dcs)})`);
    return alphabet === 2 ? 'ucs2' : 'gsm7';
  }
  if (group <= 0xb) return 'gsm7'; // reserved coding groups
  if (group === 0xc || group === 0xd) return 'gsm7'; // message waiting indication, discard / store
  if (group === 0xe) return 'ucs2'; // message waiting indication, store, UCS-2
  // 1111: data coding / message class; bit 2 selects 8-bit data.
  if (dcs & 0x04) throw new PduError(`8-bit data messages are not supported (TP-DCS 0x${hex(dcs)})`);
  return 'gsm7';
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
