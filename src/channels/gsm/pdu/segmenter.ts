import { PduError } from './errors.js';
import { gsm7Septets, isGsm7Text } from './gsm7-alphabet.js';
import type { SmsEncoding } from './dcs.js';
import { sanitizeSmsText } from './text-sanitizer.js';

/**
 * Splits text into SMS parts (3GPP TS 23.040 §9.2.3.24.1, TS 23.038 §6.1.2.1.1):
 * one part holds 160 GSM 7-bit septets or 70 UCS-2 units; a part of a concatenated message
 * gives 7 septets / 6 octets to the concatenation header and holds 153 septets or 67 units.
 * A character is never split: an extension-table character (ESC + code, two septets) or a
 * surrogate pair (two units) goes whole into one part.
 */

export const SINGLE_PART_CAPACITY: Record<SmsEncoding, number> = { gsm7: 160, ucs2: 70 };
export const CONCAT_PART_CAPACITY: Record<SmsEncoding, number> = { gsm7: 153, ucs2: 67 };
export const ELLIPSIS: Record<SmsEncoding, string> = { gsm7: '...', ucs2: '…' };
export const MAX_PARTS = 255;

export interface SegmentPlan {
  encoding: SmsEncoding;
  /** The text of each part, in order; joined they equal `text`. */
  parts: string[];
  truncated: boolean;
  /** The text actually sent: sanitized, and cut with an ellipsis when truncated. */
  text: string;
}

/** Cost of one character in its encoding's units (septets or UTF-16 code units). */
function costOf(ch: string, encoding: SmsEncoding): number {
  return encoding === 'gsm7' ? gsm7Septets(ch)!.length : ch.length;
}

/** Greedy split of character costs into parts; returns part lengths in characters. */
function split(costs: readonly number[], encoding: SmsEncoding): number[] {
  const total = costs.reduce((a, b) => a + b, 0);
  if (total <= SINGLE_PART_CAPACITY[encoding]) return [costs.length];
  const cap = CONCAT_PART_CAPACITY[encoding];
  const lengths: number[] = [];
  let used = 0;
  let count = 0;
  for (const c of costs) {
    if (used + c > cap) {
      lengths.push(count);
      used = 0;
      count = 0;
    }
    used += c;
    count++;
  }
  lengths.push(count);
  return lengths;
}

export function planSegments(rawText: string, maxParts: number): SegmentPlan {
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS) {
    throw new PduError(`maxParts must be an integer from 1 to ${MAX_PARTS}, got ${String(maxParts)}`);
  }
  const sanitized = sanitizeSmsText(rawText);
  const encoding: SmsEncoding = isGsm7Text(sanitized) ? 'gsm7' : 'ucs2';

  // Only a bounded prefix can ever be sent; every character costs at least one unit.
  const limit = Math.max(SINGLE_PART_CAPACITY[encoding], maxParts * CONCAT_PART_CAPACITY[encoding]) + 1;
  const chars: string[] = [];
  for (const ch of sanitized) {
    if (chars.length >= limit) break;
    chars.push(ch);
  }
  const complete = chars.length < limit;
  const costs = chars.map((ch) => costOf(ch, encoding));

  if (complete) {
    const lengths = split(costs, encoding);
    if (lengths.length <= maxParts) return { encoding, parts: cut(chars, lengths), truncated: false, text: sanitized };
  }

  // Truncate: the longest prefix that, followed by the ellipsis, fits in maxParts parts.
  const ellipsis = Array.from(ELLIPSIS[encoding]);
  const ellipsisCosts = ellipsis.map((ch) => costOf(ch, encoding));
  const fits = (k: number): boolean => split([...costs.slice(0, k), ...ellipsisCosts], encoding).length <= maxParts;
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  const kept = Array.from(chars.slice(0, lo).join('').trimEnd());
  const finalChars = [...kept, ...ellipsis];
  const lengths = split(
    finalChars.map((ch) => costOf(ch, encoding)),
    encoding,
  );
  return { encoding, parts: cut(finalChars, lengths), truncated: true, text: finalChars.join('') };
}

function cut(chars: readonly string[], lengths: readonly number[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (const n of lengths) {
    out.push(chars.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}
