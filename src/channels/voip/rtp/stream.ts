/**
 * One RTP/RTCP media stream on one thread: the two sockets, the paced sender, RTCP reports and
 * RFC 4733 receive. RtpSession (session.ts) runs this either on the main thread or inside the
 * media worker (media-worker.ts); the logic is the same in both places.
 *
 * With SRTP keys in the remote description (SDES, negotiated in sdp.ts), every RTP and RTCP
 * packet sent is protected (RFC 3711) and every packet received must authenticate before it is
 * looked at: packets that fail (bad tag, replay, plain RTP) are dropped and counted. Keys are
 * never logged.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import { encodeRtp, decodeRtp } from './packet.js';
import { SlotPacer } from './pacer.js';
import type { FrameTicker, TickSubscriber } from './ticker.js';
import { bindPortPair, type PortRange } from './port-pair.js';
import {
  decodeRtcpCompound,
  encodeBye,
  encodeCompound,
  encodeReceiverReport,
  encodeSdes,
  encodeSenderReport,
  ntpFromUnixMs,
  ntpMiddle32,
  SDES_CNAME,
} from './rtcp.js';
import { DtmfDetector, decodeTelephoneEvent } from './telephone-event.js';
import { ReceptionStats } from './reception.js';
import { samePolicy, SrtpContext, SrtpError, type SrtpDrop, type SrtpKeying, type SrtpPolicy } from '../srtp/srtp.js';

export type G711 = 'PCMU' | 'PCMA';

export interface RemoteMedia {
  address: string;
  port: number;
  rtcpPort: number;
  codec: G711;
  payloadType: number;
  /** Payload type the far end sends RFC 4733 events with (from the answer; default 101). */
  telephoneEventPt?: number;
  /** Further payload types accepted as telephone-event (e.g. every one the answer maps, and ours). */
  telephoneEventPts?: number[];
  /** SRTP keys when the answer accepted our a=crypto: RTP and RTCP are then protected both ways. */
  srtp?: SrtpKeying;
}

export const FRAME_BYTES = 160;
export const SAMPLES_PER_FRAME = 160;
/** G.711 encodings of a zero sample: μ-law 0xFF, A-law 0xD5 (ITU-T G.711 tables). */
export const SILENCE_BYTE: Record<G711, number> = { PCMU: 0xff, PCMA: 0xd5 };

/** Index of each counter in the shared counters array. */
export const Counter = { PacketsSent: 0, OctetsSent: 1, PacketsReceived: 2, SrtpDropped: 3 } as const;
export const COUNTERS = 4;

export type PlayResult = 'done' | 'aborted';

export interface RtpStreamOptions {
  portRange: PortRange;
  localAddress?: string;
  logger: Logger;
  ticker: FrameTicker;
  /** Wall clock for RTCP NTP timestamps and the RTCP timer (default: system clock, µs precision). */
  clock?: Clock;
  /** Mean RTCP report interval (default 5000 ms; each interval is randomized 0.5–1.5×). */
  rtcpIntervalMs?: number;
  /** Most packets sent back to back to catch up after a stall (default 3). */
  maxBurst?: number;
  onDtmf: (digit: string) => void;
  /** Where stats are kept (Counter indices); may live in shared memory. */
  counters?: Uint32Array;
}

interface QueueItem {
  id: number;
  frames: Buffer[] | { count: number };
  index: number;
  marker: boolean;
  resolve: (r: PlayResult) => void;
}

function canonicalAddress(a: string): string {
  if (isIP(a) === 6) return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  return a;
}

/** Validates a remote description; throws a clear Error. `localFamily` is the RTP socket's IP version. */
export function checkRemote(r: RemoteMedia, localFamily: 4 | 6): void {
  const fam = isIP(r?.address ?? '');
  if (fam === 0) throw new Error(`RTP: remote address is not an IP literal: ${JSON.stringify(r?.address)}`);
  if (fam !== localFamily) throw new Error(`RTP: remote ${r.address} is IPv${fam} but the RTP socket is IPv${localFamily} (set localAddress accordingly)`);
  for (const [k, v] of [['port', r.port], ['rtcpPort', r.rtcpPort]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`RTP: bad remote ${k} ${v}`);
  }
  if (r.codec !== 'PCMU' && r.codec !== 'PCMA') throw new Error(`RTP: unsupported codec ${JSON.stringify(r.codec)}`);
  for (const pt of [r.payloadType, r.telephoneEventPt ?? 101, ...(r.telephoneEventPts ?? [])]) {
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new Error(`RTP: bad payload type ${pt}`);
  }
  if (r.srtp !== undefined) srtpContexts(r.srtp); // throws SrtpError on unusable keys
}

