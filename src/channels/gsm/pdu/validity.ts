import { PduError } from './errors.js';

/**
 * TP-VP in relative format (3GPP TS 23.040 §9.2.3.12.1), one octet:
 *   0..143    (VP + 1) × 5 minutes            (5 min … 12 h)
 *   144..167  12 h + (VP − 143) × 30 minutes  (12.5 h … 24 h)
 *   168..196  (VP − 166) days                 (2 … 30 days)
 *   197..255  (VP − 192) weeks                (5 … 63 weeks)
 */
export function relativeValidityToMinutes(vp: number): number {
  if (vp <= 143) return (vp + 1) * 5;
  if (vp <= 167) return 12 * 60 + (vp - 143) * 30;
  if (vp <= 196) return (vp - 166) * 24 * 60;
  return (vp - 192) * 7 * 24 * 60;
}

/** The longest relative validity period: 63 weeks. */
export const MAX_RELATIVE_VALIDITY_MINUTES = relativeValidityToMinutes(255);

/**
 * Minutes → TP-VP octet: the smallest period that is at least the one asked for (so a message
 * never expires earlier than requested), capped at 63 weeks. Fractions of a minute round up.
 */
export function minutesToRelativeValidity(minutes: number): number {
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) {
    throw new PduError(`validity period must be a positive number of minutes, got ${String(minutes)}`);
  }
  const m = Math.ceil(minutes);
  if (m <= 720) return Math.max(0, Math.ceil(m / 5) - 1);
  if (m <= 1440) return 143 + Math.ceil((m - 720) / 30);
  if (m <= 30 * 1440) return Math.max(168, 166 + Math.ceil(m / 1440));
  return Math.min(255, Math.max(197, 192 + Math.ceil(m / (7 * 1440))));
}
