/**
 * The `gsm` channel: a voice call through the SIM900. ATD<number>; then AT+CLCC polling (and the
 * call progress URCs) until answered, busy, refused or the ring timeout (then ATH); once answered
 * the prompt WAV is played through gsm.audioCommand voice.repeat times; key 1 (+DTMF: 1)
 * acknowledges, key 2 repeats the message. The call never outlives gsm.maxCallDuration, ATH is
 * always sent at the end and the audio process is always reaped.
 */
import { voiceText } from '../../compose/texts.js';
import { guarded, phoneAddress, phoneTarget } from './phone-target.js';
import type { Channel, ChannelHealth, DeliveryJob, Outcome, Recipient } from '../channel.js';
import { outcome } from '../channel.js';
import type { PromptAudio } from '../../audio/prompt-audio.js';
import type { GsmConfig, VoiceConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { AtError } from './at-engine.js';
import { parseClcc, parseDtmf, type CallListEntry, type FinalCode, type FinalResult, type Urc } from './at-parser.js';
import { play, type Playback, type PlaybackResult } from './audio-player.js';
import { EventQueue } from './call-events.js';
import type { ModemLink } from './sim900-modem.js';

export interface GsmCallChannelOptions {
  modem: ModemLink;
  audio: PromptAudio;
  voice: VoiceConfig;
  gsm: GsmConfig;
  logger: Logger;
  clock?: Clock;
  /** AT+CLCC poll interval (ms, default 1000). */
  pollInterval?: number;
  /** How long to wait for a key after the last repetition (ms, default 5000). */
  keyGrace?: number;
}

type CallEvent =
  | { type: 'urc'; urc: Urc }
  | { type: 'calls'; calls: CallListEntry[] }
  | { type: 'poll-failed'; error: string; fatal: boolean }
  | { type: 'ring-timeout' }
  | { type: 'max-duration' }
  | { type: 'key-grace' }
  | { type: 'abort' }
  | { type: 'played'; playback: Playback; result: PlaybackResult };

/** Consecutive failed AT+CLCC polls after which the call is given up. */
const MAX_POLL_FAILURES = 3;
/** Polls that may pass before the dialled call shows up in AT+CLCC. */
const MAX_UNLISTED_POLLS = 5;
/** SIM900 manual: ATH may take up to 20 s. */
const HANGUP_TIMEOUT = 20_000;

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

const RINGING_URC_CODES: Partial<Record<Urc['kind'], FinalCode>> = {
  busy: 'BUSY',
  'no-answer': 'NO ANSWER',
  'call-ended': 'NO CARRIER',
  'no-dialtone': 'NO DIALTONE',
};

export class GsmCallChannel implements Channel {
  readonly name = 'gsm' as const;
  readonly kind = 'voice' as const;
  /** One modem, one call at a time. */
  readonly capacity = 1;
  private readonly modem: ModemLink;
  private readonly audio: PromptAudio;
  private readonly voice: VoiceConfig;
  private readonly gsm: GsmConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pollInterval: number;
  private readonly keyGrace: number;

  constructor(opts: GsmCallChannelOptions) {
    this.modem = opts.modem;
    this.audio = opts.audio;
    this.voice = opts.voice;
    this.gsm = opts.gsm;
    this.log = opts.logger.child({ channel: 'gsm' });
    this.clock = opts.clock ?? systemClock;
    this.pollInterval = opts.pollInterval ?? 1000;
    this.keyGrace = opts.keyGrace ?? 5000;
  }

  address(recipient: Recipient): string | null {
    return phoneAddress(recipient);
  }

  health(): ChannelHealth {
    return this.modem.health();
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    return guarded(this.log, 'gsm.call_crashed', job.alert.id, () => this.deliverInner(job, signal));
  }

  private async deliverInner(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    const target = phoneTarget(job.recipient);
    if ('outcome' in target) return target.outcome;
    const number = target.number;
    if (!/^\+?[0-9]{3,20}$/.test(number)) return outcome('rejected', 'invalid phone number', false);
    if (signal.aborted) return outcome('failed', 'aborted', false);
    if (!this.modem.isReady()) return outcome('failed', `modem not ready: ${this.modem.health().detail}`, true);

    // Prepare the speech before dialling: the callee should not wait in silence for TTS.
    let wav: string;
    try {
      wav = await this.audio.callWav(voiceText(job.alert, job.recipient.lang, job.moreAlerts), job.recipient.lang);
    } catch (e) {
      return outcome('failed', `prompt audio unavailable: ${(e as Error).message}`, true);
    }
    const ackWav = await this.audio.phraseWav('acknowledged', job.recipient.lang).catch((e: Error) => {
      this.log.warn('gsm.ack_phrase_unavailable', { error: e.message });
      return undefined;
    });

    let release: () => void;
    try {
      release = await this.modem.acquireCall(signal);
    } catch {
      return outcome('failed', 'aborted', false);
    }
    try {
      if (!this.modem.isReady()) return outcome('failed', `modem not ready: ${this.modem.health().detail}`, true);
      const call = new CallAttempt(this, number, wav, ackWav, signal);
      const result = await call.run();
      this.log.info('gsm.call_done', { alert: job.alert.id, outcome: result.kind, reason: result.reason });
      return result;
    } finally {
      release();
    }
  }

  /** Used by CallAttempt. */
  get deps() {
    return {
      modem: this.modem,
      voice: this.voice,
      gsm: this.gsm,
      log: this.log,
      clock: this.clock,
      pollInterval: this.pollInterval,
      keyGrace: this.keyGrace,
    };
  }
}

/** One call from ATD to ATH. */
class CallAttempt {
  private readonly q = new EventQueue<CallEvent>();
  private readonly d: GsmCallChannel['deps'];
  private readonly timers: Array<() => void> = [];
  private playback: Playback | null = null;
  private polling = false;
  private pollLoop: Promise<void> = Promise.resolve();
  private cancelPollSleep: (() => void) | null = null;
  private pollFailures = 0;
  private unlistedPolls = 0;
  private seenInList = false;
  private plays = 0;
  private keys: string[] = [];
  private dialedAt = 0;
  private answeredAt: number | undefined;

  constructor(
    channel: GsmCallChannel,
    private readonly number: string,
    private readonly wav: string,
    private readonly ackWav: string | undefined,
    private readonly signal: AbortSignal,
  ) {
    this.d = channel.deps;
  }

  async run(): Promise<Outcome> {
    const unsub = this.d.modem.onUrc((urc) => this.q.push({ type: 'urc', urc }));
    const onAbort = () => this.q.push({ type: 'abort' });
    this.signal.addEventListener('abort', onAbort, { once: true });
    let result: Outcome;
    try {
      result = await this.dialAndTalk();
    } catch (e) {
      result = outcome('failed', `call failed: ${(e as Error).message}`, true);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      for (const cancel of this.timers) cancel();
      this.stopPolling();
      await this.stopPlayback();
      await this.pollLoop;
      await this.hangUp();
      unsub();
    }
    return this.withDetail(result);
  }

  private withDetail(o: Outcome): Outcome {
    const now = this.d.clock.now();
    const detail: Record<string, unknown> = {
      number: this.number,
      answered: this.answeredAt !== undefined,
      plays: this.plays,
      ...(this.keys.length ? { keys: this.keys.join('') } : {}),
      ...(this.answeredAt !== undefined
        ? { ringMs: this.answeredAt - this.dialedAt, talkMs: now - this.answeredAt }
        : { ringMs: now - this.dialedAt }),
    };
    return { ...o, detail: { ...(o.detail ?? {}), ...detail } };
  }

  private timer(ms: number, ev: CallEvent): () => void {
    const cancel = this.d.clock.setTimer(() => this.q.push(ev), ms);
    this.timers.push(cancel);
    return cancel;
  }

  private async dialAndTalk(): Promise<Outcome> {
    const { gsm, log } = this.d;
    if (this.signal.aborted) return outcome('failed', 'aborted', false);
    this.dialedAt = this.d.clock.now();
    this.timer(gsm.maxCallDuration, { type: 'max-duration' });
    const cancelRing = this.timer(gsm.ringTimeout, { type: 'ring-timeout' });
    log.info('gsm.dial', { number: this.number });
    let r;
    try {
      r = await this.d.modem.command(`ATD${this.number};`, { timeout: Math.max(gsm.commandTimeout * 2, 10_000) });
    } catch (e) {
      return outcome('failed', `dial failed: ${(e as Error).message}`, true);
    }
    if (!r.ok) return mapDialFinal(r.final);
    this.startPolling();

    // ---- ringing ----
    for (;;) {
      const ev = await this.q.next();
      if (ev.type === 'abort') return outcome('failed', 'aborted', false);
      if (ev.type === 'ring-timeout') return outcome('no-answer', `no answer within ${Math.round(gsm.ringTimeout / 1000)} s`, true);
      if (ev.type === 'max-duration') return outcome('no-answer', 'max call duration reached while ringing', true);
      if (ev.type === 'poll-failed') {
        if (ev.fatal) return outcome('failed', `modem lost while ringing: ${ev.error}`, true);
        if (++this.pollFailures >= MAX_POLL_FAILURES) return outcome('failed', `modem stopped answering: ${ev.error}`, true);
        continue;
      }
      if (ev.type === 'urc') {
        if (ev.urc.kind === 'dtmf') {
          // A key can only come from an answered call: take it as the answer, handle the key after.
          this.q.push(ev);
          break;
        }
        const o = this.ringingUrc(ev.urc);
        if (o) return o;
        continue;
      }
      if (ev.type === 'calls') {
        this.pollFailures = 0;
        const call = this.ourCall(ev.calls);
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
    return this.talk();
  }

  /** A call-progress code that arrives as a URC after ATD returned means what it means as ATD's final result. */
  private ringingUrc(urc: Urc): Outcome | null {
    const code = RINGING_URC_CODES[urc.kind];
    return code ? mapDialFinal({ code, line: code }) : null;
  }

  /** Our outgoing voice call in an AT+CLCC list (there is only one call at a time). */
  private ourCall(calls: CallListEntry[]): CallListEntry | undefined {
    return calls.find((c) => c.dir === 0 && c.mode === 0);
  }

  // ---- answered ----

  private async talk(): Promise<Outcome> {
    const { voice, log } = this.d;
    let cancelGrace: (() => void) | null = null;
    this.startPlayback(this.wav);
    for (;;) {
      const ev = await this.q.next();
      switch (ev.type) {
        case 'abort':
          return outcome('failed', 'aborted', false);
        case 'max-duration':
          return outcome('answered', 'max call duration reached without key 1', false);
        case 'key-grace':
          return outcome('answered', `message played ${this.plays} time(s), no key pressed`, false);
        case 'poll-failed':
          if (ev.fatal) return outcome('failed', `modem lost during the call: ${ev.error}`, true);
          if (++this.pollFailures >= MAX_POLL_FAILURES) return outcome('answered', `modem stopped answering: ${ev.error}`, false);
          break;
        case 'calls': {
          this.pollFailures = 0;
          const call = this.ourCall(ev.calls);
          if (!call || call.stat === 6) return this.remoteHangUp();
          break;
        }
        case 'played':
          if (ev.playback !== this.playback) break; // a stopped one
          this.playback = null;
          if (ev.result.error || (ev.result.code !== 0 && !ev.result.stopped)) {
            const why = ev.result.error ?? `exit ${ev.result.code ?? ev.result.signal}`;
            log.error('gsm.audio_failed', { error: why });
            return outcome('failed', `audio command failed: ${why}`, true);
          }
          this.plays++;
          if (this.plays < voice.repeat) this.startPlayback(this.wav);
          else cancelGrace = this.timer(this.d.keyGrace, { type: 'key-grace' });
          break;
        case 'urc': {
          const urc = ev.urc;
          if (urc.kind === 'call-ended') return this.remoteHangUp();
          if (urc.kind !== 'dtmf') break;
          const key = parseDtmf(urc.value ?? '');
          if (!key) break;
          this.keys.push(key);
          log.info('gsm.dtmf', { key });
          if (key === '1') return this.acknowledge();
          if (key === '2') {
            cancelGrace?.();
            cancelGrace = null;
            await this.stopPlayback();
            this.plays = 0;
            this.startPlayback(this.wav);
          }
          break;
        }
        default:
          break;
      }
    }
  }

  private remoteHangUp(): Outcome {
    return outcome(
      'answered',
      this.plays >= 1 ? 'remote hung up after the message, no key pressed' : 'remote hung up during the message',
      false,
    );
  }

  private async acknowledge(): Promise<Outcome> {
    const ack = outcome('acknowledged', 'key 1 pressed', false);
    await this.stopPlayback();
    if (!this.ackWav) return ack;
    this.startPlayback(this.ackWav);
    for (;;) {
      const ev = await this.q.next();
      if (ev.type === 'played' && ev.playback === this.playback) {
        this.playback = null;
        return ack;
      }
      if (ev.type === 'abort' || ev.type === 'max-duration') return ack;
      if (ev.type === 'urc' && ev.urc.kind === 'call-ended') return ack;
      if (ev.type === 'calls' && !this.ourCall(ev.calls)) return ack;
    }
  }

  private startPlayback(file: string): void {
    const p = play(this.d.gsm.audioCommand, file);
    this.playback = p;
    void p.done.then((result) => this.q.push({ type: 'played', playback: p, result }));
  }

  private async stopPlayback(): Promise<void> {
    const p = this.playback;
    this.playback = null;
    if (p) await p.stop();
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
        try {
          const r = await this.d.modem.command('AT+CLCC');
          if (!r.ok) {
            this.q.push({ type: 'poll-failed', error: r.final.line, fatal: false });
            continue;
          }
          const calls = r.lines.map(parseClcc).filter((c): c is CallListEntry => c !== null);
          this.q.push({ type: 'calls', calls });
        } catch (e) {
          const fatal = e instanceof AtError && e.kind === 'port-closed';
          this.q.push({ type: 'poll-failed', error: (e as Error).message, fatal });
          if (fatal) this.polling = false;
        }
      }
    })();
  }

  private stopPolling(): void {
    this.polling = false;
    this.cancelPollSleep?.();
  }

  private async hangUp(): Promise<void> {
    try {
      const r = await this.d.modem.command('ATH', { timeout: HANGUP_TIMEOUT });
      if (!r.ok) this.d.log.warn('gsm.hangup_failed', { final: r.final.line });
    } catch (e) {
      this.d.log.warn('gsm.hangup_failed', { error: (e as Error).message });
    }
  }
}
