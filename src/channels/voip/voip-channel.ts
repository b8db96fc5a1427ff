/**
 * The `voip` channel: places a call through the PBX with the embedded SIP UA, speaks the alert
 * over RTP, and listens for keys (RFC 4733 via the RTP session, or SIP INFO); once answered the
 * shared conversation (src/channels/calls: 1 acknowledges, 2 repeats) runs over an RTP call leg.
 * A call nobody acknowledged is "answered", never "acknowledged" (voicemail answers calls too).
 */
import { randomInt } from 'node:crypto';
import type { G711Codec, PhraseKey, PromptAudio } from '../../audio/prompt-audio.js';
import { converse, Prepared, type CallLeg, type CallTimings, type LegEvent, type PlayResult, type Prompt } from '../calls/index.js';
import type { VoiceConfig, VoipConfig } from '../../config/schema.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { outcome, type Channel, type ChannelHealth, type DeliveryJob, type Outcome, type Recipient } from '../channel.js';
import { voiceText } from '../../compose/texts.js';
import { outcomeForFinal } from './call-outcome.js';
import { Slots } from '../../util/slots.js';
import { backgroundTimer } from '../../util/timers.js';
import { localAddressToward } from './local-address.js';
import { RtpSession, type RtpSessionOptions } from './rtp/session.js';
import { buildSdpOffer, parseSdpAnswer, type SrtpOffer } from './sdp.js';
import { keyingFor, maskSdp, newCryptoOffer } from './srtp/sdes.js';
import { insecureForSips, sipTarget } from './sip-target.js';
import type { TimerValues } from './sip/transaction/timers.js';
import { defaultServerPort, openSipTransport } from './sip/transport/open.js';
import { StreamTransport } from './sip/transport/stream-transport.js';
import type { SipLine } from './sip-line.js';
import { OutboundCall, type InviteResult } from './sip/ua/outbound-call.js';
import type { RegistrationStatus } from './sip/ua/registration.js';
import { ServerPool, type PoolMember, type PoolStatus } from './pool/server-pool.js';
import { resolveServer, dnsResolver, type Resolver } from './sip/ua/resolve.js';
import { SipUserAgent } from './sip/ua/user-agent.js';

/** Payload type we offer for RFC 4733 telephone-event. */
export const TELEPHONE_EVENT_PT = 101;

export interface VoipChannelOptions {
  config: VoipConfig;
  voice: VoiceConfig;
  audio: PromptAudio;
  logger: Logger;
  clock?: Clock;
  /** SIP timer values (tests may shorten T1). */
  timers?: Partial<TimerValues>;
  /** Extra RTP session options (pacer, RTCP interval). */
  rtp?: Partial<Omit<RtpSessionOptions, 'portRange' | 'localAddress' | 'logger'>>;
  /** The conversation's timings (key wait after the last play, gap between plays); CALL_TIMINGS by default. */
  timings?: Partial<CallTimings>;
  /** @deprecated the key wait after the last play (ms): use timings.keyWaitMs. */
  keyGraceMs?: number;
  resolver?: Resolver;
  /** Shared with the sipmsg channel: the UA and registration are attached to it while running. */
  line?: SipLine;
  /** TLS: double-CRLF keep-alive interval on our connections (default 30 s; 0 = none). */
  keepAliveMs?: number;
  /** Registration retry backoff after a failure (tests shorten it): first delay and cap, ms. */
  registrationRetry?: { retryMinMs?: number; retryMaxMs?: number };
}

export interface VoipStatus {
  /** The active server of the pool (the preferred one until a failover). */
  server: string;
  transport: string;
  /** Our SIP address (after start). */
  local?: string;
  registration: RegistrationStatus | { state: 'disabled'; reason: string };
  activeCalls: number;
  /** voip.servers: which server is active, which are down and why, failover/failback counts. */
  pool?: PoolStatus;
}

export class VoipChannel implements Channel {
  readonly name = 'voip' as const;
  readonly kind = 'voice' as const;
  readonly capacity: number;
  private readonly cfg: VoipConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly slots: Slots;
  private ua: SipUserAgent | undefined;
  private pool: ServerPool | undefined;
  private readonly calls = new Set<{ abort: () => void; done: Promise<unknown> }>();
  private readonly timings: Partial<CallTimings>;
  /** Releases the media worker kept warm between calls (see keepWarm). */
  private unwarm: (() => void) | undefined;
  private cancelCool: (() => void) | undefined;

