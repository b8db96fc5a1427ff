/**
 * RtpSession: the media half of one call, as the voip channel sees it. Binds an even RTP port and
 * the next port for RTCP, sends G.711 frames paced on an absolute 20 ms schedule from the port it
 * advertised (symmetric RTP), reports RFC 4733 key presses as 'dtmf' events, sends RTCP SR/SDES
 * every ~5 s and BYE on close.
 *
 * Where the pacing runs: by default in a shared media worker thread (media-worker.ts), so work on
 * the main event loop (SMTP ingest, SQLite, speech synthesis) cannot delay packets; bench/rtp
 * measures the difference. `pacer: 'main'` runs the same stream code on the calling thread. When
 * the compiled worker script is not present (running from TypeScript sources, e.g. under vitest)
 * the default falls back to the main thread.
 *
 * SRTP: when setRemote() carries SDES keys (RemoteMedia.srtp), RTP and RTCP are protected in
 * both directions (RFC 3711) wherever the stream runs.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import type { PortRange } from './port-pair.js';
import { FrameTicker } from './ticker.js';
import { checkPlayable, checkRemote, Counter, RtpStream, type PlayResult, type RemoteMedia } from './stream.js';
import { MediaWorkerHost } from './worker-host.js';

export type { RemoteMedia, PlayResult } from './stream.js';
export { SILENCE_BYTE, FRAME_BYTES } from './stream.js';

export interface RtpSessionOptions {
  portRange: PortRange;
  /** Address to bind (default 0.0.0.0). Use an IPv6 address (or "::") to talk to IPv6 peers. */
  localAddress?: string;
  logger: Logger;
  /** Wall clock for RTCP timestamps and the RTCP timer; honoured with pacer 'main' only. */
  clock?: Clock;
  /** Where packets are paced: 'worker' (default when available) or 'main'. */
  pacer?: 'worker' | 'main';
  /** Worker script (default: media-worker.js next to this module). */
  workerScript?: URL | string;
  /** Mean RTCP interval in ms (default 5000, randomized 0.5–1.5×). */
  rtcpIntervalMs?: number;
  /** Most packets sent back to back when catching up after a stall (default 3). */
  maxBurst?: number;
  /** Poll window of the 20 ms ticker before each deadline, ms (default 0: sleep on a timer to within 1 ms, then poll). */
  spinMs?: number;
  /**
   * Nice value for the media worker thread, e.g. -10 (only that thread is affected; needs root or
   * CAP_SYS_NICE, otherwise ignored). Default: leave the priority as it is.
   */
  workerPriority?: number | null;
}

interface Backend {
  readonly localPort: number;
  setRemote(r: RemoteMedia): void;
  enqueue(what: Buffer[] | { silenceFrames: number }, marker: boolean): { id: number; result: Promise<PlayResult> };
  abort(id: number): void;
  close(): Promise<void>;
}

const tickers = new Map<number, FrameTicker>();
function mainTicker(spinMs: number): FrameTicker {
  let t = tickers.get(spinMs);
  if (!t) {
    t = new FrameTicker({ spinMs });
    tickers.set(spinMs, t);
  }
  return t;
}

const DEFAULT_WORKER = new URL('./media-worker.js', import.meta.url);

function workerAvailable(script: URL | string): boolean {
  try {
    return existsSync(typeof script === 'string' ? script : fileURLToPath(script));
  } catch {
    return false;
  }
}

