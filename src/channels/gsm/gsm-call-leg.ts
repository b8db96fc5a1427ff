/**
 * The answered GSM call as the conversation sees it (a CallLeg): prompts are WAV files played
 * by gsm.audioCommand into the modem's audio input, keys (+DTMF) and the end of the call are
 * fed in by the call attempt, hanging up is the attempt's (ATH, always last).
 */
import type { PhraseKey } from '../../audio/prompt-audio.js';
import type { CallLeg, LegEvent, PlayResult, Prompt } from '../calls/index.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { play, type Playback } from './audio-player.js';

/** The files a call plays: the rendered message and the phrases the key table confirms with. */
export interface Prompts {
  message: string;
  phrases: Partial<Record<PhraseKey, string>>;
}

export class GsmCallLeg implements CallLeg {
  private readonly listeners = new Set<(e: LegEvent) => void>();
  private readonly early: LegEvent[] = [];
  private playback: Playback | null = null;

  constructor(
    private readonly d: { audioCommand: readonly string[]; clock: Clock; log: Logger },
    private readonly prompts: Prompts,
    /** Ends the call: stops polling and playback, then ATH (the attempt does it, once). */
    private readonly end: () => Promise<void>,
  ) {}

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

  async play(prompt: Prompt, signal: AbortSignal): Promise<PlayResult> {
    const file = prompt.kind === 'message' ? this.prompts.message : this.prompts.phrases[prompt.phrase];
    if (!file) return { error: `phrase "${prompt.kind === 'phrase' ? prompt.phrase : ''}" unavailable` };
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