function srtpContexts(k: SrtpKeying): { tx: SrtpContext; rx: SrtpContext } {
  if (!k || typeof k !== 'object' || !k.send || !k.receive) throw new SrtpError('keying needs send and receive policies');
  return { tx: new SrtpContext(k.send), rx: new SrtpContext(k.receive) };
}

/** Validates what play()/playSilence() hand over; throws a clear Error. */
export function checkPlayable(what: Buffer[] | { silenceFrames: number }): void {
  if (Array.isArray(what)) {
    what.forEach((f, i) => {
      if (!Buffer.isBuffer(f)) throw new TypeError(`RTP: frame ${i} is not a Buffer`);
      if (f.length !== FRAME_BYTES) throw new RangeError(`RTP: frame ${i} has ${f.length} bytes, expected ${FRAME_BYTES} (20 ms of 8 kHz G.711)`);
    });
  } else {
    const n = what?.silenceFrames;
    if (!Number.isInteger(n) || n < 0) throw new RangeError('RTP: silence length must be a non-negative number of frames');
  }
}

export class RtpStream implements TickSubscriber {
  readonly localPort: number;
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomInt(0, 0x10000);
  private readonly tsBase = randomBytes(4).readUInt32BE(0);
  private readonly slot0: number;
  private readonly cname = `alertline-${randomBytes(8).toString('hex')}`;
  private readonly pacer: SlotPacer;
  private readonly queue: QueueItem[] = [];
  private readonly dtmf = new DtmfDetector();
  readonly counters: Uint32Array;
  private readonly clock: Clock | undefined;
  private readonly rtcpIntervalMs: number;
  private remote: (RemoteMedia & { canonical: string; dtmfPts: Set<number>; silence: Buffer }) | undefined;
  private srtp: { tx: SrtpContext; rx: SrtpContext; send: SrtpPolicy; receive: SrtpPolicy } | undefined;
  private srtpErrors = 0;
  private srtpDropLogs = 0;
  private nextId = 1;
  private cancelRtcp: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private sendErrors = 0;
  private skippedSlots = 0;
  private reception: ReceptionStats | undefined;
  private lastSr: { middle: number; at: number } | undefined;

  private constructor(
    private readonly rtp: dgram.Socket,
    private readonly rtcp: dgram.Socket,
    port: number,
    private readonly opts: RtpStreamOptions,
  ) {
    this.localPort = port;
    this.pacer = new SlotPacer(opts.maxBurst ?? 3);
    this.counters = opts.counters ?? new Uint32Array(COUNTERS);
    this.clock = opts.clock;
    this.rtcpIntervalMs = opts.rtcpIntervalMs ?? 5000;
    this.slot0 = opts.ticker.currentSlot();
    rtp.on('message', (msg, rinfo) => this.onRtp(msg, rinfo));
    rtcp.on('message', (msg, rinfo) => this.onRtcp(msg, rinfo));
    const onErr = (which: string) => (err: Error) => opts.logger.warn('rtp.socket_error', { socket: which, error: err.message });
    rtp.on('error', onErr('rtp'));
    rtcp.on('error', onErr('rtcp'));
  }

  static async open(opts: RtpStreamOptions): Promise<RtpStream> {
    if (opts.rtcpIntervalMs !== undefined && !(opts.rtcpIntervalMs >= 10)) throw new Error('RTP: rtcpIntervalMs must be at least 10');
    const pair = await bindPortPair(opts.portRange, opts.localAddress ?? '0.0.0.0');
    const s = new RtpStream(pair.rtp, pair.rtcp, pair.port, opts);
    opts.ticker.add(s);
    s.scheduleRtcp();
    opts.logger.debug('rtp.open', { port: pair.port, ssrc: s.ssrc });
    return s;
  }

