/**
 * The answered GSM call as the conversation sees it (a CallLeg): prompts are WAV files played
 * by gsm.audioCommand into the modem's audio input, keys (+DTMF) and the end of the call are
 * fed in by the call attempt, hanging up is the attempt's (ATH, always last).
 */
import type { PhraseKey } from '../../audio/prompt-audio.js';
import { Prepared, type CallLeg, type LegEvent, type PlayResult, type Prompt } from '../calls/index.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { play, type Playback } from './audio-player.js';

/** The phrases a call may need, looked up (prompt cache) as soon as the call is placed. */
const CALL_PHRASES: readonly PhraseKey[] = ['hold', 'intro', 'keyPrompt', 'acknowledged', 'escalated', 'snoozed', 'resolved'];

/**
 * The files a call plays, rendered while it rings: the message (synthesized unless it is in the
 * prompt cache) and the fixed phrases. Nothing is rendered before prepare() (the call dials
 * first: synthesis runs on this thread and would hold the ATD back).
 */
export class CallPrompts {
  private msg: Prepared<string> | undefined;
  private readonly phrases = new Map<PhraseKey, Promise<string>>();

  constructor(private readonly render: { message: () => Promise<string>; phrase: (key: PhraseKey) => Promise<string> }) {}

  /** Starts rendering everything (idempotent): the cached phrases first, then the message. */
  prepare(): void {
    for (const k of CALL_PHRASES) void this.phrase(k).catch(() => {});
    this.message();
  }

  message(): Prepared<string> {
    return (this.msg ??= new Prepared(Promise.resolve().then(() => this.render.message())));
  }

  phrase(key: PhraseKey): Promise<string> {
    let p = this.phrases.get(key);
    if (!p) {
      p = Promise.resolve().then(() => this.render.phrase(key));
      p.catch(() => {}); // observed by play()
      this.phrases.set(key, p);
    }
    return p;
  }
}

export class GsmCallLeg implements CallLeg {
  private readonly listeners = new Set<(e: LegEvent) => void>();
  private readonly early: LegEvent[] = [];
  private playback: Playback | null = null;

  constructor(
    private readonly d: { audioCommand: readonly string[]; clock: Clock; log: Logger },
    private readonly prompts: CallPrompts,
    /** Ends the call: stops polling and playback, then ATH (the attempt does it, once). */
    private readonly end: () => Promise<void>,
  ) {}

  get message(): Prepared<string> {
    return this.prompts.message();
  }

  emit(e: LegEvent): void {
    if (this.listeners.size === 0) {
      this.early.push(e);
      return;
    }
    for (const fn of [...this.listeners]) fn(e);
  }

  onEvent(fn: (e: LegEvent) => void): () => void {
    this.listeners.add(fn);
    for (const e of this.early.splice(0)) fn(e);
    return () => this.listeners.delete(fn);
  }

  private async file(prompt: Prompt): Promise<string | { error: string }> {
    if (prompt.kind === 'message') {
      const m = this.prompts.message();
      await m.settled;
      return m.value ?? { error: `prompt audio unavailable: ${m.error}` };
    }
    try {
      return await this.prompts.phrase(prompt.phrase);
    } catch (e) {
      this.d.log.warn('gsm.phrase_unavailable', { phrase: prompt.phrase, error: (e as Error).message });
      return { error: `phrase "${prompt.phrase}" unavailable` };
    }
  }

  async play(prompt: Prompt, signal: AbortSignal): Promise<PlayResult> {
    if (signal.aborted) return 'stopped';
    const file = await this.file(prompt);
    if (typeof file === 'object') return file;
    if (signal.aborted) return 'stopped';
    let p: Playback;
    try {
      p = play(this.d.audioCommand, file);
    } catch (e) {
      return { error: `audio command failed: ${(e as Error).message}` };
    }
    this.playback = p;
    const onAbort = () => void p.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    const r = await p.done;
    signal.removeEventListener('abort', onAbort);
    if (this.playback === p) this.playback = null;
    if (r.error || (r.code !== 0 && !r.stopped)) {
      const why = r.error ?? `exit ${r.code ?? r.signal}`;
      this.d.log.error('gsm.audio_failed', { error: why });
      return { error: `audio command failed: ${why}` };
    }
    return r.stopped ? 'stopped' : 'done';
  }

  pause(ms: number, signal: AbortSignal): Promise<'done' | 'stopped'> {
    if (signal.aborted) return Promise.resolve('stopped');
    return new Promise((resolve) => {
      const onAbort = () => {
        cancel();
        resolve('stopped');
      };
      const cancel = this.d.clock.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve('done');
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  hangUp(): Promise<void> {
    return this.end();
  }

  /** Ends the audio process in progress, if any, and waits until it is reaped. */
  async stopPlayback(): Promise<void> {
    const p = this.playback;
    this.playback = null;
    if (p) await p.stop();
  }
}
