/**
 * Registration client (RFC 3261 §10.2): one Call-ID for the life of the binding, CSeq growing by
 * one for every REGISTER (a refresh is always a new request), digest on 401/407, 423 honoured via
 * Min-Expires, refresh at half the granted expiry, and retries with backoff after a failure.
 */
import { clampDelay } from '../../../../util/timers.js';
import { parseDeltaSeconds } from '../syntax/parse.js';
import { contactsOf, type SipResponse } from '../syntax/message.js';
import { isSipUri, parseUri } from '../syntax/uri.js';
import { randomToken } from '../transaction/branch.js';
import type { Endpoint } from '../transport/transport.js';
import type { FinalResult, SipUserAgent } from './user-agent.js';

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed';

export interface RegistrationStatus {
  state: RegistrationState;
  /** Why it failed, or the last server answer. */
  reason: string;
  /** When the current binding runs out (ms since epoch). */
  expiresAt?: number;
  /** The expiry the registrar granted, in seconds. */
  grantedExpires?: number;
  /** When the next REGISTER (refresh or retry) goes out (ms since epoch). */
  nextAttemptAt?: number;
  /** Consecutive failures (resets on success). */
  failures: number;
  contact: string;
}

export interface RegistrationOptions {
  /** Requested expiry in seconds. */
  expires: number;
  registrar: Endpoint;
  /** Backoff after failure: first delay and cap, in ms. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Each registration attempt's last answer (or timeout / transport error), after the state has
   * been updated: the server pool reads from it whether the registrar is down.
   */
  onResult?: (result: FinalResult, registered: boolean) => void;
}

export class Registration {
  readonly callId: string;
  private readonly fromTag = randomToken(6);
  private cseq = 0;
  private requested: number;
  private status_: RegistrationStatus;
  private cancelTimer: (() => void) | undefined;
  private stopped = false;
  private inFlight: Promise<void> | undefined;
  private last: FinalResult | undefined;
  private readonly listeners = new Set<(s: RegistrationStatus) => void>();

  constructor(
    private readonly ua: SipUserAgent,
    private readonly opts: RegistrationOptions,
  ) {
    this.callId = ua.newCallId();
    this.requested = requestedExpires(opts.expires);
    this.status_ = { state: 'unregistered', reason: 'not started', failures: 0, contact: ua.contactUri() };
  }

  status(): RegistrationStatus {
    return { ...this.status_ };
  }

