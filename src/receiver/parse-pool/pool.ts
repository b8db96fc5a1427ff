/**
 * Parsing mail off the main thread: a pool of worker threads (worker.ts), each running the same
 * parseAlertMail as inline parsing on the mails it is sent. The main thread keeps the SMTP sessions
 * and the SQLite commits; on a machine with several cores an alert storm's MIME decoding runs on
 * the others.
 *
 * - Each worker has up to 16 mails in flight, so their replies arrive together and the group
 *   commit keeps many mails in one transaction (one at a time, each mail was its own commit and
 *   workers were slower than inline parsing). A copy of the raw mail is transferred to the worker
 *   (a few KB); the original stays with the pool.
 * - Workers start when mail arrives and stop after idleMs without work, so an idle appliance
 *   does not pay their memory.
 * - A worker that dies (out of memory on hostile MIME, a crash, or no reply within timeoutMs)
 *   is replaced, and each mail it had in flight is parsed again, alone; the one that kills a
 *   worker when alone fails with ParseTempFail (SMTP 451: the sender keeps it and tries again).
 *   A parse error the parser reports normally is an ordinary rejection (SMTP 554), as inline.
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
import type { ParseJob, ParseReply } from './protocol.js';

/** A parsed mail and its raw bytes (the same bytes, possibly handed back by a worker). */
export interface ParsedMail {
  parsed: ParsedAlert;
  raw: Buffer;
}

/** How the receiver turns raw bytes into an alert: inline or through a ParsePool. */
export type MailParser = (raw: Buffer) => Promise<ParsedMail>;

/**
 * Parsing in this thread. The parser (mailparser with its charset tables and HTML renderer, ~20 MB
 * resident) is loaded at the first mail parsed here: with parse workers, the main thread never loads it.
 */
export const inlineParse: MailParser = async (raw) => {
  parser ??= import('../parse-alert.js').then((m) => m.parseAlertMail);
  return { parsed: await (await parser)(raw), raw };
};
let parser: Promise<(raw: Buffer) => Promise<ParsedAlert>> | undefined;

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
  raw: Buffer;
  /** Was in flight in a worker that died: parsed alone from now on; a second death is its own. */
  suspect: boolean;
  resolve: (m: ParsedMail) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  online: boolean;
  gone: boolean;
  /** Why the pool stopped it (timeout, idle, close); undefined if it died by itself. */
  stopReason?: string;
  cancelTimer: () => void;
}

/**
 * Mails one worker has in flight. More than one, so that replies arrive together and the group
 * commit stays one transaction for many mails (one at a time, each reply would be its own commit).
 */
const IN_FLIGHT = 16;

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
    return new Promise<ParsedMail>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, raw, suspect: false, resolve, reject });
      this.pump();
    });
  };

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new ParseTempFail('the parse pool is shutting down'));
    await Promise.all([...this.slots].map((s) => this.stop(s, 'closing')));
  }

  /** Can take this job: a suspect goes only to an empty worker, and nothing joins a suspect. */
  private fits(s: Slot, job: Job): boolean {
    if (s.stopReason || s.gone) return false;
    if (job.suspect) return s.jobs.size === 0;
    if (s.jobs.size >= IN_FLIGHT) return false;
    for (const j of s.jobs.values()) if (j.suspect) return false;
    return true;
  }

  private pump(): void {
    while (this.queue.length) {
      const job = this.queue[0]!;
      let slot: Slot | undefined;
      // The least busy worker that fits; a new one while there is room for one and all are busy.
      for (const s of this.slots) if (this.fits(s, job) && (!slot || s.jobs.size < slot.jobs.size)) slot = s;
      if ((!slot || slot.jobs.size > 0) && this.slots.size < this.size) slot = this.spawn();
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
    const slot: Slot = { worker, jobs: new Map(), online: false, gone: false, cancelTimer: noop };
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

  /** The worker's deadline: timeoutMs after its oldest job in flight was sent (reset on each reply). */
  private arm(slot: Slot): void {
    slot.cancelTimer();
    slot.cancelTimer = slot.jobs.size
      ? this.o.clock.setTimer(() => void this.stop(slot, `parsing took longer than ${this.timeoutMs} ms`), this.timeoutMs)
      : this.o.clock.setTimer(() => void this.stop(slot, 'idle'), this.idleMs);
  }

  private dispatch(slot: Slot, job: Job): void {
    const first = slot.jobs.size === 0;
    slot.jobs.set(job.id, job);
    if (first) this.arm(slot);
    // A copy travels (a few KB): the original stays here, so a mail in flight in a worker that
    // dies can be parsed again by the next one.
    const buf = new Uint8Array(job.raw.length);
    buf.set(job.raw);
    slot.worker.postMessage({ id: job.id, buf: buf.buffer, length: buf.length } satisfies ParseJob, [buf.buffer]);
  }

  private onReply(slot: Slot, r: ParseReply): void {
    const job = slot.jobs.get(r.id);
    if (!job || slot.gone) return;
    slot.jobs.delete(r.id);
    this.arm(slot);
    if (r.ok) job.resolve({ parsed: r.parsed, raw: job.raw });
    else job.reject(new Error(r.error));
    if (this.queue.length) this.pump();
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
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    if (jobs.length || !slot.stopReason) this.o.logger.warn('smtp.parse_worker_failed', { reason, mails: jobs.length });
    // Each mail it had is parsed again, alone; one that was already alone caused it: 451 (the sender retries).
    const retry: Job[] = [];
    for (const j of jobs) {
      if (j.suspect || this.closed) j.reject(new ParseTempFail(`parse worker failed: ${reason}`));
      else retry.push({ ...j, suspect: true });
    }
    this.queue.unshift(...retry);
    if (!slot.online && !slot.stopReason && ++this.startFailures >= 3) {
      this.inlineOnly = true;
      this.o.logger.error('smtp.parse_pool_disabled', { reason, note: 'parse workers do not start; parsing on the main thread' });
      for (const j of this.queue.splice(0)) inlineParse(j.raw).then(j.resolve, j.reject);
      return;
    }
    if (!this.closed) this.pump();
  }
}
