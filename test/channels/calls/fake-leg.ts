/**
 * A CallLeg on a ManualClock for the conversation's unit tests: plays take a fixed time, a script
 * of far-end events fires at given times, and everything the conversation asked for is recorded.
 */
import { Prepared, type CallLeg, type LegEvent, type PlayResult, type Prompt } from '../../../src/channels/calls/index.js';
import { ManualClock } from '../../../src/util/clock.js';

export interface FakeLegOptions {
  messageMs?: number;
  phraseMs?: number;
  /** Far-end events at ms after the conversation starts. */
  script?: Array<{ at: number; event: LegEvent }>;
  /** Events that happened before anyone subscribed (delivered to the first subscriber). */
  early?: LegEvent[];
  /** play() of this prompt kind fails with this error. */
  failMessage?: string;
  /**
   * The message is prepared while the call rings: ready at this ms (0: before the answer),
   * failing at `at` with `error`, or never. Without it the leg has its message at once.
   */
  prepared?: { at: number; error?: string } | 'never';
}

export class FakeLeg implements CallLeg {
  readonly clock = new ManualClock(0);
  /** "message", "phrase:acknowledged", "pause:1000", each with how it ended. */
  readonly log: string[] = [];
  hangUps = 0;
  private listeners = new Set<(e: LegEvent) => void>();
  private early: LegEvent[];
  readonly message?: Prepared<string>;

  constructor(private readonly o: FakeLegOptions = {}) {
    this.early = [...(o.early ?? [])];
    const p = o.prepared;
    if (p) {
      this.message = new Prepared(new Promise<string>((resolve, reject) => {
        if (p === 'never') return;
        if (p.at <= 0) return p.error ? reject(new Error(p.error)) : resolve('message');
        this.clock.setTimer(() => (p.error ? reject(new Error(p.error)) : resolve('message')), p.at);
      }));
    }
    for (const s of o.script ?? []) this.clock.setTimer(() => this.emit(s.event), s.at);
  }

  emit(e: LegEvent): void {
    for (const fn of [...this.listeners]) fn(e);
  }

  play(prompt: Prompt, signal: AbortSignal): Promise<PlayResult> {
    const name = prompt.kind === 'message' ? 'message' : `phrase:${prompt.phrase}`;
    if (prompt.kind === 'message' && this.o.failMessage) {
      this.log.push(`${name} failed`);
      return Promise.resolve({ error: this.o.failMessage });
    }
    const ms = prompt.kind === 'message' ? (this.o.messageMs ?? 3000) : (this.o.phraseMs ?? 500);
    return this.wait(name, ms, signal);
  }

  pause(ms: number, signal: AbortSignal): Promise<'done' | 'stopped'> {
    return this.wait(`pause:${ms}`, ms, signal);
  }

  private wait(name: string, ms: number, signal: AbortSignal): Promise<'done' | 'stopped'> {
    const started = this.clock.now();
    if (signal.aborted) {
      this.log.push(`${name} stopped@${started}`);
      return Promise.resolve('stopped');
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        cancel();
        this.log.push(`${name} stopped@${this.clock.now()}`);
        resolve('stopped');
      };
      const cancel = this.clock.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        this.log.push(`${name} done@${this.clock.now()}`);
        resolve('done');
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  onEvent(fn: (e: LegEvent) => void): () => void {
    this.listeners.add(fn);
    const early = this.early.splice(0);
    for (const e of early) fn(e);
    return () => this.listeners.delete(fn);
  }

  async hangUp(): Promise<void> {
    this.hangUps++;
  }

  /** Moves the clock 1 ms at a time (timers due now fire first), letting promise callbacks run, until p settles. */
  async drive<T>(p: Promise<T>, limitMs = 120_000): Promise<T> {
    let settled = false;
    void p.then(
      () => (settled = true),
      () => (settled = true),
    );
    const flush = () => new Promise<void>((r) => setImmediate(r));
    await flush();
    while (!settled) {
      if (this.clock.now() > limitMs) throw new Error(`conversation did not end within ${limitMs} ms of fake time`);
      this.clock.advance(0);
      await flush();
      if (settled) break;
      this.clock.advance(1);
      await flush();
    }
    return p;
  }
}
