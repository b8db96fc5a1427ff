/**
 * Main-thread side of the media worker: one worker per process (per script), shared by every
 * RtpSession, started on the first session and stopped when the last one closes.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../../util/log.js';
import type { PortRange } from './port-pair.js';
import { COUNTERS, type PlayResult, type RemoteMedia } from './stream.js';
import { copyKeying } from '../srtp/srtp.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

interface SessionLink {
  logger: Logger;
  onDtmf: (digit: string) => void;
  opened?: { resolve: (port: number) => void; reject: (e: Error) => void };
  plays: Map<number, { resolve: (r: PlayResult) => void; reject: (e: Error) => void }>;
  closed?: () => void;
}

const hosts = new Map<string, MediaWorkerHost>();
/** Holds per host key: while one is held the worker stays up between calls (see hold()). */
const holds = new Map<string, number>();
const keyOf = (script: URL | string, data: WorkerData) => `${String(script)}|${data.spinMs ?? ''}|${data.priority ?? ''}`;

export class MediaWorkerHost {
  private readonly worker: Worker;
  private readonly links = new Map<number, SessionLink>();
  private nextSid = 1;
  private dead: Error | undefined;

  private constructor(private readonly key: string, script: URL | string, data: WorkerData) {
    this.worker = new Worker(script, { workerData: data });
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`RTP media worker exited (code ${code})`)));
  }

  /** The shared host for `script`, started if needed. */
  static acquire(script: URL | string, data: WorkerData = {}): MediaWorkerHost {
    const key = keyOf(script, data);
    let h = hosts.get(key);
    if (!h) {
      h = new MediaWorkerHost(key, script, data);
      hosts.set(key, h);
    }
    return h;
  }

  /**
   * Keeps the worker for `script` running between calls (and starts it now), so a call does not
   * wait for a thread to start before its INVITE: a channel holds it while it runs. Returns the
   * release; the worker stops once nothing holds it and no stream is open.
   */
  static hold(script: URL | string, data: WorkerData = {}): () => void {
    const key = keyOf(script, data);
    holds.set(key, (holds.get(key) ?? 0) + 1);
    MediaWorkerHost.acquire(script, data);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (holds.get(key) ?? 1) - 1;
      if (n > 0) holds.set(key, n);
      else holds.delete(key);
      hosts.get(key)?.releaseIfIdle();
    };
  }

  private post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (this.dead) throw new Error(`RTP: media worker unavailable: ${this.dead.message}`);
    this.worker.postMessage(m, transfer);
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    if (hosts.get(this.key) === this) hosts.delete(this.key);
    for (const link of this.links.values()) {
      link.logger.error('rtp.worker_failed', { error: err.message });
      link.opened?.reject(new Error(`RTP: media worker failed: ${err.message}`));
      for (const p of link.plays.values()) p.resolve('aborted');
      link.plays.clear();
      link.closed?.();
    }
    this.links.clear();
  }

  private onMessage(m: FromWorker): void {
    const link = this.links.get(m.sid);
    if (!link) return;
    switch (m.t) {
      case 'opened':
        link.opened?.resolve(m.port);
        link.opened = undefined;
        break;
      case 'open-failed':
        this.links.delete(m.sid);
        link.opened?.reject(new Error(m.message));
        this.releaseIfIdle();
        break;
      case 'played':
        link.plays.get(m.req)?.resolve(m.result);
        link.plays.delete(m.req);
        break;
      case 'play-failed':
        link.plays.get(m.req)?.reject(new Error(m.message));
        link.plays.delete(m.req);
        break;
      case 'dtmf':
        link.onDtmf(m.digit);
        break;
      case 'log':
        link.logger[m.level](m.event, m.fields);
        break;
      case 'closed':
        this.links.delete(m.sid);
        link.closed?.();
        this.releaseIfIdle();
        break;
    }
  }

  private releaseIfIdle(): void {
    if (this.links.size > 0 || this.dead || (holds.get(this.key) ?? 0) > 0) return;
    this.dead = new Error('stopped');
    if (hosts.get(this.key) === this) hosts.delete(this.key);
    void this.worker.terminate();
  }

  /** Opens a stream in the worker; resolves with a handle once the ports are bound. */
  async open(opts: {
    portRange: PortRange;
    localAddress: string;
    rtcpIntervalMs?: number;
    maxBurst?: number;
    logger: Logger;
    onDtmf: (digit: string) => void;
  }): Promise<WorkerStream> {
    const sid = this.nextSid++;
    const counters = new SharedArrayBuffer(4 * COUNTERS);
    const link: SessionLink = { logger: opts.logger, onDtmf: opts.onDtmf, plays: new Map() };
    this.links.set(sid, link);
    const port = await new Promise<number>((resolve, reject) => {
      link.opened = { resolve, reject };
      try {
        this.post({ t: 'open', sid, portRange: opts.portRange, localAddress: opts.localAddress, rtcpIntervalMs: opts.rtcpIntervalMs, maxBurst: opts.maxBurst, counters });
      } catch (err) {
        this.links.delete(sid);
        reject(err as Error);
      }
    });
    return new WorkerStream(this, sid, port, new Uint32Array(counters), link);
  }

  /** @internal */
  send(m: ToWorker, transfer?: ArrayBuffer[]): void {
    this.post(m, transfer);
  }
}

/** Handle on one stream living in the worker. */
export class WorkerStream {
  private nextReq = 1;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly host: MediaWorkerHost,
    private readonly sid: number,
    readonly localPort: number,
    readonly counters: Uint32Array,
    private readonly link: SessionLink,
  ) {}

  setRemote(r: RemoteMedia): void {
    this.host.send({ t: 'remote', sid: this.sid, remote: { ...r, ...(r.srtp ? { srtp: copyKeying(r.srtp) } : {}) } });
  }

  enqueue(what: Buffer[] | { silenceFrames: number }, marker: boolean): { id: number; result: Promise<PlayResult> } {
    const req = this.nextReq++;
    if (this.closing) return { id: req, result: Promise.resolve('aborted') };
    let frames: ArrayBuffer | null = null;
    if (Array.isArray(what)) {
      frames = new ArrayBuffer(what.reduce((n, f) => n + f.length, 0));
      const view = new Uint8Array(frames);
      let o = 0;
      for (const f of what) {
        view.set(f, o);
        o += f.length;
      }
    }
    const result = new Promise<PlayResult>((resolve, reject) => {
      this.link.plays.set(req, { resolve, reject });
      try {
        this.host.send(
          { t: 'play', sid: this.sid, req, frames, silenceFrames: Array.isArray(what) ? 0 : what.silenceFrames, marker },
          frames ? [frames] : [],
        );
      } catch (err) {
        this.link.plays.delete(req);
        reject(err as Error);
      }
    });
    return { id: req, result };
  }

  abort(id: number): void {
    if (this.closing) return;
    try {
      this.host.send({ t: 'abort', sid: this.sid, req: id });
    } catch {
      /* worker gone: its plays were already resolved */
    }
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => {
        this.link.closed = resolve;
        try {
          this.host.send({ t: 'close', sid: this.sid });
        } catch {
          resolve(); // worker already gone
        }
      });
    }
    return this.closing;
  }
}