  constructor(private readonly opts: VoipChannelOptions) {
    this.cfg = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger.child({ channel: 'voip' });
    this.capacity = this.cfg.maxConcurrentCalls;
    this.slots = new Slots(this.cfg.maxConcurrentCalls);
    this.timings = { ...(opts.keyGraceMs !== undefined ? { keyWaitMs: opts.keyGraceMs } : {}), ...opts.timings };
  }

  address(recipient: Recipient): string | null {
    return typeof recipient.sip === 'string' && recipient.sip.trim() !== '' ? recipient.sip : null;
  }

  /**
   * Binds the SIP transport and registers (when voip.register) to the first healthy server of
   * `voip.servers`, moving on to the next while one fails. Later failures are retried (and the
   * pool probed) in the background.
   */
  async start(): Promise<void> {
    if (this.ua) return;
    const resolver = this.opts.resolver ?? dnsResolver;
    const port = defaultServerPort(this.cfg.transport);
    const names = this.cfg.servers?.length ? this.cfg.servers : [this.cfg.server];
    const members: (PoolMember & { cause?: Error })[] = await Promise.all(
      names.map(async (name) => {
        try {
          return { name, endpoint: await resolveServer(name, resolver, port) };
        } catch (e) {
          return { name, error: (e as Error).message, cause: e as Error };
        }
      }),
    );
    const first = members.find((m) => m.endpoint)?.endpoint;
    if (!first) {
      if (members.length === 1 && members[0]!.cause) throw members[0]!.cause;
      throw new Error(`no server of voip.servers resolves: ${members.map((m) => `${m.name}: ${m.error}`).join('; ')}`);
    }
    const bindAddress = this.cfg.localAddress ?? (first.address.includes(':') ? '::' : '0.0.0.0');
    const open = { address: bindAddress, port: this.cfg.localPort, logger: this.logger };
    const transport = await openSipTransport(this.cfg, { ...open, ...(this.opts.keepAliveMs !== undefined ? { keepAliveMs: this.opts.keepAliveMs } : {}) });
    const ua = new SipUserAgent({
      transport,
      clock: this.clock,
      logger: this.logger,
      username: this.cfg.username,
      domain: this.cfg.domain,
      displayName: this.cfg.displayName,
      authUsername: this.cfg.authUsername,
      password: this.cfg.password,
      outboundProxy: first,
      timers: this.opts.timers,
    });
    if (transport.local.address === '0.0.0.0' || transport.local.address === '::') {
      ua.learnPublicAddress({ address: await localAddressToward(first), port: transport.local.port });
    }
    this.ua = ua;
    this.keepWarm();
    const srtp = this.cfg.srtp ?? 'off';
    if (srtp !== 'off' && this.cfg.transport !== 'tls') {
      this.logger.warn('voip.srtp_keys_in_clear', { srtp, transport: this.cfg.transport, hint: 'SDES keys travel in the SIP body: use transport tls' });
    }
    this.logger.info('voip.started', { server: names.length === 1 ? names[0] : names.join(', '), transport: transport.protocol, local: `${transport.local.address}:${transport.local.port}` });
    const pool = new ServerPool({
      ua,
      members: members.map(({ name, endpoint, error }) => ({ name, ...(endpoint ? { endpoint } : {}), ...(error ? { error } : {}) })),
      resolve: (name) => resolveServer(name, resolver, port),
      register: this.cfg.register,
      expires: Math.max(1, Math.round(this.cfg.registerExpires / 1000)),
      ...this.opts.registrationRetry,
      failback: this.cfg.failback ?? true,
      probeIntervalMs: this.cfg.probeInterval ?? 30_000,
      clock: this.clock,
      logger: this.logger,
      onActive: (a) =>
        this.opts.line?.attach({ ua, server: a.endpoint, serverName: a.name, peers: pool.endpointsKnown(), config: this.cfg, ...(a.registration ? { registration: a.registration } : {}) }),
    });
    this.pool = pool;
    // TLS: the registrar reaches us only over the connection we registered on; when it drops,
    // register again at once over a new one.
    if (transport.protocol === 'TLS' && transport instanceof StreamTransport) {
      transport.onConnectionClosed((remote) => {
        if (this.pool !== pool) return;
        const a = pool.active();
        if (remote.address === a.endpoint.address && remote.port === a.endpoint.port) a.registration?.reconnected();
      });
    }
    await pool.start();
  }

  /** Hangs up calls in progress, unregisters (Expires: 0) and closes the transport. */
  async stop(): Promise<void> {
    const ua = this.ua;
    if (!ua) return;
    this.opts.line?.detach(ua);
    for (const c of this.calls) c.abort();
    await Promise.allSettled([...this.calls].map((c) => c.done));
    await this.pool?.stop().catch(() => {});
    this.pool = undefined;
    ua.close();
    await ua.transport.close();
    this.cancelCool?.();
    this.unwarm?.();
    this.unwarm = undefined;
    this.ua = undefined;
    this.logger.info('voip.stopped');
  }

