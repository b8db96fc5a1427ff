/**
 * The one phone conversation, over any CallLeg (GSM or VoIP): once the far end answers, speak the
 * message `repeat` times with a short gap, then wait for a key; a key does what CALL_KEYS says
 * (1 acknowledges and is confirmed by the spoken "acknowledged", 2 starts the message again).
 *
 * Timings: one set for every channel (CALL_TIMINGS), a channel may override them (tests do).
 *
 * Outcomes and `retryable`, decided here once for both channels:
 *  - a key that ends the call      → its rule's outcome ('acknowledged'), not retryable;
 *  - no key after the last play    → 'answered' "message played, no key pressed", not retryable;
 *  - the far end hung up           → 'answered' "far end hung up", not retryable;
 *  - the call reached its maximum  → 'answered' "maximum call duration reached", not retryable.
 *    Answered means a person (or their voicemail) heard it: calling again at once is the
 *    escalation policy's choice (next channel, next round), not a retry of this step.
 *  - audio failed / the line was lost → 'failed', retryable (nothing was heard; later may work).
 *  - aborted by the caller's signal → 'answered' "aborted during the call", retryable: the call
 *    was answered (history should say so) but cut by us, not ended by the person. The dispatcher
 *    aborts for its own reasons and knows them (shutdown: run the step again at the next start;
 *    alert settled: nothing more), so `retryable` here only says "not finished". Before the
 *    answer the channels apply the same rule: 'failed' "aborted while ringing", retryable.
 * The outcome's detail carries `plays` (complete plays of the message), `keys` (every key
 * pressed, in order), when a key ended the call `action` (e.g. 'acknowledge'), and `prompt`:
 * 'waited' when the message was still being prepared at the answer (the callee heard the hold
 * phrase first), 'generic' when it never came (intro + key prompt were spoken instead).
 *
 * The message is prepared while the phone rings (the channels dial first): see CallLeg.message.
 */
import { outcome, type Outcome } from '../channel.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { MESSAGE, phrase, type CallLeg, type LegEvent, type PlayResult } from './call-leg.js';
import { CALL_KEYS, keyRule, type KeyRule } from './keys.js';

export interface CallTimings {
  /** How long the call waits for a key after the last play of the message (ms). */
  keyWaitMs: number;
  /** Silence between two plays of the message (ms). */
  gapMs: number;
  /**
   * How long an answered call waits, after the hold phrase, for a message still being prepared
   * (ms). Longer than that, or when preparing it failed, the generic message is spoken instead.
   */
  promptWaitMs: number;
}

/**
 * 5 s after the last play: the key prompt ends the message, and someone taking the phone from
 * their ear to press a key needs a moment; 3 s (the old VoIP value) cut people off.
 */
export const CALL_TIMINGS: Readonly<CallTimings> = { keyWaitMs: 5000, gapMs: 1000, promptWaitMs: 8000 };

export interface ConversationOptions {
  leg: CallLeg;
  /** Plays of the message (voice.repeat). */
  repeat: number;
  /** Time left before the call must end (maximum call duration less what ringing used), ms. */
  maxMs: number;
  signal: AbortSignal;
  timings?: Partial<CallTimings>;
  /** The key table (CALL_KEYS unless a test gives another). */
  keys?: Readonly<Record<string, KeyRule>>;
  clock?: Clock;
  log?: Logger;
}

type Stop =
  | { why: 'key'; key: string; rule: Extract<KeyRule, { effect: 'end' }> }
  | { why: 'no-key' }
  | { why: 'hangup' }
  | { why: 'max' }
  | { why: 'abort' }
  | { why: 'lost'; reason: string }
  | { why: 'audio'; reason: string };

