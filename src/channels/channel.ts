/**
 * The one interface every delivery channel implements. The dispatcher knows nothing of AT
 * commands, SIP or SMTP: it hands a job and an abort signal to a channel and records the outcome.
 */
export type ChannelName = 'voip' | 'gsm' | 'sms' | 'mail';
export const CHANNEL_NAMES: readonly ChannelName[] = ['voip', 'gsm', 'sms', 'mail'];

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

/** Texts derived by src/compose for each channel. */
export interface ComposedTexts {
  /** Sentence to speak (without intro and key prompt: the voice channel adds those per language). */
  voice: string;
  /** Short SMS text (one part unless sms.fullText). */
  sms: string;
  /** Whole alert text for sms.fullText. */
  smsFull: string;
}

export interface DeliveryJob {
  alert: AlertView;
  recipient: Recipient;
  texts: ComposedTexts;
  /** Id of the attempt row this delivery is recorded under. */
  attemptId: number;
}

export interface ChannelHealth {
  healthy: boolean;
  /** e.g. "registered to pbx:5060", "modem: no SIM", "signal 17 (-79 dBm)". */
  detail: string;
}

export interface Channel {
  readonly name: ChannelName;
  /** True if the recipient has an address this channel can use (phone for gsm/sms, sip for voip). */
  canReach(recipient: Recipient): boolean;
  health(): ChannelHealth;
  /**
   * Delivers one job. Must resolve (never reject) with an outcome, and must honour the signal:
   * when aborted, stop promptly and cleanly (hang up, nothing half-sent) and resolve.
   */
  deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome>;
  /** Optional start/stop for channels holding resources (modem, SIP registration). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export function outcome(kind: OutcomeKind, reason: string, retryable = false, detail?: Record<string, unknown>): Outcome {
  return { kind, reason, retryable, ...(detail ? { detail } : {}) };
}

/** Acknowledgements that arrive outside a delivery (an SMS reply read from the modem). */
export interface AckSink {
  /**
   * A user (identified by phone number) acknowledged. alertId is the id they named, or undefined
   * for "the latest alert sent to me". Resolves to the alert acknowledged, or null if none matched.
   */
  acknowledgeByPhone(phone: string, alertId: number | undefined, via: string): Promise<number | null>;
}
