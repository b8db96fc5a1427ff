/**
 * The espeak-ng engine in a worker thread that is there only while there is speech to make.
 *
 * Why: the warm WASM engine holds ~60 MB (its 32 MB linear memory with the voice data copied in,
 * the snapshot it restores before each run, the module's embedded data), which is most of an
 * idle appliance's memory, although every fixed phrase is in the prompt cache and only a new
 * alert's message is ever synthesized. And a synthesis (tens of ms of WASM) on the main thread
 * delays whatever else is due then: SMTP answers, the RTP of calls in progress.
 *
 * - The worker starts on the first synthesis (about 200 ms, while the phone rings: the call is
 *   dialled before its message is made) and stops after `idleMs` without work; its memory goes
 *   with it. `idleMs` 0 keeps it running.
 * - At create() it is started once to learn the voices (language checks need them before any
 *   call); it then stops when idle like any other time.
 * - Jobs are answered in order; one taking longer than timeoutMs stops the worker (its job and
 *   the ones queued behind it fail with TtsError, the next call starts a new worker). A worker that
 *   dies fails what it had; the next synthesis starts a new one.
 * - Without a compiled worker script (running from the TypeScript sources), the same engine runs
 *   in this thread.
 * The output is the in-thread engine's exactly: same id, so cached prompts stay valid.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
// Real-time housekeeping (unload when idle, a stuck synthesis): not the alert logic's clock.
import { backgroundTimer as timer } from '../../util/timers.js';
import { EspeakWasmEngine } from '../espeak-engine.js';
import { LANG_TAG, normalizeLang, TtsError, type Synthesis, type SynthesisOptions, type TtsEngine } from '../tts-engine.js';
import type { FromSpeechWorker, SynthJob } from './protocol.js';

const DEFAULT_SCRIPT = new URL('./worker.js', import.meta.url);


export interface EspeakThreadOptions {
  logger?: Logger;
  /** The worker stops after this long without a synthesis (default 60 s; 0: never). */
  idleMs?: number;
  /** Longest one synthesis may take before the worker is stopped (default 30 s). */
  timeoutMs?: number;
  /** Longest text accepted (characters). */
  maxTextChars?: number;
  /** Worker script (default: worker.js next to this module). */
  script?: URL | string;
}

interface Pending {
  resolve: (s: Synthesis) => void;
  reject: (e: Error) => void;
}

/** One running worker: its thread, the jobs it has, and when it came up. */
interface Thread {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  gone: boolean;
}

export class EspeakThreadEngine implements TtsEngine {
  readonly id = 'espeak-ng-wasm@1';
  private thread: Thread | null = null;
  private nextId = 1;
  private closed = false;
  private cancelIdle: (() => void) | null = null;
  private cancelTimeout: (() => void) | null = null;
  private voices: string[] = [];
  private languages = new Set<string>();
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private readonly maxTextChars: number;
  private readonly logger: Logger;
  /** Times a worker was started (status, tests). */
  starts = 0;

  private constructor(private readonly script: URL | string, o: EspeakThreadOptions) {
    this.idleMs = o.idleMs ?? 60_000;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.maxTextChars = o.maxTextChars ?? 20_000;
    this.logger = o.logger ?? silentLogger;
  }

  /**
   * The engine for voice.engine espeak-wasm: in a worker thread when the compiled worker is
   * there, else in this thread.
   */
  static async create(o: EspeakThreadOptions = {}): Promise<TtsEngine> {
    const script = o.script ?? DEFAULT_SCRIPT;
    const file = script instanceof URL ? (script.protocol === 'file:' ? fileURLToPath(script) : null) : script;
    if (file !== null && !existsSync(file)) return EspeakWasmEngine.create({ logger: o.logger, maxTextChars: o.maxTextChars });
    const engine = new EspeakThreadEngine(script, o);
    const t0 = performance.now();
    await engine.ensureThread().ready;
    engine.logger.info('tts.ready', { engine: engine.id, voices: engine.voices.length, ms: Math.round(performance.now() - t0), thread: 'worker', unloadAfterMs: engine.idleMs });
    engine.armIdle();
    return engine;
  }

  /** Whether the worker (and its memory) is there now. */
  get loaded(): boolean {
    return this.thread !== null;
  }

  listLanguages(): string[] {
    return [...this.voices];
  }

  hasLanguage(lang: string): boolean {
    return LANG_TAG.test(lang) && this.languages.has(normalizeLang(lang));
  }

