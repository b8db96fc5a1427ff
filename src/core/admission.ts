/**
 * Admission: what becomes of an accepted message for each of its recipients — delivered, ignored
 * (subject matches filter.ignoreSubjects), suppressed (the same problem was sent to this person
 * within filter.dedupeWindow), or cancelled (a resolved notice nobody needs) — and which earlier
 * problems it resolves. Pure: the store hands in the facts it read inside its transaction.
 */
import type { AdmitDecide, AdmitFacts, AdmitInput, AdmitPlan, DeliveryState } from '../store/rows.js';
import type { AlertKind, AlertState, ParsedAlert } from './model.js';

export interface AdmissionSettings {
  ignore: RegExp[];
  dedupeWindowMs: number;
  notifyResolved: boolean;
}

export type Decision = 'deliver' | 'ignore' | 'suppress' | 'cancel';

/**
 * Dedupe is per recipient and per event: a second on-call person still gets it; two hosts stay two
 * alerts. A group whose number of firing alerts changed ([FIRING:2] → [FIRING:1]) is news.
 */
export function dedupeKey(kind: AlertKind, problemKey: string, firing?: number): string {
  return `${kind}:${problemKey}${firing !== undefined ? `#${firing}` : ''}`;
}

export function compileIgnore(patterns: string[]): RegExp[] {
  return patterns.map((p) => new RegExp(p, 'i'));
}

/** States from which a resolved message closes a problem. */
export const RESOLVABLE: readonly AlertState[] = ['pending', 'notifying', 'unacknowledged', 'failed', 'delivered'];

const DELIVERY_STATE: Record<Decision, DeliveryState> = { deliver: 'queued', ignore: 'ignored', suppress: 'suppressed', cancel: 'cancelled' };

/** One recipient's decision, before the resolved-notice rules. */
export function decideFor(opts: { subject: string; ignore: RegExp[]; lastSentAt: number | null; now: number; dedupeWindowMs: number }): Decision {
  if (opts.ignore.some((re) => re.test(opts.subject))) return 'ignore';
  if (opts.dedupeWindowMs > 0 && opts.lastSentAt !== null && opts.lastSentAt >= opts.now - opts.dedupeWindowMs) return 'suppress';
  return 'deliver';
}

/** The alert's own state from its recipients' decisions. */
export function alertStateOf(decisions: Decision[]): AlertState {
  if (decisions.every((d) => d === 'ignore')) return 'ignored';
  if (decisions.every((d) => d !== 'deliver')) return decisions.some((d) => d === 'suppress') ? 'suppressed' : 'cancelled';
  return 'pending';
}

/** Alerts of a problem that a monitor's acknowledgement acknowledges. */
const MONITOR_ACKABLE: readonly AlertState[] = ['pending', 'notifying', 'unacknowledged', 'delivered', 'failed'];

/**
 * An earlier send counts as a duplicate only while nothing happened to the problem since: a
 * problem sent before the problem was last resolved is not a duplicate of its re-occurrence, and
 * a recovery sent before the problem last came back is not a duplicate of the next recovery.
 * A change of severity is news too.
 */
function lastRelevantSend(input: AdmitInput, facts: AdmitFacts, email: string): number | null {
  const sent = facts.lastSent.get(email);
  if (!sent) return null;
  const a = input.alert;
  if (a.kind === 'resolved') {
    const lastProblem = Math.max(-Infinity, ...facts.problems.map((p) => p.receivedAt));
    return sent.at > lastProblem ? sent.at : null;
  }
  const lastResolved = Math.max(-Infinity, ...facts.problems.map((p) => p.resolvedAt ?? -Infinity));
  if (sent.at <= lastResolved) return null;
  if (a.level && sent.level && a.level !== sent.level) return null;
  return sent.at;
}