/** Runs the answered part of a call to its end and hangs up. Never rejects. */
export async function converse(o: ConversationOptions): Promise<Outcome> {
  const { leg, signal } = o;
  const timings = { ...CALL_TIMINGS, ...o.timings };
  const table = o.keys ?? CALL_KEYS;
  const clock = o.clock ?? systemClock;
  const repeat = Math.max(1, Math.floor(o.repeat));
  const keys: string[] = [];
  let plays = 0;
  /** Why the talk ends (set once, by an event, the signal, a timer or the loop). */
  const ended: { stop: Stop | null } = { stop: null };
  let replay = false;
  let remoteGone = false;
  /** Whether the message may be played: unknown until the first play, then 'message' or 'generic'. */
  let speak: 'unknown' | 'message' | 'generic' = leg.message ? 'unknown' : 'message';
  let promptNote: 'waited' | 'generic' | undefined;
  /** Aborted to interrupt the play or pause in progress. */
  let step = new AbortController();
  /** Aborted to cut the confirmation phrase short (hang-up, abort, maximum duration). */
  const confirm = new AbortController();

  const end = (s: Stop) => {
    ended.stop ??= s;
    step.abort();
  };
  const onEvent = (e: LegEvent) => {
    if (e.type === 'key') {
      keys.push(e.key);
      o.log?.info('call.key', { key: e.key, ...(e.via ? { via: e.via } : {}) });
      if (ended.stop) return;
      const rule = keyRule(e.key, table);
      if (!rule) return;
      if (rule.effect === 'replay') {
        replay = true;
        step.abort();
      } else end({ why: 'key', key: e.key, rule });
      return;
    }
    remoteGone = true;
    confirm.abort();
    end(e.type === 'hangup' ? { why: 'hangup' } : { why: 'lost', reason: e.reason });
  };
  const onAbort = () => {
    confirm.abort();
    end({ why: 'abort' });
  };
  const unsubscribe = leg.onEvent(onEvent);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const cancelMax = clock.setTimer(() => {
    o.log?.warn('call.max_duration', { ms: o.maxMs });
    confirm.abort();
    end({ why: 'max' });
  }, Math.max(0, o.maxMs));

  /**
   * Answered before the message was ready: say the hold phrase, then wait for it (bounded), the
   * line kept alive by a pause that ends as soon as the message is ready.
   */
  async function awaitMessage(s: AbortSignal): Promise<'message' | 'generic' | 'stopped'> {
    const m = leg.message!;
    // Work that is as good as done (a cache hit finishing) settles before anything is said.
    if (m.state === 'pending') await Promise.race([m.settled, new Promise<void>((r) => setImmediate(r))]);
    if (s.aborted) return 'stopped';
    if (m.state === 'pending') {
      promptNote = 'waited';
      o.log?.info('call.prompt_pending', { waitMs: timings.promptWaitMs });
      const started = clock.now();
      const h = await leg.play(phrase('hold'), s);
      if (typeof h === 'object') o.log?.warn('call.hold_failed', { error: h.error });
      if (s.aborted) return 'stopped';
      const left = timings.promptWaitMs - (clock.now() - started);
      if (m.state === 'pending' && left > 0) {
        const until = new AbortController();
        const stop = () => until.abort();
        s.addEventListener('abort', stop, { once: true });
        void m.settled.then(stop);
        await leg.pause(left, until.signal);
        s.removeEventListener('abort', stop);
        if (s.aborted) return 'stopped';
      }
    }
    if (m.state === 'ready') return 'message';
    o.log?.warn('call.prompt_unavailable', {
      error: m.state === 'failed' ? m.error : `not ready within ${timings.promptWaitMs} ms`,
      using: 'generic message',
    });
    return 'generic';
  }

  /** The generic message: intro and key prompt, cached phrases. */
  async function playGeneric(s: AbortSignal): Promise<PlayResult> {
    const a = await leg.play(phrase('intro'), s);
    if (a !== 'done') return a;
    return leg.play(phrase('keyPrompt'), s);
  }

  try {
    while (!ended.stop) {
      if (replay) {
        replay = false;
        plays = 0;
        step = new AbortController();
      }
      const s = step.signal;
      if (s.aborted) continue; // a replay or the end arrived between two steps
      if (speak === 'generic' && leg.message?.state === 'ready') speak = 'message'; // it came late: the next play has it
      if (speak === 'unknown') {
        const ready = await awaitMessage(s);
        if (ready === 'stopped') continue;
        speak = ready;
        if (ready === 'generic') promptNote = 'generic';
      }
      const r = speak === 'message' ? await leg.play(MESSAGE, s) : await playGeneric(s);
      if (typeof r === 'object') {
        end({ why: 'audio', reason: r.error });
        break;
      }
      if (r === 'stopped') continue;
      plays++;
      const last = plays >= repeat;
      const waited = await leg.pause(last ? timings.keyWaitMs : timings.gapMs, s);
      if (waited === 'done' && last) end({ why: 'no-key' });
    }
    const how: Stop = ended.stop ?? { why: 'abort' };
    if (how.why === 'key') {
      if (how.rule.confirm && !remoteGone && !signal.aborted && !confirm.signal.aborted) {
        const r = await leg.play(phrase(how.rule.confirm), confirm.signal);
        if (typeof r === 'object') o.log?.warn('call.confirm_failed', { phrase: how.rule.confirm, error: r.error });
      }
    }
    const detail: Record<string, unknown> = { plays, ...(keys.length ? { keys: keys.join('') } : {}), ...(promptNote ? { prompt: promptNote } : {}) };
    switch (how.why) {
      case 'key':
        return outcome(how.rule.outcome, `key ${how.key} pressed`, false, { ...detail, action: how.rule.action });
      case 'no-key':
        return outcome('answered', 'message played, no key pressed', false, detail);
      case 'hangup':
        return outcome('answered', 'far end hung up', false, detail);
      case 'max':
        return outcome('answered', 'maximum call duration reached', false, detail);
      case 'abort':
        return outcome('answered', 'aborted during the call', true, detail);
      case 'lost':
        return outcome('failed', how.reason, true, detail);
      case 'audio':
        return outcome('failed', how.reason, true, detail);
    }
  } catch (e) {
    // A leg must not throw; if one does, the call still ends cleanly.
    o.log?.error('call.conversation_failed', { error: (e as Error).message });
    return outcome('failed', `call failed: ${(e as Error).message}`, true, { plays, ...(keys.length ? { keys: keys.join('') } : {}) });
  } finally {
    cancelMax();
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
    await leg.hangUp().catch(() => {});
  }
}