  setRemote(r: RemoteMedia): void {
    if (this.closing) throw new Error('RTP: stream is closed');
    checkRemote(r, this.rtp.address().family === 'IPv6' ? 6 : 4);
    const dtmfPts = new Set([r.telephoneEventPt ?? 101, ...(r.telephoneEventPts ?? [])]);
    dtmfPts.delete(r.payloadType);
    // New keys replace the contexts (and their ROC/replay state); the same keys keep them: a
    // fresh context would restart the ROC at 0 and could reuse keystream after a wrap.
    const prev = this.srtp;
    if (!r.srtp) this.srtp = undefined;
    else if (!prev || !samePolicy(prev.send, r.srtp.send) || !samePolicy(prev.receive, r.srtp.receive)) this.srtp = { ...srtpContexts(r.srtp), send: r.srtp.send, receive: r.srtp.receive };
    const { srtp: _keys, ...plain } = r; // keys stay out of the stored description and the log
    this.remote = { ...plain, canonical: canonicalAddress(r.address), dtmfPts, silence: Buffer.alloc(FRAME_BYTES, SILENCE_BYTE[r.codec]) };
    this.opts.logger.debug('rtp.remote', {
      address: r.address, port: r.port, rtcpPort: r.rtcpPort, codec: r.codec, pt: r.payloadType, srtp: this.srtp ? this.srtp.tx.suite : 'off',
    });
  }

  /**
   * Queues frames (or `silence` frames of the codec's silence) for sending; returns an id for
   * abort() and a promise of the result. Validation errors throw synchronously.
   */
  enqueue(what: Buffer[] | { silenceFrames: number }, marker: boolean): { id: number; result: Promise<PlayResult> } {
    if (this.closing) throw new Error('RTP: stream is closed');
    if (!this.remote) throw new Error('RTP: setRemote() must be called before playing');
    checkPlayable(what);
    const frames: Buffer[] | { count: number } = Array.isArray(what) ? what : { count: what.silenceFrames };
    const id = this.nextId++;
    let resolve!: (r: PlayResult) => void;
    const result = new Promise<PlayResult>((r) => (resolve = r));
    const count = Array.isArray(frames) ? frames.length : frames.count;
    if (count === 0) {
      resolve('done');
      return { id, result };
    }
    this.queue.push({ id, frames, index: 0, marker, resolve });
    if (!this.pacer.active) {
      this.pacer.begin(this.opts.ticker.currentSlot());
      this.opts.ticker.reschedule();
    }
    return { id, result };
  }

  /** Stops a queued or playing item; its promise resolves 'aborted'. Unknown ids are ignored. */
  abort(id: number): void {
    const i = this.queue.findIndex((q) => q.id === id);
    if (i < 0) return;
    const [item] = this.queue.splice(i, 1);
    item!.resolve('aborted');
    if (this.queue.length === 0) {
      this.pacer.stop();
      this.opts.ticker.reschedule();
    }
  }

  stats(): { packetsSent: number; octetsSent: number; packetsReceived: number; srtpDropped: number; skippedSlots: number } {
    return {
      packetsSent: this.counters[Counter.PacketsSent]!,
      octetsSent: this.counters[Counter.OctetsSent]!,
      packetsReceived: this.counters[Counter.PacketsReceived]!,
      srtpDropped: this.counters[Counter.SrtpDropped]!,
      skippedSlots: this.skippedSlots,
    };
  }

  /** Protects an outgoing packet when SRTP is on; undefined (and logged, a few times) if it cannot be. */
  private protect(pkt: Buffer, kind: 'rtp' | 'rtcp'): Buffer | undefined {
    const srtp = this.srtp;
    if (!srtp) return pkt;
    try {
      return kind === 'rtp' ? srtp.tx.protectRtp(pkt) : srtp.tx.protectRtcp(pkt);
    } catch (err) {
      if (this.srtpErrors++ < 5) this.opts.logger.error('srtp.protect_failed', { kind, error: (err as Error).message });
      return undefined;
    }
  }