export function admit(input: AdmitInput, facts: AdmitFacts, s: AdmissionSettings): AdmitPlan {
  const a = input.alert;
  if (a.kind === 'ack') return monitorAck(input, facts);
  const resolving = a.kind === 'resolved';
  const resolve = resolving ? facts.problems.filter((p) => RESOLVABLE.includes(p.state)).map((p) => p.id) : [];
  const informed = new Set(resolving ? facts.problems.flatMap((p) => p.informed) : []);
  const unknownProblem = resolving && facts.problems.length === 0;
  // A recovery sent to a route's address reaches whoever the policy paged for the problem.
  const recipients = resolving && input.routed ? [...new Set([...input.recipients, ...informed])] : input.recipients;

  if (input.silence && !resolving && !s.ignore.some((re) => re.test(a.subject))) return silenced(input, resolve);
  const decided = recipients.map((email) => {
    let decision = decideFor({ subject: a.subject, ignore: s.ignore, lastSentAt: lastRelevantSend(input, facts, email), now: a.receivedAt, dedupeWindowMs: s.dedupeWindowMs });
    let note: string | null = null;
    if (decision === 'deliver' && resolving) {
      if (!s.notifyResolved) { decision = 'cancel'; note = 'resolved notices are off (escalation.notifyResolved)'; }
      else if (unknownProblem) { decision = 'cancel'; note = 'no problem known for this recovery (never received, or refused)'; }
      else if (!informed.has(email)) { decision = 'cancel'; note = 'was not notified of the problem'; }
    }
    return { email, decision, note };
  });
  // Nobody yet, but a policy will notify its next steps: pending. Nobody at all: failed, loudly.
  const alertState = decided.length ? alertStateOf(decided.map((d) => d.decision)) : input.policies?.length ? 'pending' : 'failed';
  return {
    alertState,
    ...(alertState !== 'pending' ? { note: decided.map((d) => `${d.email}: ${d.decision}${d.note ? ` (${d.note})` : ''}`).join(', ') } : {}),
    deliveries: decided.map((d) => ({ email: d.email, state: DELIVERY_STATE[d.decision], note: d.note, textOnly: resolving || Boolean(input.textOnly) })),
    resolve,
  };
}

/** Under a silence: stored and visible, delivered to nobody until the silence ends. */
function silenced(input: AdmitInput, resolve: number[]): AdmitPlan {
  const sil = input.silence!;
  const note = `silenced by silence ${sil.id} until ${new Date(sil.until).toISOString()}${sil.comment ? ` (${sil.comment})` : ''}`;
  return {
    alertState: 'silenced',
    note,
    deliveries: input.recipients.map((email) => ({ email, state: 'silenced' as const, note, textOnly: Boolean(input.textOnly) })),
    resolve,
  };
}

/** Someone acknowledged in the monitor: the open alerts of the problem are acknowledged, and nobody is called for it. */
function monitorAck(input: AdmitInput, facts: AdmitFacts): AdmitPlan {
  const a = input.alert;
  const ids = facts.problems.filter((p) => MONITOR_ACKABLE.includes(p.state)).map((p) => p.id);
  const note = 'an acknowledgement in the monitor: nobody is called for it';
  return {
    alertState: 'cancelled',
    note: ids.length ? `${note}; acknowledges alert${ids.length > 1 ? 's' : ''} ${ids.join(', ')}` : `${note}; no open alert of this problem`,
    deliveries: input.recipients.map((email) => ({ email, state: 'cancelled' as const, note, textOnly: true })),
    resolve: [],
    ...(ids.length ? { acknowledge: { ids, by: input.ackBy ?? 'monitor', via: `monitor${a.monitor ? ` (${a.monitor})` : ''}` } } : {}),
  };
}

/** The store's callback: admission with these settings. */
export function admissionRules(s: AdmissionSettings): AdmitDecide {
  return (input, facts) => admit(input, facts, s);
}

/** An accepted message as the receivers (SMTP, HTTP) hand it to admission. */
export interface NewAlert {
  parsed: ParsedAlert;
  raw: Buffer;
  mailFrom?: string;
  rcpt: string[];
  client?: string;
  /** The people it is for (users resolved from the envelope recipients). */
  recipients: { email: string }[];
  receivedAt: number;
  /** Channels to use instead of the user's/global order (send-test --channel). */
  plan?: string[];
  /** Escalation policies that run for it (routing chose them; their first step's people are in recipients). */
  policies?: AdmitInput['policies'];
  /** A silence covers it: stored silenced, delivered when the silence ends if still open. */
  silence?: AdmitInput['silence'];
  /** Deliveries on text channels only (notices). */
  textOnly?: boolean;
  /** It came to a route's address (see AdmitInput.routed). */
  routed?: boolean;
}

/** The store's input row for a new alert. */
export function admitInput(a: NewAlert): AdmitInput {
  const p = a.parsed;
  return {
    alert: {
      receivedAt: a.receivedAt, kind: p.kind, subject: p.subject, host: p.host ?? null, severity: p.severity ?? null,
      level: p.level ?? null, sentence: p.sentence ?? null, monitor: p.monitor ?? null, eventId: p.eventId ?? null,
      problemKey: p.problemKey, text: p.text, mailFrom: a.mailFrom ?? null, rcpt: a.rcpt, messageId: p.messageId ?? null,
      client: a.client ?? null, raw: a.raw,
    },
    recipients: [...new Set(a.recipients.map((u) => u.email.toLowerCase()))],
    dedupeKey: dedupeKey(p.kind, p.problemKey, p.firing),
    plan: a.plan ?? null,
    ...(p.ackBy ? { ackBy: p.ackBy } : {}),
    ...(a.policies?.length ? { policies: a.policies } : {}),
    ...(a.silence ? { silence: a.silence } : {}),
    ...(a.textOnly ? { textOnly: true } : {}),
    ...(a.routed ? { routed: true } : {}),
  };
}