  /** The server pool while running (tests wait on its moves). */
  get serverPool(): ServerPool | undefined {
    return this.pool;
  }

  health(): ChannelHealth {
    if (!this.ua || !this.pool) return { healthy: false, detail: 'not started' };
    const p = this.pool.status();
    const down = p.servers.filter((x) => x.state === 'down');
    const others = down.length && p.servers.length > 1 ? `; down: ${down.map((x) => `${x.server} (${x.reason ?? 'down'})`).join(', ')}` : '';
    if (!this.cfg.register) return { healthy: true, detail: `registration disabled; calls go to ${p.active}${others}` };
    const s = this.pool.registrationStatus();
    if (s?.state === 'registered') return { healthy: true, detail: `registered to ${p.active}${others}` };
    return { healthy: false, detail: `${s?.state ?? 'unregistered'} at ${p.active}: ${s?.reason ?? ''}${others}`.trim() };
  }

  status(): VoipStatus {
    const local = this.ua ? this.ua.contactUri() : undefined;
    const pool = this.pool?.status();
    return {
      server: pool?.active ?? this.cfg.server,
      transport: this.cfg.transport,
      ...(local ? { local } : {}),
      registration: this.cfg.register
        ? (this.pool?.registrationStatus() ?? { state: 'unregistered', reason: 'not started', failures: 0, contact: '' })
        : { state: 'disabled', reason: 'voip.register is false' },
      activeCalls: this.slots.inUse,
      ...(pool ? { pool } : {}),
    };
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    const ua = this.ua;
    if (!ua) return outcome('failed', 'voip channel not started', true);
    let target: string;
    try {
      target = sipTarget(job.recipient.sip ?? '', this.cfg.domain);
    } catch (e) {
      return outcome('rejected', `bad SIP address: ${(e as Error).message}`, false);
    }
    const insecure = insecureForSips(target, this.cfg.transport);
    if (insecure) return outcome('rejected', insecure, false);
    this.keepWarm();
    const release = await this.slots.acquire(signal);
    if (!release) return outcome('failed', 'aborted before dialing', true);
    const local = new AbortController();
    const onAbort = () => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) local.abort();
    const run = this.placeCall(ua, job, target, local.signal);
    const entry = { abort: () => local.abort(), done: run };
    this.calls.add(entry);
    try {
      return await run;
    } catch (e) {
      this.logger.error('voip.call_error', { error: (e as Error).message });
      return outcome('failed', `call failed: ${(e as Error).message}`, true);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.calls.delete(entry);
      release();
      this.keepWarm();
    }
  }

  /**
   * The media worker (it owns the RTP sockets) is kept running from the channel's start and
   * between calls, so a call does not wait for a thread to start (~50 ms) before its INVITE. After
   * voice.unloadAfter without calls it stops (~10 MB) like the speech worker; the next call
   * starts it again.
   */
  private keepWarm(): void {
    this.unwarm ??= RtpSession.warm(this.opts.rtp);
    this.cancelCool?.();
    this.cancelCool = undefined;
    const idleMs = this.opts.voice.unloadAfter;
    if (!(idleMs > 0)) return;
    this.cancelCool = backgroundTimer(() => {
      this.cancelCool = undefined;
      if (this.calls.size) return; // the call's end arms it again
      this.unwarm?.();
      this.unwarm = undefined;
    }, idleMs);
  }

  private async placeCall(ua: SipUserAgent, job: DeliveryJob, target: string, signal: AbortSignal): Promise<Outcome> {
    const cfg = this.cfg;
    const rtp = await RtpSession.open({
      portRange: cfg.rtpPorts,
      localAddress: cfg.localAddress ?? (ua.contactAddress.address.includes(':') ? '::' : '0.0.0.0'),
      logger: this.logger,
      ...this.opts.rtp,
    });
    let call: OutboundCall | undefined;
    try {
      const lang = job.recipient.lang || this.opts.voice.lang;
      const rendered = new Map<G711Codec, Prepared<Buffer[]>>();
      const framesFor = (codec: G711Codec) => {
        let p = rendered.get(codec);
        if (!p) {
          p = new Prepared(this.opts.audio.callFrames(voiceText(job.alert, lang, job.moreAlerts), lang, codec));
          rendered.set(codec, p);
        }
        return p;
      };

      const srtpMode = cfg.srtp ?? 'off';
      const srtp: SrtpOffer = { mode: srtpMode, crypto: srtpMode === 'off' ? [] : newCryptoOffer() }; // fresh keys per call
      const sdp = buildSdpOffer({
        sessionId: randomInt(1, 2 ** 47),
        sessionVersion: 1,
        address: ua.contactAddress.address,
        rtpPort: rtp.localPort,
        codecs: cfg.codecs,
        telephoneEventPt: TELEPHONE_EVENT_PT,
        srtp: srtp.mode,
        crypto: srtp.crypto,
      });
      // One attempt tries the pool's servers in turn while they fail as servers do (no answer,
      // no connection, 5xx): the person still gets called when the first PBX is gone.
      const pool = this.pool!;
      const route = pool.callRoute();
      const tried: string[] = [];
      let log = this.logger;
      let detail: Record<string, unknown> = {};
      let ringTimedOut = false;
      let result: InviteResult | undefined;
      for (let k = 0; k < route.length; k++) {
        const hop = route[k]!;
        call?.finish();
        call = new OutboundCall(ua, target, sdp, { ...(this.opts.resolver ? { resolver: this.opts.resolver } : {}), proxy: hop.endpoint, noResponseMs: cfg.serverTimeout ?? 5000 });
        const c = call;
        log = this.logger.child({ callId: c.callId, attempt: job.attemptId });
        detail = { callId: c.callId, target, server: hop.name, ...(tried.length ? { failedOver: [...tried] } : {}) };
        log.info('voip.dialing', { target, server: hop.name });
        log.debug('voip.sdp_offer', { sdp: maskSdp(sdp) });
        ringTimedOut = false;
        const stopRing = this.clock.setTimer(() => {
          ringTimedOut = true;
          log.info('voip.ring_timeout', { ms: cfg.ringTimeout });
          c.cancel();
        }, cfg.ringTimeout);
        const onAbortRinging = () => c.cancel();
        signal.addEventListener('abort', onAbortRinging, { once: true });
        if (signal.aborted) c.cancel();
        const l = log;
        c.on('progress', (status, reason) => l.info('voip.progress', { status, reason }));
        const answered = c.start();
        // Render while it rings, once the first INVITE is out (synthesis runs on this thread): the
        // first codec we offer, then the others (one synthesis makes every format: cache reads).
        if (k === 0) setImmediate(() => void cfg.codecs.reduce((prev, codec) => prev.then(() => framesFor(codec).settled), Promise.resolve()));
        result = await answered;
        stopRing();
        signal.removeEventListener('abort', onAbortRinging);
        const serverDown = pool.reportCall(hop.index, result);
        const next = route[k + 1];
        if (!serverDown || !next || signal.aborted || ringTimedOut) break;
        tried.push(hop.name);
        log.warn('voip.call_failover', { from: hop.name, to: next.name, reason: 'reason' in result ? result.reason : result.kind });
      }
      if (!call || !result) return outcome('failed', 'no SIP server to call through (voip.servers)', true);
      const c = call;
      const where = (reason: string) => (route.length > 1 ? `${reason} at ${String(detail.server)}${tried.length ? ` (after ${tried.join(', ')})` : ''}` : reason);

      switch (result.kind) {
        case 'rejected':
          log.info('voip.rejected', { status: result.status, reason: result.reason });
          return outcomeForFinal(result.status, result.reason.replace(/^\d{3} /, ''), { ...detail, status: result.status });
        case 'cancelled':
          if (signal.aborted) return outcome('failed', 'aborted while ringing', true, detail);
          if (ringTimedOut) return outcome('no-answer', `no answer within ${cfg.ringTimeout / 1000} s`, true, detail);
          return outcome('no-answer', result.reason, true, detail);
        case 'timeout':
          return outcome('failed', where(result.reason), true, detail);
        case 'failed':
          return outcome('failed', where(result.reason), true, detail);
        case 'answered':
          log.info('voip.answered');
          log.debug('voip.sdp_answer', { sdp: maskSdp(result.sdp) });
          return await this.converse(c, rtp, result.sdp, srtp, framesFor, lang, signal, log, detail);
      }
      return outcome('failed', 'unexpected call state', true, detail);
    } finally {
      call?.finish();
      await rtp.close().catch(() => {});
    }
  }

  /** The answered part: media set up, then the shared conversation (src/channels/calls) over an RTP leg. */
  private async converse(
    call: OutboundCall,
    rtp: RtpSession,
    answerSdp: string,
    srtp: SrtpOffer,
    framesFor: (c: G711Codec) => Prepared<Buffer[]>,
    lang: string,
    signal: AbortSignal,
    log: Logger,
    detail: Record<string, unknown>,
  ): Promise<Outcome> {
    const cfg = this.cfg;
    let answer;
    try {
      answer = parseSdpAnswer(answerSdp, cfg.codecs, srtp);
      rtp.setRemote({
        address: answer.address,
        port: answer.port,
        rtcpPort: answer.rtcpPort,
        codec: answer.codec,
        payloadType: answer.payloadType,
        telephoneEventPt: answer.telephoneEventPt ?? TELEPHONE_EVENT_PT,
        telephoneEventPts: [...new Set([...answer.telephoneEventPts, TELEPHONE_EVENT_PT])],
        ...(answer.srtp ? { srtp: keyingFor(answer.srtp.local, answer.srtp.remote) } : {}),
      });
    } catch (e) {
      log.warn('voip.bad_answer', { error: (e as Error).message });
      await call.hangup();
      return outcome('failed', `unusable SDP answer: ${(e as Error).message}`, false, detail);
    }
    detail.codec = answer.codec;
    detail.srtp = answer.srtp?.suite ?? 'off';
    log.info('voip.media', { to: `${answer.address}:${answer.port}`, codec: answer.codec, pt: answer.payloadType, srtp: detail.srtp });
    // Still rendering when answered: the conversation holds, then plays it (or the generic message).
    const leg = new RtpCallLeg(call, rtp, framesFor(answer.codec), (key) => this.opts.audio.phraseFrames(key, lang, answer.codec), log);
    try {
      const o = await converse({ leg, repeat: this.opts.voice.repeat, maxMs: cfg.maxCallDuration, signal, timings: this.timings, clock: this.clock, log });
      return { ...o, detail: { ...detail, ...(o.detail ?? {}) } };
    } finally {
      leg.detach();
    }
  }
}

