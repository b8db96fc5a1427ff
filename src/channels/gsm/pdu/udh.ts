import { PduError } from './errors.js';

/**
 * User Data Header (3GPP TS 23.040 §9.2.3.24): [UDHL] then information elements
 * [IEI][IEL][data]. The codec writes concatenation with an 8-bit reference (IEI 0x00) and
 * understands both 0x00 and the 16-bit-reference form (IEI 0x08) when reading; other
 * elements are skipped.
 */

export interface ConcatInfo {
  ref: number;
  total: number;
  seq: number;
}

export const IEI_CONCAT_8BIT = 0x00;
export const IEI_CONCAT_16BIT = 0x08;

/** The whole UDH (length octet included) for one part of a concatenated message. */
export function concatUdh8(c: ConcatInfo): number[] {
  return [0x05, IEI_CONCAT_8BIT, 0x03, c.ref & 0xff, c.total, c.seq];
}

/**
 * Parses the UDH at the start of the user data. Returns its total size in octets (length
 * octet included) and the concatenation element if a usable one is present. An element whose
 * sequence number is 0 or above the total is ignored, as §9.2.3.24.1 directs.
 */
export function parseUdh(ud: Uint8Array): { size: number; concat?: ConcatInfo } {
  if (ud.length === 0) throw new PduError('user data header indicated but user data is empty');
  const udhl = ud[0]!;
  if (1 + udhl > ud.length) {
    throw new PduError(`user data header length ${udhl} exceeds the user data (${ud.length - 1} octets)`);
  }
  let concat: ConcatInfo | undefined;
  let i = 1;
  const end = 1 + udhl;
  while (i < end) {
    if (i + 2 > end) throw new PduError(`user data header element at octet ${i} is truncated`);
    const iei = ud[i]!;
    const iel = ud[i + 1]!;
    const data = i + 2;
    if (data + iel > end) {
      throw new PduError(`user data header element 0x${iei.toString(16)} (length ${iel}) overruns the header`);
    }
    let found: ConcatInfo | undefined;
    if (iei === IEI_CONCAT_8BIT && iel === 3) {
      found = { ref: ud[data]!, total: ud[data + 1]!, seq: ud[data + 2]! };
    } else if (iei === IEI_CONCAT_16BIT && iel === 4) {
      found = { ref: (ud[data]! << 8) | ud[data + 1]!, total: ud[data + 2]!, seq: ud[data + 3]! };
    }
    if (found && found.total > 0 && found.seq > 0 && found.seq <= found.total) concat = found;
    i = data + iel;
  }
  return concat ? { size: end, concat } : { size: end };
}
