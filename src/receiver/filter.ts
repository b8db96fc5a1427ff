/**
 * What happens to an alert for one recipient: delivered, ignored (subject matches
 * filter.ignoreSubjects) or suppressed (the same problem was already sent to this person within
 * filter.dedupeWindow). Dedupe is per recipient and per event, so a second on-call person still
 * gets the alert and two hosts with the same trigger stay two alerts.
 */
import type { AlertKind } from '../channels/channel.js';

export type FilterDecision = 'deliver' | 'ignore' | 'suppress';

export function dedupeKey(kind: AlertKind, problemKey: string): string {
  return `${kind}:${problemKey}`;
}

export function compileIgnore(patterns: string[]): RegExp[] {
  return patterns.map((p) => new RegExp(p, 'i'));
}

export function decide(opts: {
  subject: string;
  ignore: RegExp[];
  /** Whether this recipient got the same dedupe key at or after `since`. */
  seenSince: (since: number) => boolean;
  now: number;
  dedupeWindowMs: number;
}): FilterDecision {
  if (opts.ignore.some((re) => re.test(opts.subject))) return 'ignore';
  if (opts.dedupeWindowMs > 0 && opts.seenSince(opts.now - opts.dedupeWindowMs)) return 'suppress';
  return 'deliver';
}
