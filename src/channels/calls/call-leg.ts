/**
 * What the phone conversation needs from an answered call, whatever carries it: a GSM voice call
 * through the SIM900 (audio command + `+DTMF:`), or a SIP dialog with RTP (RFC 4733 / SIP INFO).
 * A leg renders and plays prompts, reports keys and the end of the call as events, and hangs up.
 */
import type { PhraseKey } from '../../audio/prompt-audio.js';

/** The alert message (rendered for this call), or one of the fixed phrases. */
export type Prompt = { kind: 'message' } | { kind: 'phrase'; phrase: PhraseKey };

export const MESSAGE: Prompt = { kind: 'message' };
export const phrase = (p: PhraseKey): Prompt => ({ kind: 'phrase', phrase: p });

/**
 * How a play or a pause ended: to its end, stopped by the signal, or failed (the audio command
 * could not run, the prompt could not be rendered). The error text becomes the outcome's reason.
 */
export type PlayResult = 'done' | 'stopped' | { error: string };

/**
 * Something rendered while the phone rings (the call's message): the call is placed first and
 * its audio prepared in parallel. `state` says where it is now, `settled` resolves (never
 * rejects) once it is ready or failed.
 */
export class Prepared<T> {
  state: 'pending' | 'ready' | 'failed' = 'pending';
  value: T | undefined;
  error: string | undefined;
  readonly settled: Promise<void>;

  constructor(work: Promise<T>) {
    this.settled = work.then(
      (v) => {
        this.value = v;
        this.state = 'ready';
      },
      (e: unknown) => {
        this.error = e instanceof Error ? e.message : String(e);
        this.state = 'failed';
      },
    );
  }
}

export type LegEvent =
  /** The far end pressed a key (0-9, *, #, A-D); `via` says how it came (rfc4733, info, dtmf). */
  | { type: 'key'; key: string; via?: string }
  /** The far end hung up. */
  | { type: 'hangup' }
  /** The line is gone for a technical reason (modem lost, stopped answering): `reason` says which. */
  | { type: 'lost'; reason: string };

export interface CallLeg {
  /**
   * The message's audio when it is still being prepared as the call is answered (legs that have
   * it at once leave this out). Until it is ready the conversation says the `hold` phrase and
   * waits (CallTimings.promptWaitMs at most); when it fails or takes longer, the call goes on
   * with the generic message (the `intro` and `keyPrompt` phrases, from the prompt cache), so
   * the callee can still press keys.
   */
  readonly message?: Pick<Prepared<unknown>, 'state' | 'error' | 'settled'>;
  /**
   * Plays one prompt to its end or until `signal` aborts. Must resolve 'stopped' at once when the
   * signal is already aborted, and must never reject.
   */
  play(prompt: Prompt, signal: AbortSignal): Promise<PlayResult>;
  /** Lets `ms` pass with nothing to say (VoIP keeps sending silence); 'stopped' when aborted. */
  pause(ms: number, signal: AbortSignal): Promise<'done' | 'stopped'>;
  /**
   * Subscribes to the leg's events; returns the unsubscribe function. Events that happened before
   * the first subscriber (a key pressed while the answer was still being detected) are delivered
   * to it.
   */
  onEvent(fn: (e: LegEvent) => void): () => void;
  /** Ends the call from our side (no-op when the far end already hung up). Never rejects. */
  hangUp(): Promise<void>;
}
