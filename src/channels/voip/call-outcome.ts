/**
 * How a SIP final response to our INVITE becomes a delivery outcome (issue 4: a 486/480/404 must
 * end the attempt, never leave it "in progress").
 */
import { outcome, type Outcome } from '../channel.js';

export function outcomeForFinal(status: number, reason: string, detail?: Record<string, unknown>): Outcome {
  const text = `${status} ${reason}`.trim();
  if (status === 486 || status === 600) return outcome('busy', text, true, detail);
  if (status === 480 || status === 408 || status === 487) return outcome('no-answer', text, true, detail);
  if (status === 603) return outcome('rejected', text, false, detail);
  if (status === 404 || status === 484 || status === 410 || status === 604) {
    return outcome('rejected', `unknown number (${text})`, false, detail);
  }
  if (status === 401 || status === 407) return outcome('failed', `authentication failed (${text})`, false, detail);
  if (status === 403) return outcome('failed', `forbidden by the PBX (${text})`, false, detail);
  if (status >= 400 && status < 500) return outcome('rejected', text, false, detail);
  // 5xx and remaining 6xx: the server or network had trouble; later may work.
  if (status >= 500) return outcome('failed', text, true, detail);
  return outcome('failed', `unexpected final response ${text}`, true, detail);
}
