/**
 * Parsing mail off the main thread: a pool of worker threads (worker.ts), each running the same
 * parseAlertMail as inline parsing on one mail at a time. The main thread keeps the SMTP sessions
 * and the SQLite commits; on a machine with several cores an alert storm's MIME decoding runs on
 * the others.
 *
 * - The raw mail travels as a transferred ArrayBuffer and comes back the same way (no copy); the
 *   caller stores the Buffer it gets back.
 * - Workers start when mail arrives and stop after idleMs without work, so an idle appliance
 *   does not pay their memory.
 * - A worker that dies (out of memory on hostile MIME, a crash, or a parse longer than timeoutMs)
 *   is replaced; the mail it was parsing fails with ParseTempFail (SMTP 451: the sender keeps it
 *   and tries again), mails waiting in the queue go to the replacement. A parse error that the
 *   parser reports normally is an ordinary rejection (SMTP 554), as inline.
 * - At most maxQueue mails wait; more fail with ParseTempFail.
 * - If workers cannot even start (three in a row die before coming online), the pool parses
 *   inline from then on and says so once in the log.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ParsedAlert } from '../../core/model.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { parseAlertMail } from '../parse-alert.js';
import type { ParseJob, ParseReply } from './protocol.js';

/** A parsed mail and its raw bytes (the same bytes, possibly handed back by a worker). */
export interface ParsedMail {
  parsed: ParsedAlert;
  raw: Buffer;
}

/** How the receiver turns raw bytes into an alert: inline or through a ParsePool. */
export type MailParser = (raw: Buffer) => Promise<ParsedMail>;

export const inlineParse: MailParser = async (raw) => ({ parsed: await parseAlertMail(raw), raw });

/** Not the mail's fault: the parse could not be done now (worker died, queue full, shutting down). */
export class ParseTempFail extends Error {
  readonly tempfail = true;
}

/**
 * smtp.parseWorkers: a number, or `auto` = one worker when there are at least two cores, none on
 * one. Measured (bench/ingest, --cpu-prof): parsing is about a tenth of the main thread's work per
 * mail (SMTP protocol, the SQLite commit and the dispatcher take the rest), so one worker takes all
 * of it off the main thread; each further worker would only add its ~30 MB heap in a flood.
 */
export function parseWorkerCount(setting: 'auto' | number, cores = availableParallelism()): number {
  if (setting !== 'auto') return setting;
  return cores >= 2 ? 1 : 0;
}

export interface ParsePoolOptions {
  size: number;
  logger: Logger;
  clock: Clock;
  /** Worker script (default: worker.js next to this module). */
  script?: URL | string;
  maxQueue?: number;
  /** Longest a single parse may take before its worker is stopped. */
  timeoutMs?: number;
  /** A worker without work this long stops. */
  idleMs?: number;
  resourceLimits?: ResourceLimits;
}

interface Job {
  id: number;
  buf: ArrayBuffer;
  length: number;
  resolve: (m: ParsedMail) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  online: boolean;
  gone: boolean;
  /** Why the pool stopped it (timeout, idle, close); undefined if it died by itself. */
  stopReason?: string;
  cancelTimer: () => void;
}

const DEFAULT_SCRIPT = new URL('./worker.js', import.meta.url);
const noop = () => {};

