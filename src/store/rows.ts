/**
 * The persisted vocabulary: the values the state and kind columns hold, and the rows as the store
 * returns them. The rules that move between states live in src/core; the store only runs SQL.
 */

/** What a monitor's message says happened. */
export type AlertKind = 'problem' | 'resolved' | 'update' | 'ack' | 'test' | 'other';

export type AlertState =
  | 'pending' | 'notifying' | 'acknowledged' | 'resolved' | 'unacknowledged' | 'delivered' | 'failed'
  | 'ignored' | 'suppressed' | 'cancelled' | 'silenced';

export type DeliveryState =
  | 'queued' | 'running' | 'done' | 'unacknowledged' | 'failed' | 'acknowledged' | 'cancelled' | 'suppressed' | 'ignored' | 'silenced';

export interface AlertRow {
  id: number; received_at: number; kind: AlertKind; subject: string; host: string | null; severity: string | null;
  event_id: string | null; problem_key: string; text: string; mail_from: string | null; rcpt: string; message_id: string | null;
  client: string | null; state: AlertState; ack_by: string | null; ack_via: string | null; ack_at: number | null;
  resolved_by: number | null; resolved_at: number | null; updated_at: number;
  level: string | null; sentence: string | null; monitor: string | null;
  silenced_until: number | null;
}

export interface DeliveryRow {
  id: number; alert_id: number; user_email: string; dedupe_key: string; state: DeliveryState; round: number; step: number;
  tries: number; next_at: number; text_only: number; plan: string | null; informed: number; result: string | null; created_at: number; updated_at: number;
  waiting_since: number | null;
  /** The node working on it while lease_until is ahead (several nodes on one PostgreSQL). */
  lease_node?: string | null; lease_until?: number | null;
}

export interface AttemptRow {
  id: number; delivery_id: number; alert_id: number; channel: string; target: string | null; round: number;
  started_at: number; ended_at: number | null; outcome: string | null; reason: string | null; detail: string | null;
  node?: string | null;
}

export interface AlertEventRow { id: number; alert_id: number; at: number; kind: string; detail: string | null }

/** The columns of a new alert, as admission hands them to the store. */
export interface NewAlertRow {
  receivedAt: number;
  kind: AlertKind;
  subject: string;
  host: string | null;
  severity: string | null;
  level: string | null;
  sentence: string | null;
  monitor: string | null;
  eventId: string | null;
  problemKey: string;
  text: string;
  mailFrom: string | null;
  rcpt: string[];
  messageId: string | null;
  client: string | null;
  raw: Buffer;
}

/** One alert to admit: its row, the people it is for, and what dedupe compares. */
export interface AdmitInput {
  alert: NewAlertRow;
  /** Recipient e-mail addresses, lower case, unique. */
  recipients: string[];
  dedupeKey: string;
  /** Channels to use instead of the user's/global order (send-test --channel). */
  plan: string[] | null;
  /** For a monitor's acknowledgement: who acknowledged there. */
  ackBy?: string;
  /** Escalation policies that run for this alert (their first step's people are in recipients). */
  policies?: { name: string; definition: string; startedAt: number; done: string[]; nextAt: number | null }[];
  /** A silence covers the alert: stored silenced until then. */
  silence?: { id: number | string; until: number; comment: string };
  /** It came to a route's address: a recovery or acknowledgement reaches whoever was paged for the problem. */
  routed?: boolean;
  /** Deliveries on text channels only (notices). */
  textOnly?: boolean;
}

/** What the store knows, inside the admitting transaction, about the alert's problem and people. */
export interface AdmitFacts {
  /** Earlier problem/update alerts with the same problem key, newest first (bounded). */
  problems: { id: number; state: AlertState; receivedAt: number; resolvedAt: number | null; level: string | null; informed: string[] }[];
  /** Per recipient: when they were last sent the same dedupe key (not suppressed/ignored/cancelled), or null. */
  lastSent: Map<string, { at: number; level: string | null } | null>;
}

/** What admission decided; the store writes it in the same transaction. */
export interface AdmitPlan {
  alertState: AlertState;
  /** Why the alert is not pending (history line), when it is not. */
  note?: string;
  deliveries: { email: string; state: DeliveryState; note: string | null; textOnly: boolean }[];
  /** Problem alerts this one resolves: marked resolved, their queued deliveries cancelled. */
  resolve: number[];
  /** Problem alerts this one acknowledges (a monitor's acknowledgement). */
  acknowledge?: { ids: number[]; by: string; via: string };
}

export type AdmitDecide = (input: AdmitInput, facts: AdmitFacts) => AdmitPlan;

export interface AdmitResult {
  id: number;
  state: AlertState;
  deliveries: { email: string; state: DeliveryState }[];
  resolved: number[];
  acknowledged: number[];
}

/** An escalation policy running for an alert. */
export interface PolicyRunRow {
  alert_id: number; policy: string; definition: string; started_at: number; events: string; done: string; next_at: number | null; ended: number;
}
