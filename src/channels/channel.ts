/**
 * The one interface every delivery channel implements. The dispatcher knows nothing of AT
 * commands, SIP or SMTP: it hands a job and an abort signal to a channel and records the outcome.
 */
import type { ChannelName } from '../config/channel-names.js';
export { CHANNEL_NAMES, type ChannelName } from '../config/channel-names.js';

export type OutcomeKind =
  | 'delivered' // text handed over (mail accepted by relay, SMS accepted by SMSC)
  | 'answered' // call answered, message played, no acknowledgement key (voicemail answers too)
  | 'acknowledged' // a person pressed the acknowledge key
  | 'busy'
  | 'no-answer'
  | 'rejected' // declined / unknown number / permanent refusal
  | 'failed'; // technical failure

export interface Outcome {
  kind: OutcomeKind;
  /** Short human-readable reason: "486 Busy Here", "+CMS ERROR: 38", "250 2.0.0 queued as X". */
  reason: string;
  /** Whether trying the same channel again later makes sense. */
  retryable: boolean;
  /** Channel-specific facts worth keeping in history (SMS references, SIP Call-ID, ...). */
  detail?: Record<string, unknown>;
}

import type { AlertView, Recipient } from '../core/model.js';
export type { AlertKind, AlertView, Recipient } from '../core/model.js';

/** Voice channels place calls (an acknowledgement key ends the walk); text channels inform. */
export type ChannelKind = 'voice' | 'text';

export interface DeliveryJob {
  alert: AlertView;
  recipient: Recipient;
  /** The address this channel gave for the recipient (phone number, SIP URI, e-mail, JID). */
  address: string;
  /** Other alerts still open for this person: a call mentions them ("and 3 more alerts"). */
  moreAlerts: number;
  /** Id of the attempt row this delivery is recorded under. */
  attemptId: number;
}

export interface ChannelHealth {
  healthy: boolean;
  /** e.g. "registered to pbx:5060", "modem: no SIM", "signal 17 (-79 dBm)". */
  detail: string;
}

/** How a text channel retries a retryable failure: up to `retries` more tries, doubling from backoffMs. */
export interface RetryRule {
  retries: number;
  backoffMs: number;
}

/**
 * A channel describes itself (kind, capacity, the address it uses for a person) and composes its
 * own text from src/compose helpers. The dispatcher names no channel: it only reads these.
 */
export interface Channel {
  readonly name: ChannelName;
  readonly kind: ChannelKind;
  /** Deliveries this channel can run at once (one modem line, N SIP calls, relay connections). */
  readonly capacity: number;
  /** Retry rule for retryable failures; none means a failed step moves on. */
  readonly retry?: RetryRule;
  /** The address used to reach this person, or null when they have none this channel can use. */
  address(recipient: Recipient): string | null;
  health(): ChannelHealth;
  /**
   * Delivers one job. Must resolve (never reject) with an outcome, and must honour the signal:
   * when aborted, stop promptly and cleanly (hang up, nothing half-sent) and resolve.
   */
  deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome>;
  /** Optional start/stop for channels holding resources (modem, SIP registration). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** Channel-specific status for `alertline status` (registration, signal...). */
  status?(): unknown;
}

export function outcome(kind: OutcomeKind, reason: string, retryable = false, detail?: Record<string, unknown>): Outcome {
  return { kind, reason, retryable, ...(detail ? { detail } : {}) };
}

/** Who wrote back, by the address a channel knows them by. */
export interface Sender {
  phone?: string;
  sip?: string;
  xmpp?: string;
}

/**
 * Messages that arrive outside a delivery: an SMS reply read from the modem, a chat reply, a call
 * from a user's phone. The daemon reads them with the core's reply grammar and acts.
 */
export interface InboundSink {
  /** A person wrote back. Resolves to the text to answer them with, or null for no answer. */
  message(from: Sender, text: string, via: string): Promise<string | null>;
  /** A person called the appliance (rejected unanswered): acknowledges their latest alert. */
  callBack(from: Sender, via: string): Promise<string | null>;
}