export class RtpSession extends EventEmitter {
  readonly localPort: number;
  /** Where this session's packets are paced. */
  readonly pacer: 'worker' | 'main';
  private remoteSet = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly backend: Backend,
    private readonly counters: Uint32Array,
    private readonly localFamily: 4 | 6,
    pacer: 'worker' | 'main',
  ) {
    super();
    this.localPort = backend.localPort;
    this.pacer = pacer;
  }

  /**
   * Starts the media worker these options would use and keeps it up until the returned function
   * is called (a no-op when packets are paced on the main thread).
   */
  static warm(opts: Pick<RtpSessionOptions, 'pacer' | 'workerScript' | 'spinMs' | 'workerPriority'> = {}): () => void {
    const script = opts.workerScript ?? DEFAULT_WORKER;
    const pacer = opts.pacer ?? (workerAvailable(script) ? 'worker' : 'main');
    if (pacer !== 'worker' || !workerAvailable(script)) return () => {};
    return MediaWorkerHost.hold(script, { spinMs: opts.spinMs, priority: opts.workerPriority ?? undefined });
  }

  static async open(opts: RtpSessionOptions): Promise<RtpSession> {
    const localAddress = opts.localAddress ?? '0.0.0.0';
    const family = isIP(localAddress);
    if (family === 0) throw new Error(`RTP: localAddress is not an IP literal: ${JSON.stringify(localAddress)}`);
    const script = opts.workerScript ?? DEFAULT_WORKER;
    const hasWorker = workerAvailable(script);
    if (opts.pacer === 'worker' && !hasWorker) throw new Error(`RTP: media worker script not found: ${String(script)}`);
    const pacer = opts.pacer ?? (hasWorker ? 'worker' : 'main');
    // The emitter has to exist before packets can arrive; DTMF is routed to it once it does.
    let session: RtpSession | undefined;
    const onDtmf = (digit: string) => session?.emit('dtmf', digit);
    if (pacer === 'worker') {
      const priority = opts.workerPriority ?? undefined;
      const host = MediaWorkerHost.acquire(script, { spinMs: opts.spinMs, priority });
      const ws = await host.open({
        portRange: opts.portRange,
        localAddress,
        rtcpIntervalMs: opts.rtcpIntervalMs,
        maxBurst: opts.maxBurst,
        logger: opts.logger,
        onDtmf,
      });
      session = new RtpSession(ws, ws.counters, family as 4 | 6, 'worker');
    } else {
      const stream = await RtpStream.open({
        portRange: opts.portRange,
        localAddress,
        logger: opts.logger,
        clock: opts.clock,
        ticker: mainTicker(opts.spinMs ?? 0),
        rtcpIntervalMs: opts.rtcpIntervalMs,
        maxBurst: opts.maxBurst,
        onDtmf,
      });
      session = new RtpSession(stream, stream.counters, family as 4 | 6, 'main');
    }
    return session;
  }

  /** Where to send (the answer's c=/m=), which codec and payload types. Throws on bad values. */
  setRemote(r: RemoteMedia): void {
    if (this.closing) throw new Error('RTP: session is closed');
    checkRemote(r, this.localFamily);
    this.backend.setRemote(r);
    this.remoteSet = true;
  }

  /**
   * Sends 160-byte frames, one every 20 ms; the first packet carries the marker bit (start of a
   * talkspurt). Calls queue behind each other. Resolves 'done' after the last packet was sent,
   * 'aborted' if the signal fired or the session closed first. Rejects on invalid frames or when
   * setRemote() was not called.
   */
  play(frames: Buffer[], signal?: AbortSignal): Promise<PlayResult> {
    return this.run(() => checkPlayable(frames), frames, true, signal);
  }

  /** Sends `ms` of the codec's silence (0xFF PCMU, 0xD5 PCMA), continuing sequence and timestamp. */
  playSilence(ms: number, signal?: AbortSignal): Promise<PlayResult> {
    const what = { silenceFrames: Number.isFinite(ms) && ms >= 0 ? Math.ceil(ms / 20) : NaN };
    return this.run(() => checkPlayable(what), what, false, signal);
  }

  private async run(check: () => void, what: Buffer[] | { silenceFrames: number }, marker: boolean, signal?: AbortSignal): Promise<PlayResult> {
    check();
    if (!this.remoteSet) throw new Error('RTP: setRemote() must be called before playing');
    if (this.closing || signal?.aborted) return 'aborted';
    const { id, result } = this.backend.enqueue(what, marker);
    if (!signal) return result;
    const onAbort = () => this.backend.abort(id);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await result;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Packet counters; srtpDropped counts received packets refused by SRTP/SRTCP (bad tag, replay, not protected). */
  stats(): { packetsSent: number; octetsSent: number; packetsReceived: number; srtpDropped: number } {
    const c = this.counters;
    return {
      packetsSent: Atomics.load(c, Counter.PacketsSent),
      octetsSent: Atomics.load(c, Counter.OctetsSent),
      packetsReceived: Atomics.load(c, Counter.PacketsReceived),
      srtpDropped: Atomics.load(c, Counter.SrtpDropped),
    };
  }

  /** Aborts playback, sends RTCP BYE, closes both sockets. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.backend.close().finally(() => this.removeAllListeners('dtmf'));
    return this.closing;
  }

  override on(event: 'dtmf', fn: (digit: string) => void): this;
  override on(event: string | symbol, fn: (...args: any[]) => void): this;
  override on(event: string | symbol, fn: (...args: any[]) => void): this {
    return super.on(event, fn);
  }
}