/**
 * The answered SIP call as a CallLeg: prompts go out as paced RTP frames in the negotiated
 * codec, pauses as the codec's silence (the far end keeps hearing a live line), keys arrive as
 * RFC 4733 events on the RTP session or as SIP INFO, the far end's BYE ends the call.
 */
class RtpCallLeg implements CallLeg {
  private readonly listeners = new Set<(e: LegEvent) => void>();
  private remoteGone = false;
  private readonly onRtpKey = (d: string) => this.emit({ type: 'key', key: d, via: 'rfc4733' });
  private readonly onInfoKey = (d: string) => this.emit({ type: 'key', key: d, via: 'info' });
  private readonly onBye = () => {
    this.remoteGone = true;
    this.log.info('voip.remote_bye');
    this.emit({ type: 'hangup' });
  };

  constructor(
    private readonly call: OutboundCall,
    private readonly rtp: RtpSession,
    readonly message: Prepared<Buffer[]>,
    private readonly phraseFrames: (key: PhraseKey) => Promise<Buffer[]>,
    private readonly log: Logger,
  ) {
    rtp.on('dtmf', this.onRtpKey);
    call.on('dtmf', this.onInfoKey);
    call.on('bye', this.onBye);
  }

  private emit(e: LegEvent): void {
    for (const fn of [...this.listeners]) fn(e);
  }

