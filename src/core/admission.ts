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

/** Dedupe is per recipient and per event: a second on-call person still gets it; two hosts stay two alerts. */
export function dedupeKey(kind: AlertKind, problemKey: string): string {
  return `${kind}:${problemKey}`;
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

export function admit(input: AdmitInput, facts: AdmitFacts, s: AdmissionSettings): AdmitPlan {
  const a = input.alert;
  const resolving = a.kind === 'resolved';
  const resolve = resolving ? facts.problems.filter((p) => RESOLVABLE.includes(p.state)).map((p) => p.id) : [];
  const informed = new Set(resolving ? facts.problems.flatMap((p) => p.informed) : []);

  const decided = input.recipients.map((email) => {
    let decision = decideFor({ subject: a.subject, ignore: s.ignore, lastSentAt: facts.lastSent.get(email)?.at ?? null, now: a.receivedAt, dedupeWindowMs: s.dedupeWindowMs });
    let note: string | null = null;
    if (decision === 'deliver' && resolving) {
      if (!s.notifyResolved) { decision = 'cancel'; note = 'resolved notices are off (escalation.notifyResolved)'; }
      else if (resolve.length && !informed.has(email)) { decision = 'cancel'; note = 'was not notified of the problem'; }
    }
    return { email, decision, note };
  });
  const alertState = alertStateOf(decided.map((d) => d.decision));
  return {
    alertState,
    ...(alertState !== 'pending' ? { note: decided.map((d) => `${d.email}: ${d.decision}`).join(', ') } : {}),
    deliveries: decided.map((d) => ({ email: d.email, state: DELIVERY_STATE[d.decision], note: d.note, textOnly: resolving })),
    resolve,
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
    dedupeKey: dedupeKey(p.kind, p.problemKey),
    plan: a.plan ?? null,
  };
}