  /** Unprotects an incoming packet when SRTP is on; undefined (counted) when it fails. */
  private unprotect(msg: Buffer, kind: 'rtp' | 'rtcp'): Buffer | undefined {
    const srtp = this.srtp;
    if (!srtp) return msg;
    const r = kind === 'rtp' ? srtp.rx.unprotectRtp(msg) : srtp.rx.unprotectRtcp(msg);
    if (r.ok) return r.packet;
    this.dropped(kind, r.reason, msg.length);
    return undefined;
  }

  private dropped(kind: 'rtp' | 'rtcp', reason: SrtpDrop, length: number): void {
    this.counters[Counter.SrtpDropped]! += 1;
    if (this.srtpDropLogs++ < 5) this.opts.logger.debug('srtp.dropped', { kind, reason, length, dropped: this.counters[Counter.SrtpDropped]! });
  }

  // --- TickSubscriber -------------------------------------------------------------------------

  nextSlot(): number | undefined {
    return this.pacer.nextSlot;
  }

  onTick(currentSlot: number): void {
    try {
      this.sendDue(currentSlot);
    } catch (err) {
      this.opts.logger.error('rtp.send_failed', { error: (err as Error).message });
    }
  }

  private sendDue(currentSlot: number): void {
    const { slots, skipped } = this.pacer.due(currentSlot);
    if (skipped > 0) {
      this.skippedSlots += skipped;
      this.opts.logger.debug('rtp.late', { skippedSlots: skipped });
    }
    const remote = this.remote;
    for (let i = 0; i < slots.length && remote; i++) {
      const item = this.queue[0];
      if (!item) break;
      const payload = Array.isArray(item.frames) ? item.frames[item.index]! : remote.silence;
      // marker: first packet of a talkspurt, and the first packet after skipped slots (a gap)
      const marker = (item.index === 0 && item.marker) || (skipped > 0 && i === 0);
      const pkt = encodeRtp({
        marker,
        payloadType: remote.payloadType,
        sequenceNumber: this.seq,
        timestamp: (this.tsBase + SAMPLES_PER_FRAME * (slots[i]! - this.slot0)) >>> 0,
        ssrc: this.ssrc,
        payload,
      });
      this.seq = (this.seq + 1) & 0xffff;
      const out = this.protect(pkt, 'rtp');
      if (out) {
        this.rtp.send(out, remote.port, remote.address, (err) => {
          if (err && this.sendErrors++ < 5) this.opts.logger.warn('rtp.send_error', { error: err.message });
        });
        this.counters[Counter.PacketsSent]! += 1;
        this.counters[Counter.OctetsSent]! += FRAME_BYTES;
      }
      item.index++;
      const count = Array.isArray(item.frames) ? item.frames.length : item.frames.count;
      if (item.index >= count) {
        this.queue.shift();
        item.resolve('done');
      }
    }
    if (this.queue.length === 0) this.pacer.stop();
  }

  // --- receive --------------------------------------------------------------------------------

  private fromRemote(address: string): boolean {
    return this.remote !== undefined && canonicalAddress(address) === this.remote.canonical;
  }