  onEvent(fn: (e: LegEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async play(prompt: Prompt, signal: AbortSignal): Promise<PlayResult> {
    let frames: Buffer[];
    if (prompt.kind === 'message') {
      await this.message.settled;
      if (!this.message.value) return { error: `prompt audio unavailable: ${this.message.error}` };
      frames = this.message.value;
    } else {
      try {
        frames = await this.phraseFrames(prompt.phrase);
      } catch (e) {
        return { error: `phrase "${prompt.phrase}" unavailable: ${(e as Error).message}` };
      }
    }
    try {
      return (await this.rtp.play(frames, signal)) === 'aborted' ? 'stopped' : 'done';
    } catch (e) {
      return { error: `RTP playback failed: ${(e as Error).message}` };
    }
  }

  async pause(ms: number, signal: AbortSignal): Promise<'done' | 'stopped'> {
    try {
      return (await this.rtp.playSilence(ms, signal)) === 'aborted' ? 'stopped' : 'done';
    } catch {
      return 'stopped';
    }
  }

  async hangUp(): Promise<void> {
    if (this.remoteGone) return;
    await this.call.hangup().catch((e: Error) => this.log.warn('voip.hangup_failed', { error: e.message }));
  }

  /** Stops listening to the call's keys and BYE. */
  detach(): void {
    this.rtp.off('dtmf', this.onRtpKey);
    this.call.off('dtmf', this.onInfoKey);
    this.call.off('bye', this.onBye);
  }
}


