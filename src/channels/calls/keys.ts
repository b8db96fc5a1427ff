/**
 * The call keys, the same on GSM and VoIP: the one table of what a key does during a call, each
 * confirmed by a spoken sentence: 1 acknowledge, 2 repeat, 3 escalate to the next step now,
 * 5 snooze 30 minutes, 9 resolve. The dispatcher reads `detail.action` and acts through core.
 */
import type { PhraseKey } from '../../audio/prompt-audio.js';
import type { OutcomeKind } from '../channel.js';

/** What a person asked for with a key. `detail.action` of the call's outcome names it. */
export type KeyAction = 'acknowledge' | 'repeat' | 'escalate' | 'snooze' | 'resolve';

export type KeyRule =
  /** Start the message again from the first repetition. */
  | { action: KeyAction; effect: 'replay' }
  /** End the call: speak `confirm` (if the line is still up), resolve with `outcome`. */
  | { action: KeyAction; effect: 'end'; outcome: OutcomeKind; confirm?: PhraseKey };

export const CALL_KEYS: Readonly<Record<string, KeyRule>> = {
  '1': { action: 'acknowledge', effect: 'end', outcome: 'acknowledged', confirm: 'acknowledged' },
  '2': { action: 'repeat', effect: 'replay' },
  '3': { action: 'escalate', effect: 'end', outcome: 'answered', confirm: 'escalated' },
  '5': { action: 'snooze', effect: 'end', outcome: 'answered', confirm: 'snoozed' },
  '9': { action: 'resolve', effect: 'end', outcome: 'answered', confirm: 'resolved' },
};

/** The rule for a key, or undefined for keys that do nothing (they are still recorded). */
export function keyRule(key: string, table: Readonly<Record<string, KeyRule>> = CALL_KEYS): KeyRule | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}