export class ParsePool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private startFailures = 0;
  private inlineOnly = false;
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;
  private readonly idleMs: number;

  constructor(private readonly o: ParsePoolOptions) {
    if (!Number.isInteger(o.size) || o.size < 1) throw new Error(`a parse pool needs at least one worker (got ${o.size})`);
    this.size = o.size;
    this.maxQueue = o.maxQueue ?? 1000;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.idleMs = o.idleMs ?? 30_000;
    const script = o.script ?? DEFAULT_SCRIPT;
    const file = script instanceof URL ? (script.protocol === 'file:' ? fileURLToPath(script) : null) : script;
    if (file !== null && !existsSync(file)) {
      // Running from the TypeScript sources (tests): there is no compiled worker to start.
      this.inlineOnly = true;
      o.logger.info('smtp.parse_inline', { reason: `no worker script at ${file}` });
    }
  }

  /** Workers running now. */
  get workers(): number {
    return this.slots.size;
  }

  /** The parse function for the receiver. */
  readonly parse: MailParser = (raw) => {
    if (this.inlineOnly) return inlineParse(raw);
    if (this.closed) return Promise.reject(new ParseTempFail('the parse pool is shutting down'));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new ParseTempFail(`${this.queue.length} mails already wait for parsing`));
    // Transfer needs a buffer of its own: a slice of Node's shared pool (small Buffers) is copied once.
    const own = raw.byteOffset === 0 && raw.buffer.byteLength === raw.length && raw.buffer instanceof ArrayBuffer;
    const buf = own ? (raw.buffer as ArrayBuffer) : raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length) as ArrayBuffer;
    return new Promise<ParsedMail>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, buf, length: raw.length, resolve, reject });
      this.pump();
    });
  };

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new ParseTempFail('the parse pool is shutting down'));
    await Promise.all([...this.slots].map((s) => this.stop(s, 'closing')));
  }

  private pump(): void {
    while (this.queue.length) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (!s.job && !s.stopReason) { slot = s; break; }
      if (!slot && this.slots.size < this.size) slot = this.spawn();
      if (!slot) return;
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.o.script ?? DEFAULT_SCRIPT, {
      resourceLimits: this.o.resourceLimits ?? { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 8 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const slot: Slot = { worker, job: null, online: false, gone: false, cancelTimer: noop };
    this.slots.add(slot);
    worker.on('online', () => {
      slot.online = true;
      this.startFailures = 0;
    });
    worker.on('message', (r: ParseReply) => this.onReply(slot, r));
    worker.on('error', (e) => this.onGone(slot, e.message));
    worker.on('exit', (code) => this.onGone(slot, `exited with code ${code}`));
    return slot;
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.cancelTimer();
    slot.job = job;
    slot.cancelTimer = this.o.clock.setTimer(() => void this.stop(slot, `parsing took longer than ${this.timeoutMs} ms`), this.timeoutMs);
    slot.worker.postMessage({ id: job.id, buf: job.buf, length: job.length } satisfies ParseJob, [job.buf]);
  }

  private onReply(slot: Slot, r: ParseReply): void {
    const job = slot.job;
    if (!job || job.id !== r.id || slot.gone) return;
    slot.cancelTimer();
    slot.job = null;
    if (r.ok) job.resolve({ parsed: r.parsed, raw: Buffer.from(r.buf, 0, job.length) });
    else job.reject(new Error(r.error));
    if (this.queue.length) this.pump();
    else slot.cancelTimer = this.o.clock.setTimer(() => void this.stop(slot, 'idle'), this.idleMs);
  }

  private stop(slot: Slot, reason: string): Promise<void> {
    if (slot.gone) return Promise.resolve();
    slot.stopReason ??= reason;
    return slot.worker.terminate().then(noop, noop);
  }

  private onGone(slot: Slot, why: string): void {
    if (slot.gone) return;
    slot.gone = true;
    slot.cancelTimer();
    this.slots.delete(slot);
    const reason = slot.stopReason ?? why;
    const job = slot.job;
    slot.job = null;
    if (job) {
      this.o.logger.warn('smtp.parse_worker_failed', { reason, note: 'the mail it was parsing got 451 (the sender retries); the worker is replaced' });
      job.reject(new ParseTempFail(`parse worker failed: ${reason}`));
    } else if (!slot.stopReason) {
      this.o.logger.warn('smtp.parse_worker_failed', { reason });
    }
    if (!slot.online && !slot.stopReason && ++this.startFailures >= 3) {
      this.inlineOnly = true;
      this.o.logger.error('smtp.parse_pool_disabled', { reason, note: 'parse workers do not start; parsing on the main thread' });
      for (const j of this.queue.splice(0)) {
        inlineParse(Buffer.from(j.buf, 0, j.length)).then(j.resolve, j.reject);
      }
      return;
    }
    if (!this.closed) this.pump();
  }
}
