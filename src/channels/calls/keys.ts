/**
 * The call keys, the same on GSM and VoIP: the one table of what a key does during a call. The
 * on-call issue adds 3 escalate, 5 snooze and 9 resolve here (with their phrases), nowhere else.
 */
import type { PhraseKey } from '../../audio/prompt-audio.js';
import type { OutcomeKind } from '../channel.js';

/** What a person asked for with a key. `detail.action` of the call's outcome names it. */
export type KeyAction = 'acknowledge' | 'repeat';

export type KeyRule =
  /** Start the message again from the first repetition. */
  | { action: KeyAction; effect: 'replay' }
  /** End the call: speak `confirm` (if the line is still up), resolve with `outcome`. */
  | { action: KeyAction; effect: 'end'; outcome: OutcomeKind; confirm?: PhraseKey };

export const CALL_KEYS: Readonly<Record<string, KeyRule>> = {
  '1': { action: 'acknowledge', effect: 'end', outcome: 'acknowledged', confirm: 'acknowledged' },
  '2': { action: 'repeat', effect: 'replay' },
};

/** The rule for a key, or undefined for keys that do nothing (they are still recorded). */
export function keyRule(key: string, table: Readonly<Record<string, KeyRule>> = CALL_KEYS): KeyRule | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}
