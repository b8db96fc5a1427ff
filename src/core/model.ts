/**
 * The alert lifecycle's vocabulary: what an alert is, the states it and its deliveries move
 * through, and the table of allowed state changes. Pure: no I/O. Every other layer names these.
 */

import type { AlertKind, AlertState, DeliveryState } from '../store/rows.js';
export type { AlertKind, AlertState, DeliveryState } from '../store/rows.js';

/** A severity every monitor's words map onto, so policies and contact rules can compare. */
export const SEVERITY_LEVELS = ['info', 'warning', 'average', 'high', 'critical'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

/** Which monitor wrote the message (the recogniser that understood it). */
export type MonitorName = 'zabbix' | 'alertmanager' | 'nagios' | 'grafana' | 'generic' | 'alertline';

/** What a receiver (SMTP, HTTP) makes of one incoming message, before admission. */
export interface ParsedAlert {
  kind: AlertKind;
  subject: string;
  /** Plain text of the message (monitor body). */
  text: string;
  host?: string;
  /** Severity as the monitor wrote it ("High", "CRITICAL", "critical"). */
  severity?: string;
  /** The same on the common scale, when it could be mapped. */
  level?: SeverityLevel;
  eventId?: string;
  from?: string;
  messageId?: string;
  /** Stable identity of the problem: a resolved/ack message finds its problem by it. */
  problemKey: string;
  /** The best one-line sentence to speak and text ("CPU usage above 90% on web01"). */
  sentence?: string;
  monitor?: MonitorName;
  /** For kind 'ack': who acknowledged in the monitor. */
  ackBy?: string;
  /** Alertmanager grouped alerts: how many are firing in the group now. */
  firing?: number;
}

/** Alert states in which notification may still go on. */
export const OPEN_ALERT_STATES: readonly AlertState[] = ['pending', 'notifying'];
/** Delivery states that still need work (count toward filter.maxPending). */
export const OPEN_DELIVERY_STATES: readonly DeliveryState[] = ['queued', 'running'];

/**
 * The allowed alert state changes. Acknowledging and resolving are possible from every state in
 * which someone may still care (notification running or ended without an acknowledgement).
 */
export const ALERT_TRANSITIONS: Readonly<Record<AlertState, readonly AlertState[]>> = {
  pending: ['notifying', 'acknowledged', 'resolved', 'unacknowledged', 'delivered', 'failed', 'cancelled', 'ignored', 'suppressed', 'silenced'],
  notifying: ['acknowledged', 'resolved', 'unacknowledged', 'delivered', 'failed', 'cancelled'],
  unacknowledged: ['acknowledged', 'resolved'],
  delivered: ['acknowledged', 'resolved'],
  failed: ['acknowledged', 'resolved', 'notifying'],
  acknowledged: ['resolved'],
  silenced: ['resolved', 'pending', 'cancelled'],
  resolved: [],
  ignored: [],
  suppressed: [],
  cancelled: [],
};

export function canMove(from: AlertState, to: AlertState): boolean {
  return ALERT_TRANSITIONS[from].includes(to);
}

/** The states from which an alert may move to `to` (the store turns this into its WHERE clause). */
export function statesMovableTo(to: AlertState): AlertState[] {
  return (Object.keys(ALERT_TRANSITIONS) as AlertState[]).filter((s) => canMove(s, to));
}

/** What a channel needs to know about the alert (read-only view of the stored alert). */
export interface AlertView {
  id: number;
  kind: AlertKind;
  subject: string;
  host?: string;
  severity?: string;
  level?: SeverityLevel;
  eventId?: string;
  sentence?: string;
  /** Plain-text body of the message. */
  text: string;
  from?: string;
  receivedAt: number;
  /** The original message as received (mail relay forwards it). */
  raw: Buffer;
}

/** A person a delivery reaches, with every address a channel may use. */
export interface Recipient {
  email: string;
  name?: string;
  /** E.164 phone number (gsm, sms). */
  phone?: string;
  /** SIP extension or URI (voip, sipmsg). */
  sip?: string;
  /** XMPP JID. */
  xmpp?: string;
  /** Language for speech and texts (e.g. "en", "es"). */
  lang: string;
}