  onChange(fn: (s: RegistrationStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** CSeq of the last REGISTER sent (for tests and status). */
  get lastCSeq(): number {
    return this.cseq;
  }

  /** First registration; resolves when it succeeded or failed (a failure schedules retries). */
  start(): Promise<void> {
    this.stopped = false;
    return this.attempt();
  }

  /** Removes the binding (Expires: 0) and stops refreshing. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.inFlight?.catch(() => {});
    if (this.status_.state !== 'registered') {
      this.set({ state: 'unregistered', reason: 'stopped', nextAttemptAt: undefined });
      return;
    }
    const result = await this.send(0);
    this.set({
      state: 'unregistered',
      reason: result.kind === 'response' ? `unregistered (${result.response.status})` : `unregister: ${result.kind}`,
      expiresAt: undefined,
      grantedExpires: undefined,
      nextAttemptAt: undefined,
    });
  }

  /**
   * The connection the binding was made over is gone (SIP over TLS/TCP without a listening port):
   * the registrar can no longer reach us through it, so register again soon over a new one
   * (1 s: a registrar closing every connection at once costs one REGISTER a second at most;
   * failures back off as usual).
   */
  reconnected(): void {
    if (this.stopped || this.inFlight) return;
    if (this.status_.state !== 'registered') return; // a failed registration already has its retry scheduled
    this.ua.logger.info('sip.register.flow_lost', { reason: 'connection to the registrar closed' });
    this.schedule(1000);
  }

  /** A failed registration tries again now instead of at the end of its backoff (the registrar is known to be back). */
  retryNow(): void {
    if (this.stopped || this.inFlight || this.status_.state === 'registered') return;
    this.schedule(0);
  }

  private attempt(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const p = this.run().finally(() => {
      if (this.inFlight === p) this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  private async run(): Promise<void> {
    if (this.status_.state !== 'registered') this.set({ state: 'registering' });
    let briefRetries = 0;
    let addressRetries = 0;
    for (;;) {
      const result = await this.send(this.requested);
      this.last = result;
      if (this.stopped) return;
      if (result.kind !== 'response') {
        return this.fail(result.kind === 'timeout' ? 'no answer from registrar (timeout)' : result.kind === 'auth-failed' ? result.error : `transport error: ${result.error.message}`);
      }
      const res = result.response;
      if (res.status === 423 && briefRetries++ < 3) {
        const min = res.headers.get('Min-Expires');
        const minExpires = min !== undefined ? parseDeltaSeconds(min) : NaN;
        if (!Number.isFinite(minExpires) || minExpires <= this.requested) return this.fail('423 Interval Too Brief without a usable Min-Expires');
        this.ua.logger.info('sip.register.min_expires', { minExpires });
        this.requested = requestedExpires(minExpires);
        continue;
      }
      if (res.status < 200 || res.status >= 300) return this.fail(`${res.status} ${res.reason}`);
      // NAT: the registrar saw us elsewhere; bind the address it can reach instead (RFC 3581).
      const seen = this.ua.observedAddress(res);
      if (seen && addressRetries++ < 1 && this.ua.learnPublicAddress(seen)) continue;
      const granted = this.grantedExpires(res);
      if (granted <= 0) return this.fail('registrar granted no expiry');
      const now = this.ua.clock.now();
      this.set({
        state: 'registered',
        reason: `${res.status} ${res.reason}`,
        grantedExpires: granted,
        expiresAt: now + granted * 1000,
        failures: 0,
        contact: this.ua.contactUri(),
      });
      this.schedule(refreshDelayMs(granted));
      this.opts.onResult?.(result, true);
      return;
    }
  }

  private send(expires: number): Promise<FinalResult> {
    const to = `<${this.ua.aor}>`;
    return this.ua.requestWithAuth(
      (auth) =>
        this.ua.buildRequest({
          method: 'REGISTER',
          uri: this.ua.registrarUri,
          from: this.ua.localParty(this.fromTag),
          to,
          callId: this.callId,
          cseq: ++this.cseq,
          contact: true,
          expires,
          allow: true,
          auth,
        }),
      this.opts.registrar,
    );
  }

  /** Expiry for our binding: the Contact's expires param, else Expires, else what we asked. */
  private grantedExpires(res: SipResponse): number {
    const ours = this.ua.contactUri();
    try {
      for (const c of contactsOf(res)) {
        if (sameBinding(c.uri, ours)) {
          const e = c.params.get('expires');
          if (e) return parseDeltaSeconds(e);
        }
      }
    } catch {
      // unparsable Contact list: fall back to Expires
    }
    const e = res.headers.get('Expires');
    if (e !== undefined) return parseDeltaSeconds(e);
    return this.requested;
  }

  private fail(reason: string): void {
    const failures = this.status_.failures + 1;
    const min = this.opts.retryMinMs ?? 5_000;
    const max = this.opts.retryMaxMs ?? 300_000;
    const delay = Math.min(max, min * 2 ** Math.min(failures - 1, 16));
    this.ua.logger.warn('sip.register.failed', { reason, failures, retryInMs: delay });
    this.set({ state: 'failed', reason, failures, expiresAt: undefined });
    this.schedule(delay);
    if (this.last) this.opts.onResult?.(this.last, false);
  }

  private schedule(ms: number): void {
    this.cancelTimer?.();
    if (this.stopped) return;
    const delay = clampDelay(ms, MAX_REFRESH_MS);
    this.set({ nextAttemptAt: this.ua.clock.now() + delay });
    this.cancelTimer = this.ua.clock.setTimer(() => {
      this.cancelTimer = undefined;
      void this.attempt();
    }, delay);
  }

  private set(patch: Partial<RegistrationStatus>): void {
    this.status_ = { ...this.status_, ...patch };
    for (const k of Object.keys(patch) as (keyof RegistrationStatus)[]) if (patch[k] === undefined) delete this.status_[k];
    for (const fn of this.listeners) fn(this.status());
  }
}

/**
 * Longest wait before the next REGISTER: a day. A registrar may grant (or be asked for) far
 * longer, up to 2^32-1 s, which as a timer would overflow Node's 2^31-1 ms limit and fire at once.
 */
export const MAX_REFRESH_MS = 86_400_000;

/** Refresh at half the granted expiry, at least 1 s and at most a day later. */
export function refreshDelayMs(grantedSeconds: number): number {
  if (!Number.isFinite(grantedSeconds)) return MAX_REFRESH_MS;
  return Math.min(MAX_REFRESH_MS, Math.max(1000, Math.floor((grantedSeconds * 1000) / 2)));
}

/** The Expires we ask for: a whole number of seconds, 1 … 2^32-1 (delta-seconds, §20.19). */
function requestedExpires(seconds: number): number {
  if (!Number.isFinite(seconds)) return 2 ** 32 - 1;
  return Math.min(2 ** 32 - 1, Math.max(1, Math.round(seconds)));
}

function sameBinding(a: string, b: string): boolean {
  try {
    const ua = parseUri(a);
    const ub = parseUri(b);
    if (!isSipUri(ua) || !isSipUri(ub)) return false;
    return ua.user === ub.user && ua.host.toLowerCase() === ub.host.toLowerCase() && (ua.port ?? 5060) === (ub.port ?? 5060);
  } catch {
    return false;
  }
}