  async synthesize(text: string, opts: SynthesisOptions): Promise<Synthesis> {
    if (this.closed) throw new TtsError('speech engine is closed');
    if (!this.hasLanguage(opts.lang)) throw new TtsError(`espeak-ng has no voice for language ${JSON.stringify(opts.lang)}`);
    if (!Number.isInteger(opts.rate) || opts.rate < 80 || opts.rate > 450) throw new TtsError(`bad speech rate ${opts.rate}`);
    if (text.length > this.maxTextChars) throw new TtsError(`text too long for speech (${text.length} characters)`);
    this.cancelIdle?.();
    this.cancelIdle = null;
    const t = this.ensureThread();
    const id = this.nextId++;
    const result = new Promise<Synthesis>((resolve, reject) => t.pending.set(id, { resolve, reject }));
    t.worker.ref();
    try {
      await t.ready;
    } catch (e) {
      t.pending.delete(id);
      throw e;
    }
    if (t.gone) throw new TtsError('the speech worker stopped');
    t.worker.postMessage({ id, text, lang: normalizeLang(opts.lang), rate: opts.rate } satisfies SynthJob);
    if (!this.cancelTimeout) this.armTimeout(t);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelIdle?.();
    const t = this.thread;
    if (t) await this.stopThread(t, 'speech engine is closed');
  }

  private ensureThread(): Thread {
    if (this.thread) return this.thread;
    const worker = new Worker(this.script);
    this.starts++;
    const t: Thread = { worker, pending: new Map(), gone: false, ready: Promise.resolve() };
    t.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromSpeechWorker) => {
        if (m.kind === 'ready') {
          this.voices = m.voices;
          this.languages = new Set(m.languages);
          resolve();
        } else if (m.kind === 'failed-start') {
          reject(new TtsError(`espeak-ng did not start: ${m.error}`));
          void this.stopThread(t, `espeak-ng did not start: ${m.error}`);
        } else {
          this.answer(t, m);
        }
      });
      worker.on('error', (e) => {
        reject(new TtsError(`the speech worker failed: ${e.message}`));
        this.lost(t, `the speech worker failed: ${e.message}`);
      });
      worker.on('exit', (code) => {
        reject(new TtsError(`the speech worker exited (code ${code})`));
        this.lost(t, `the speech worker exited (code ${code})`);
      });
    });
    t.ready.catch(() => undefined);
    this.thread = t;
    return t;
  }

  private answer(t: Thread, m: Extract<FromSpeechWorker, { kind: 'done' | 'error' }>): void {
    const p = t.pending.get(m.id);
    if (!p) return;
    t.pending.delete(m.id);
    this.cancelTimeout?.();
    this.cancelTimeout = null;
    if (m.kind === 'done') p.resolve({ samples: new Int16Array(m.samples), sampleRate: m.sampleRate });
    else p.reject(new TtsError(m.error));
    if (t.pending.size) this.armTimeout(t);
    else {
      t.worker.unref();
      this.armIdle();
    }
  }

  /** The job at the head of the worker's queue has timeoutMs; past it the worker is stopped. */
  private armTimeout(t: Thread): void {
    this.cancelTimeout = timer(() => {
      this.cancelTimeout = null;
      this.logger.warn('tts.timeout', { ms: this.timeoutMs, note: 'the speech worker is stopped; the next synthesis starts a new one' });
      void this.stopThread(t, `speech took longer than ${this.timeoutMs} ms`);
    }, this.timeoutMs);
  }

  private armIdle(): void {
    this.cancelIdle?.();
    this.cancelIdle = null;
    const t = this.thread;
    if (!t || this.idleMs <= 0 || t.pending.size) return;
    t.worker.unref();
    this.cancelIdle = timer(() => {
      this.cancelIdle = null;
      if (this.thread === t && !t.pending.size) {
        this.logger.debug('tts.unloaded', { idleMs: this.idleMs });
        void this.stopThread(t, 'idle');
      }
    }, this.idleMs);
  }

  /** The worker is gone (it died, or was stopped): what it had fails; the next call starts another. */
  private lost(t: Thread, why: string): void {
    if (t.gone) return;
    t.gone = true;
    if (this.thread === t) this.thread = null;
    this.cancelTimeout?.();
    this.cancelTimeout = null;
    for (const p of t.pending.values()) p.reject(new TtsError(why));
    if (t.pending.size && why !== 'idle') this.logger.warn('tts.worker_lost', { reason: why, jobs: t.pending.size });
    t.pending.clear();
  }

  private async stopThread(t: Thread, why: string): Promise<void> {
    this.lost(t, why);
    await t.worker.terminate();
  }
}
