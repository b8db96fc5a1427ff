/** What the gsm and sms channels share before touching the modem: a valid number, and no exception escaping deliver(). */
import type { Outcome, Recipient } from '../channel.js';
import { outcome } from '../channel.js';
import { normalizePhone } from './pdu/index.js';
import type { Logger } from '../../util/log.js';

/** The recipient's number, validated (nothing else ever reaches an AT command), or the outcome to report. */
export function phoneTarget(r: Recipient): { number: string } | { outcome: Outcome } {
  if (!r.phone) return { outcome: outcome('failed', 'recipient has no phone number', false) };
  try {
    return { number: normalizePhone(r.phone) };
  } catch (e) {
    return { outcome: outcome('rejected', `invalid phone number: ${(e as Error).message}`, false) };
  }
}

export function phoneAddress(r: Recipient): string | null {
  return typeof r.phone === 'string' && r.phone.trim().length > 0 ? r.phone : null;
}

/** Runs a delivery; an unexpected exception becomes a retryable failure, logged, instead of escaping. */
export async function guarded(log: Logger, event: string, alertId: number, fn: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await fn();
  } catch (e) {
    log.error(event, { alert: alertId, error: (e as Error).message });
    return outcome('failed', `internal error: ${(e as Error).message}`, true);
  }
}