  private onRtp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closing || !this.fromRemote(rinfo.address)) return; // symmetric RTP: only the far end may talk to us
    const data = this.unprotect(msg, 'rtp');
    if (!data) return;
    let pkt;
    try {
      pkt = decodeRtp(data);
    } catch {
      return; // not RTP: ignore
    }
    this.counters[Counter.PacketsReceived]! += 1;
    if (!this.reception || this.reception.ssrc !== pkt.ssrc) this.reception = new ReceptionStats(pkt.ssrc, pkt.sequenceNumber);
    this.reception.update(pkt.sequenceNumber, pkt.timestamp, performance.now());
    if (!this.remote!.dtmfPts.has(pkt.payloadType)) return;
    try {
      const ev = decodeTelephoneEvent(pkt.payload);
      const digit = this.dtmf.push(pkt.ssrc, pkt.timestamp, pkt.marker, ev);
      if (digit !== undefined) {
        this.opts.logger.debug('rtp.dtmf', { digit });
        this.opts.onDtmf(digit);
      }
    } catch {
      /* malformed event payload: ignore */
    }
  }

  private onRtcp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closing || !this.fromRemote(rinfo.address)) return;
    const data = this.unprotect(msg, 'rtcp');
    if (!data) return;
    try {
      for (const p of decodeRtcpCompound(data)) {
        if (p.type === 'SR') this.lastSr = { middle: ntpMiddle32(p.ntp), at: performance.now() };
        else if (p.type === 'BYE') this.opts.logger.debug('rtcp.bye_received', { reason: p.reason });
      }
    } catch (err) {
      this.opts.logger.debug('rtcp.bad_packet', { error: (err as Error).message });
    }
  }

  // --- RTCP -----------------------------------------------------------------------------------

  private wallNow(): number {
    return this.clock ? this.clock.now() : performance.timeOrigin + performance.now();
  }

  private setTimer(fn: () => void, ms: number): () => void {
    if (this.clock) return this.clock.setTimer(fn, ms);
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  }

  private scheduleRtcp(): void {
    const interval = this.rtcpIntervalMs * (0.5 + Math.random()); // RFC 3550 §6.3.1 randomization
    this.cancelRtcp = this.setTimer(() => {
      this.sendRtcp();
      if (!this.closing) this.scheduleRtcp();
    }, interval);
  }

  /** SR (or RR before we have sent anything) + SDES CNAME, optionally + BYE. */
  private rtcpCompound(bye: boolean): Buffer {
    const reports = [];
    if (this.reception) {
      const lsr = this.lastSr?.middle ?? 0;
      const dlsr = this.lastSr ? ((performance.now() - this.lastSr.at) / 1000) * 65536 : 0;
      reports.push(this.reception.reportBlock(lsr, dlsr));
    }
    const packets: Buffer[] = [];
    const sent = this.counters[Counter.PacketsSent]!;
    if (sent > 0) {
      const mono = performance.now();
      const rtpTs = (this.tsBase + Math.round(((mono - this.opts.ticker.slotTime(this.slot0)) * 8000) / 1000)) >>> 0;
      packets.push(
        encodeSenderReport({
          ssrc: this.ssrc,
          ntp: ntpFromUnixMs(this.wallNow()),
          rtpTimestamp: rtpTs,
          packetCount: sent,
          octetCount: this.counters[Counter.OctetsSent]!,
          reports,
        }),
      );
    } else {
      packets.push(encodeReceiverReport({ ssrc: this.ssrc, reports }));
    }
    packets.push(encodeSdes([{ ssrc: this.ssrc, items: [{ type: SDES_CNAME, value: this.cname }] }]));
    if (bye) packets.push(encodeBye([this.ssrc], 'call ended'));
    return encodeCompound(packets);
  }

  private sendRtcp(bye = false): Promise<void> {
    const remote = this.remote;
    if (!remote) return Promise.resolve();
    let plain: Buffer;
    try {
      plain = this.rtcpCompound(bye);
    } catch (err) {
      this.opts.logger.error('rtcp.encode_failed', { error: (err as Error).message });
      return Promise.resolve();
    }
    const pkt = this.protect(plain, 'rtcp');
    if (!pkt) return Promise.resolve();
    return new Promise((resolve) => {
      this.rtcp.send(pkt, remote.rtcpPort, remote.address, (err) => {
        if (err) this.opts.logger.warn('rtcp.send_error', { error: err.message });
        resolve();
      });
    });
  }

  /** Aborts everything queued, sends RTCP BYE (if a remote is set), closes the sockets. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        for (const item of this.queue.splice(0)) item.resolve('aborted');
        this.pacer.stop();
        this.opts.ticker.remove(this);
        this.cancelRtcp?.();
        let t: NodeJS.Timeout | undefined;
        await Promise.race([this.sendRtcp(true), new Promise((r) => (t = setTimeout(r, 500)))]);
        clearTimeout(t);
        await Promise.all([this.rtp, this.rtcp].map((s) => new Promise<void>((r) => s.close(() => r()))));
        this.opts.logger.debug('rtp.closed', { port: this.localPort, ...this.stats() });
      })();
    }
    return this.closing;
  }
}
