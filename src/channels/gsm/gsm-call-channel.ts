/**
 * The `gsm` channel: a voice call through the SIM900. Dial, then AT+CLCC polling (and the call
 * progress events) until answered, busy, refused or the ring timeout. The prompts are rendered
 * while it rings (ATD first: the answer takes seconds, synthesis tens of milliseconds that would
 * otherwise delay the dial); once answered the shared
 * conversation (src/channels/calls) runs over a GSM call leg: prompts are WAV files played by
 * gsm.audioCommand into the modem's audio input, keys come as +DTMF events. The call never
 * outlives gsm.maxCallDuration, the line is always hung up at the end and every audio process
 * is reaped. Only typed modem operations are used here; no AT text.
 */
import { voiceText } from '../../compose/texts.js';
import type { PromptAudio } from '../../audio/prompt-audio.js';
import { converse, type CallTimings } from '../calls/index.js';
import type { Channel, ChannelHealth, DeliveryJob, Outcome, Recipient } from '../channel.js';
import { outcome } from '../channel.js';
import type { GsmConfig, VoiceConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { AtError } from './at-engine.js';
import type { CallListEntry, FinalResult } from './at-parser.js';
import { CallPrompts, GsmCallLeg } from './gsm-call-leg.js';
import { EventQueue } from './call-events.js';
import type { CallProgressCode, ModemEvent } from './modem/events.js';
import type { ModemStatus } from './modem/status.js';
import type { SharedModem } from './modem/shared-modem.js';
import { guarded, phoneAddress, phoneTarget } from './phone-target.js';
import type { ModemLink } from './sim900-modem.js';

export interface GsmCallChannelOptions {
  /** The modem, shared with the sms channel. */
  modem: SharedModem;
  audio: PromptAudio;
  voice: VoiceConfig;
  gsm: GsmConfig;
  logger: Logger;
  clock?: Clock;
  /** AT+CLCC poll interval (ms, default 1000). */
  pollInterval?: number;
  /** The conversation's timings (key wait after the last play, gap between plays); tests shorten them. */
  timings?: Partial<CallTimings>;
}

/** What happens on the line while the call rings. */
type RingEvent =
  | { type: 'progress'; code: CallProgressCode }
  | { type: 'key' }
  | { type: 'calls'; calls: CallListEntry[] }
  | { type: 'poll-failed'; error: string; fatal: boolean }
  | { type: 'ring-timeout' }
  | { type: 'max-duration' }
  | { type: 'abort' };

/** Consecutive failed AT+CLCC polls after which the call is given up. */
const MAX_POLL_FAILURES = 3;
/** Polls that may pass before the dialled call shows up in AT+CLCC. */
const MAX_UNLISTED_POLLS = 5;

/** What ATD's final result (or the same code arriving later as an event) means for the delivery. */
export function mapDialFinal(final: FinalResult): Outcome {
  switch (final.code) {
    case 'BUSY':
      return outcome('busy', 'BUSY', true);
    case 'NO ANSWER':
      return outcome('no-answer', 'NO ANSWER', true);
    case 'NO CARRIER':
      return outcome('no-answer', 'NO CARRIER (call ended before answer)', true);
    case 'NO DIALTONE':
      return outcome('failed', 'NO DIALTONE (no network)', true);
    case 'CME ERROR':
    case 'ERROR':
      return outcome('failed', `dial refused: ${final.line}`, true);
    default:
      return outcome('failed', `unexpected dial result: ${final.line}`, true);
  }
}

export class GsmCallChannel implements Channel {
  readonly name = 'gsm' as const;
  readonly kind = 'voice' as const;
  /** One modem, one call at a time. */
  readonly capacity = 1;
  private readonly shared: SharedModem;
  private readonly audio: PromptAudio;
  private readonly log: Logger;
  private readonly deps: AttemptDeps;

  constructor(opts: GsmCallChannelOptions) {
    this.shared = opts.modem;
    this.audio = opts.audio;
    this.log = opts.logger.child({ channel: 'gsm' });
    this.deps = {
      modem: opts.modem.link,
      voice: opts.voice,
      gsm: opts.gsm,
      log: this.log,
      clock: opts.clock ?? systemClock,
      pollInterval: opts.pollInterval ?? 1000,
      ...(opts.timings ? { timings: opts.timings } : {}),
    };
  }

  address(recipient: Recipient): string | null {
    return phoneAddress(recipient);
  }

  start(): Promise<void> {
    return this.shared.acquire();
  }

  stop(): Promise<void> {
    return this.shared.release();
  }

  health(): ChannelHealth {
    return this.shared.link.health();
  }

  status(): ModemStatus {
    return this.shared.link.status();
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    return guarded(this.log, 'gsm.call_crashed', job.alert.id, () => this.deliverInner(job, signal));
  }

  private async deliverInner(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    const modem = this.deps.modem;
    const target = phoneTarget(job.recipient);
    if ('outcome' in target) return target.outcome;
    const number = target.number;
    if (signal.aborted) return outcome('failed', 'aborted before dialing', true);
    if (!modem.isReady()) return outcome('failed', `modem not ready: ${modem.health().detail}`, true);

    // Rendered once ATD has gone out (CallAttempt calls prepare()): dial first, speak later.
    const lang = job.recipient.lang || this.deps.voice.lang;
    const text = voiceText(job.alert, lang, job.moreAlerts);
    const prompts = new CallPrompts({ message: () => this.audio.callWav(text, lang), phrase: (k) => this.audio.phraseWav(k, lang) });

    let release: () => void;
    try {
      release = await modem.acquireCall(signal);
    } catch {
      return outcome('failed', 'aborted before dialing', true);
    }
    try {
      if (!modem.isReady()) return outcome('failed', `modem not ready: ${modem.health().detail}`, true);
      const result = await new CallAttempt(this.deps, number, prompts, signal).run();
      this.log.info('gsm.call_done', { alert: job.alert.id, outcome: result.kind, reason: result.reason });
      return result;
    } finally {
      release();
    }
  }
}

interface AttemptDeps {
  modem: ModemLink;
  voice: VoiceConfig;
  gsm: GsmConfig;
  log: Logger;
  clock: Clock;
  pollInterval: number;
  timings?: Partial<CallTimings>;
}

/** One call from dialling to hanging up. */
class CallAttempt {
  private readonly q = new EventQueue<RingEvent>();
  private readonly timers: Array<() => void> = [];
  private leg: GsmCallLeg | null = null;
  private polling = false;
  private pollLoop: Promise<void> = Promise.resolve();
  private cancelPollSleep: (() => void) | null = null;
  private pollFailures = 0;
  private unlistedPolls = 0;
  private seenInList = false;
  private dialedAt = 0;
  private answeredAt: number | undefined;
  private finished: Promise<void> | null = null;

  constructor(
    private readonly d: AttemptDeps,
    private readonly number: string,
    private readonly prompts: CallPrompts,
    private readonly signal: AbortSignal,
  ) {}

  async run(): Promise<Outcome> {
    const unsubscribe = this.d.modem.onEvent((e) => this.onModemEvent(e));
    const onAbort = () => this.q.push({ type: 'abort' });
    this.signal.addEventListener('abort', onAbort, { once: true });
    let result: Outcome;
    try {
      result = await this.dialAndTalk();
    } catch (e) {
      result = outcome('failed', `call failed: ${(e as Error).message}`, true);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      await this.finish();
      unsubscribe();
    }
    return this.withDetail(result);
  }

  private withDetail(o: Outcome): Outcome {
    const now = this.d.clock.now();
    const detail: Record<string, unknown> = {
      number: this.number,
      answered: this.answeredAt !== undefined,
      ...(this.answeredAt !== undefined
        ? { ringMs: this.answeredAt - this.dialedAt, talkMs: now - this.answeredAt }
        : { ringMs: now - this.dialedAt }),
    };
    return { ...o, detail: { plays: 0, ...(o.detail ?? {}), ...detail } };
  }

  private timer(ms: number, ev: RingEvent): () => void {
    const cancel = this.d.clock.setTimer(() => this.q.push(ev), ms);
    this.timers.push(cancel);
    return cancel;
  }

  /** Modem events go to the ringing state machine until the answer, to the call leg after. */
  private onModemEvent(e: ModemEvent): void {
    const leg = this.leg;
    if (e.type === 'key') {
      if (leg) leg.emit({ type: 'key', key: e.key, via: 'dtmf' });
      else {
        // A key can only come from an answered call: it is the answer, and the conversation gets the key.
        this.pendingKeys.push(e.key);
        this.q.push({ type: 'key' });
      }
    } else if (e.type === 'call-progress') {
      if (!leg) this.q.push({ type: 'progress', code: e.code });
      else if (e.code === 'NO CARRIER') leg.emit({ type: 'hangup' });
    }
  }

  private readonly pendingKeys: string[] = [];

  /** Polls and timers after the answer, as call-leg events. */
  private onPollWhileTalking(ev: RingEvent): void {
    const leg = this.leg!;
    if (ev.type === 'calls') {
      this.pollFailures = 0;
      const call = ourCall(ev.calls);
      if (!call || call.stat === 6) leg.emit({ type: 'hangup' });
    } else if (ev.type === 'poll-failed') {
      if (ev.fatal) leg.emit({ type: 'lost', reason: `modem lost during the call: ${ev.error}` });
      else if (++this.pollFailures >= MAX_POLL_FAILURES) leg.emit({ type: 'lost', reason: `modem stopped answering: ${ev.error}` });
    }
  }

  private async dialAndTalk(): Promise<Outcome> {
    const { gsm, log, modem } = this.d;
    if (this.signal.aborted) return outcome('failed', 'aborted before dialing', true);
    this.dialedAt = this.d.clock.now();
    this.timer(gsm.maxCallDuration, { type: 'max-duration' });
    const cancelRing = this.timer(gsm.ringTimeout, { type: 'ring-timeout' });
    log.info('gsm.dial', { number: this.number });
    let final: FinalResult;
    try {
      final = await modem.dial(this.number, { timeout: Math.max(gsm.commandTimeout * 2, 10_000) });
    } catch (e) {
      return outcome('failed', `dial failed: ${(e as Error).message}`, true);
    }
    if (final.code !== 'OK') return mapDialFinal(final);
    // The call is placed: render the prompts while it rings.
    this.prompts.prepare();
    this.startPolling();

    // ---- ringing ----
    for (;;) {
      const ev = await this.q.next();
      if (ev.type === 'abort') return outcome('failed', 'aborted while ringing', true);
      if (ev.type === 'ring-timeout') return outcome('no-answer', `no answer within ${Math.round(gsm.ringTimeout / 1000)} s`, true);
      if (ev.type === 'max-duration') return outcome('no-answer', 'max call duration reached while ringing', true);
      if (ev.type === 'progress') return mapDialFinal({ code: ev.code, line: ev.code });
      if (ev.type === 'key') break;
      if (ev.type === 'poll-failed') {
        if (ev.fatal) return outcome('failed', `modem lost while ringing: ${ev.error}`, true);
        if (++this.pollFailures >= MAX_POLL_FAILURES) return outcome('failed', `modem stopped answering: ${ev.error}`, true);
        continue;
      }
      if (ev.type === 'calls') {
        this.pollFailures = 0;
        const call = ourCall(ev.calls);
        if (call?.stat === 0) break; // answered
        if (call && call.stat !== 6) {
          this.seenInList = true;
          continue;
        }
        if (this.seenInList || call?.stat === 6) return outcome('no-answer', 'call ended before answer', true);
        if (++this.unlistedPolls >= MAX_UNLISTED_POLLS) return outcome('failed', 'dialled call never appeared in AT+CLCC', true);
      }
    }
    cancelRing();
    this.answeredAt = this.d.clock.now();
    log.info('gsm.answered', { number: this.number, ringMs: this.answeredAt - this.dialedAt });

    // ---- answered: the shared conversation ----
    for (const cancel of this.timers.splice(0)) cancel();
    const leg = new GsmCallLeg({ audioCommand: this.d.gsm.audioCommand, clock: this.d.clock, log: this.d.log }, this.prompts, () => this.finish());
    this.leg = leg;
    for (const key of this.pendingKeys.splice(0)) leg.emit({ type: 'key', key, via: 'dtmf' });
    this.q.drain((ev) => this.onPollWhileTalking(ev));
    return converse({
      leg,
      repeat: this.d.voice.repeat,
      maxMs: gsm.maxCallDuration - (this.answeredAt - this.dialedAt),
      signal: this.signal,
      clock: this.d.clock,
      log,
      ...(this.d.timings ? { timings: this.d.timings } : {}),
    });
  }

  // ---- AT+CLCC polling ----

  private startPolling(): void {
    this.polling = true;
    this.pollLoop = (async () => {
      while (this.polling) {
        await new Promise<void>((resolve) => {
          const cancel = this.d.clock.setTimer(resolve, this.d.pollInterval);
          this.cancelPollSleep = () => {
            cancel();
            resolve();
          };
        });
        this.cancelPollSleep = null;
        if (!this.polling) break;
        let ev: RingEvent;
        try {
          ev = { type: 'calls', calls: await this.d.modem.listCalls() };
        } catch (e) {
          const fatal = e instanceof AtError && e.kind === 'port-closed';
          ev = { type: 'poll-failed', error: (e as Error).message, fatal };
          if (fatal) this.polling = false;
        }
        if (this.leg) this.onPollWhileTalking(ev);
        else this.q.push(ev);
      }
    })();
  }

  /** Stops polling and playback, then hangs up (ATH) once: ATH is always the call's last command. */
  private finish(): Promise<void> {
    if (!this.finished) {
      this.finished = (async () => {
        for (const cancel of this.timers.splice(0)) cancel();
        this.polling = false;
        this.cancelPollSleep?.();
        await this.leg?.stopPlayback();
        await this.pollLoop;
        try {
          await this.d.modem.hangUp();
        } catch (e) {
          this.d.log.warn('gsm.hangup_failed', { error: (e as Error).message });
        }
      })();
    }
    return this.finished;
  }
}

/** Our outgoing voice call in an AT+CLCC list (there is only one call at a time). */
function ourCall(calls: CallListEntry[]): CallListEntry | undefined {
  return calls.find((c) => c.dir === 0 && c.mode === 0);
}
