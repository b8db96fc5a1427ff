/**
 * What is known about the modem right now (state, registration, signal, operator, the last error,
 * failure counters), and how it reads for `alertline status` and a channel's health line.
 */
import type { ChannelHealth } from '../../channel.js';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import type { Registration, Signal } from '../at-parser.js';

export type ModemState =
  | 'stopped'
  | 'opening'
  | 'initializing'
  | 'ready'
  | 'disconnected' // port closed or cannot be opened; reopening with backoff
  | 'no-response' // port open, module does not answer AT
  | 'init-failed' // a bring-up command failed; retried at the next health poll
  | 'sim-pin-required' // SIM wants a PIN and gsm.pin is empty
  | 'pin-rejected' // gsm.pin was wrong: never retried (PUK lock risk)
  | 'sim-error' // no SIM, PUK-locked, SIM failure
  | 'powered-down';

export interface ModemStatus {
  state: ModemState;
  port: string;
  healthy: boolean;
  registered: boolean;
  registration?: { stat: number; text: string };
  signal?: { rssi: number; dbm: number | null; ber: number };
  operator?: string;
  lastError?: string;
  lastErrorAt?: number;
  /** Consecutive failed health polls. */
  failures: number;
  reconnects: number;
  lastBringUpAt?: number;
  inCall: boolean;
}

export class StatusBook {
  state: ModemState = 'stopped';
  registration: Registration | undefined;
  signal: Signal | undefined;
  operator: string | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  failures = 0;
  reconnects = 0;
  lastBringUpAt: number | undefined;

  constructor(
    private readonly port: string,
    private readonly failureThreshold: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Moves to a failure state, recording why. */
  fail(state: ModemState, message: string): void {
    this.state = state;
    this.setError(message);
    this.log.warn('gsm.state', { state, error: message });
  }

  setError(message: string): void {
    this.lastError = message;
    this.lastErrorAt = this.clock.now();
  }

  /** The port went away: what was measured on it no longer holds. */
  lost(message: string): void {
    this.fail('disconnected', message);
    this.registration = undefined;
    this.signal = undefined;
  }

  snapshot(portOpen: boolean, inCall: boolean): ModemStatus {
    const healthy = this.state === 'ready' && portOpen && (this.registration?.registered ?? false) && this.failures < this.failureThreshold;
    return {
      state: this.state,
      port: this.port,
      healthy,
      registered: this.registration?.registered ?? false,
      ...(this.registration ? { registration: { stat: this.registration.stat, text: this.registration.text } } : {}),
      ...(this.signal ? { signal: { ...this.signal } } : {}),
      ...(this.operator !== undefined ? { operator: this.operator } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError, lastErrorAt: this.lastErrorAt } : {}),
      failures: this.failures,
      reconnects: this.reconnects,
      ...(this.lastBringUpAt !== undefined ? { lastBringUpAt: this.lastBringUpAt } : {}),
      inCall,
    };
  }
}

/** The one-line health a channel reports: "registered (home), signal 17 (-79 dBm), SimNet". */
export function describeStatus(s: ModemStatus): ChannelHealth {
  if (s.state !== 'ready') return { healthy: s.healthy, detail: `modem ${s.state}${s.lastError ? `: ${s.lastError}` : ''}` };
  const parts: string[] = [];
  parts.push(s.registration ? s.registration.text : 'registration unknown');
  if (s.signal) parts.push(s.signal.dbm === null ? 'signal unknown' : `signal ${s.signal.rssi} (${s.signal.dbm} dBm)`);
  if (s.operator) parts.push(s.operator);
  if (s.failures > 0) parts.push(`${s.failures} failed health polls (${s.lastError ?? ''})`);
  return { healthy: s.healthy, detail: parts.join(', ') };
}
