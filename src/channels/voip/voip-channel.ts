/**
 * The `voip` channel: places a call through the PBX with the embedded SIP UA, speaks the alert
 * over RTP, and listens for keys (RFC 4733 via the RTP session, or SIP INFO): 1 acknowledges,
 * 2 repeats. A call nobody acknowledged is "answered", never "acknowledged" (voicemail answers
 * calls too).
 */
import { randomInt } from 'node:crypto';
import type { G711Codec, PromptAudio } from '../../audio/prompt-audio.js';
import type { VoiceConfig, VoipConfig } from '../../config/schema.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { outcome, type Channel, type ChannelHealth, type DeliveryJob, type Outcome, type Recipient } from '../channel.js';
import { voiceText } from '../../compose/texts.js';
import { outcomeForFinal } from './call-outcome.js';
import { Slots } from '../../util/slots.js';
import { localAddressToward } from './local-address.js';
import { RtpSession, type RtpSessionOptions } from './rtp/session.js';
import { buildSdpOffer, parseSdpAnswer, type SrtpOffer } from './sdp.js';
import { keyingFor, maskSdp, newCryptoOffer } from './srtp/sdes.js';
import { insecureForSips, sipTarget } from './sip-target.js';
import type { TimerValues } from './sip/transaction/timers.js';
import { defaultServerPort, openSipTransport } from './sip/transport/open.js';
import { StreamTransport } from './sip/transport/stream-transport.js';
import type { SipLine } from './sip-line.js';
import { OutboundCall } from './sip/ua/outbound-call.js';
import { Registration, type RegistrationStatus } from './sip/ua/registration.js';
import { resolveServer, dnsResolver, type Resolver } from './sip/ua/resolve.js';
import { SipUserAgent } from './sip/ua/user-agent.js';

/** Payload type we offer for RFC 4733 telephone-event. */
export const TELEPHONE_EVENT_PT = 101;
/** Silence between repetitions of the message. */
const GAP_MS = 1000;

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
  /** How long to wait for a key after the last repetition (default 3 s). */
  keyGraceMs?: number;
  resolver?: Resolver;
  /** Shared with the sipmsg channel: the UA and registration are attached to it while running. */
  line?: SipLine;
  /** TLS: double-CRLF keep-alive interval on our connections (default 30 s; 0 = none). */
  keepAliveMs?: number;
}

export interface VoipStatus {
  server: string;
  transport: string;
  /** Our SIP address (after start). */
  local?: string;
  registration: RegistrationStatus | { state: 'disabled'; reason: string };
  activeCalls: number;
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
  private registration: Registration | undefined;
  private readonly calls = new Set<{ abort: () => void; done: Promise<unknown> }>();

  constructor(private readonly opts: VoipChannelOptions) {
    this.cfg = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger.child({ channel: 'voip' });
    this.capacity = this.cfg.maxConcurrentCalls;
    this.slots = new Slots(this.cfg.maxConcurrentCalls);
  }

  address(recipient: Recipient): string | null {
    return typeof recipient.sip === 'string' && recipient.sip.trim() !== '' ? recipient.sip : null;
  }

  /** Binds the SIP transport and registers (when voip.register). Registration failures are retried in the background. */
  async start(): Promise<void> {
    if (this.ua) return;
    const resolver = this.opts.resolver ?? dnsResolver;
    const server = await resolveServer(this.cfg.server, resolver, defaultServerPort(this.cfg.transport));
    const bindAddress = this.cfg.localAddress ?? (server.address.includes(':') ? '::' : '0.0.0.0');
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
      outboundProxy: server,
      timers: this.opts.timers,
    });
    if (transport.local.address === '0.0.0.0' || transport.local.address === '::') {
      ua.learnPublicAddress({ address: await localAddressToward(server), port: transport.local.port });
    }
    this.ua = ua;
    const srtp = this.cfg.srtp ?? 'off';
    if (srtp !== 'off' && this.cfg.transport !== 'tls') {
      this.logger.warn('voip.srtp_keys_in_clear', { srtp, transport: this.cfg.transport, hint: 'SDES keys travel in the SIP body: use transport tls' });
    }
    this.logger.info('voip.started', { server: this.cfg.server, transport: transport.protocol, local: `${transport.local.address}:${transport.local.port}` });
    if (this.cfg.register) {
      const registration = new Registration(ua, { expires: Math.max(1, Math.round(this.cfg.registerExpires / 1000)), registrar: server });
      this.registration = registration;
      // TLS: the registrar reaches us only over the connection we registered on; when it drops,
      // register again at once over a new one.
      if (transport.protocol === 'TLS' && transport instanceof StreamTransport) {
        transport.onConnectionClosed((remote) => {
          if (remote.address === server.address && remote.port === server.port && this.registration === registration) registration.reconnected();
        });
      }
    }
    this.opts.line?.attach({ ua, server, config: this.cfg, ...(this.registration ? { registration: this.registration } : {}) });
    await this.registration?.start();
  }

  /** Hangs up calls in progress, unregisters (Expires: 0) and closes the transport. */
  async stop(): Promise<void> {
    const ua = this.ua;
    if (!ua) return;
    this.opts.line?.detach(ua);
    for (const c of this.calls) c.abort();
    await Promise.allSettled([...this.calls].map((c) => c.done));
    await this.registration?.stop().catch(() => {});
    this.registration = undefined;
    ua.close();
    await ua.transport.close();
    this.ua = undefined;
    this.logger.info('voip.stopped');
  }

  health(): ChannelHealth {
    if (!this.ua) return { healthy: false, detail: 'not started' };
    if (!this.cfg.register) return { healthy: true, detail: `registration disabled; calls go to ${this.cfg.server}` };
    const s = this.registration?.status();
    if (s?.state === 'registered') return { healthy: true, detail: `registered to ${this.cfg.server}` };
    return { healthy: false, detail: `${s?.state ?? 'unregistered'} at ${this.cfg.server}: ${s?.reason ?? ''}`.trim() };
  }

  status(): VoipStatus {
    const local = this.ua ? this.ua.contactUri() : undefined;
    return {
      server: this.cfg.server,
      transport: this.cfg.transport,
      ...(local ? { local } : {}),
      registration: this.cfg.register
        ? (this.registration?.status() ?? { state: 'unregistered', reason: 'not started', failures: 0, contact: '' })
        : { state: 'disabled', reason: 'voip.register is false' },
      activeCalls: this.slots.inUse,
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
    }
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
      const rendered = new Map<G711Codec, Promise<Buffer[]>>();
      const framesFor = (codec: G711Codec) => {
        let p = rendered.get(codec);
        if (!p) {
          p = this.opts.audio.callFrames(voiceText(job.alert, lang, job.moreAlerts), lang, codec);
          p.catch(() => {}); // observed later
          rendered.set(codec, p);
        }
        return p;
      };
      void framesFor(cfg.codecs[0]!); // render while it rings

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
      call = new OutboundCall(ua, target, sdp, this.opts.resolver);
      const c = call;
      const log = this.logger.child({ callId: c.callId, attempt: job.attemptId });
      const detail: Record<string, unknown> = { callId: c.callId, target };
      log.info('voip.dialing', { target });
      log.debug('voip.sdp_offer', { sdp: maskSdp(sdp) });

      let ringTimedOut = false;
      const stopRing = this.clock.setTimer(() => {
        ringTimedOut = true;
        log.info('voip.ring_timeout', { ms: cfg.ringTimeout });
        c.cancel();
      }, cfg.ringTimeout);
      const onAbortRinging = () => c.cancel();
      signal.addEventListener('abort', onAbortRinging, { once: true });
      if (signal.aborted) c.cancel();
      c.on('progress', (status, reason) => log.info('voip.progress', { status, reason }));
      const result = await c.start();
      stopRing();
      signal.removeEventListener('abort', onAbortRinging);

      switch (result.kind) {
        case 'rejected':
          log.info('voip.rejected', { status: result.status, reason: result.reason });
          return outcomeForFinal(result.status, result.reason.replace(/^\d{3} /, ''), { ...detail, status: result.status });
        case 'cancelled':
          if (signal.aborted) return outcome('failed', 'aborted while ringing', true, detail);
          if (ringTimedOut) return outcome('no-answer', `no answer within ${cfg.ringTimeout / 1000} s`, true, detail);
          return outcome('no-answer', result.reason, true, detail);
        case 'timeout':
          return outcome('failed', result.reason, true, detail);
        case 'failed':
          return outcome('failed', result.reason, true, detail);
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

  /** The answered part: play the message voice.repeat times, listen for 1 (ack) and 2 (repeat). */
  private async converse(
    call: OutboundCall,
    rtp: RtpSession,
    answerSdp: string,
    srtp: SrtpOffer,
    framesFor: (c: G711Codec) => Promise<Buffer[]>,
    lang: string,
    signal: AbortSignal,
    log: Logger,
    detail: Record<string, unknown>,
  ): Promise<Outcome> {
    const cfg = this.cfg;
    let remoteHungUp = false;
    let maxReached = false;
    let acked = false;
    let restart = false;
    let current = new AbortController();
    const interrupt = () => current.abort();
    const onKey = (digit: string, via: string) => {
      log.info('voip.key', { digit, via });
      if (acked) return;
      if (digit === '1') {
        acked = true;
        interrupt();
      } else if (digit === '2') {
        restart = true;
        interrupt();
      }
    };
    const onRtpKey = (d: string) => onKey(d, 'rfc4733');
    const onInfoKey = (d: string) => onKey(d, 'info');
    rtp.on('dtmf', onRtpKey);
    call.on('dtmf', onInfoKey);
    call.on('bye', () => {
      remoteHungUp = true;
      log.info('voip.remote_bye');
      interrupt();
    });
    const stopMax = this.clock.setTimer(() => {
      maxReached = true;
      log.warn('voip.max_call_duration', { ms: cfg.maxCallDuration });
      interrupt();
    }, cfg.maxCallDuration);
    signal.addEventListener('abort', interrupt);
    const over = () => acked || remoteHungUp || maxReached || signal.aborted;

    try {
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
      let frames: Buffer[];
      try {
        frames = await framesFor(answer.codec);
      } catch (e) {
        await call.hangup();
        return outcome('failed', `prompt audio unavailable: ${(e as Error).message}`, true, detail);
      }

      const repeat = this.opts.voice.repeat;
      let played = 0;
      while (played < repeat && !over()) {
        const r = await rtp.play(frames, current.signal);
        if (r === 'aborted') {
          if (restart && !over()) {
            restart = false;
            current = new AbortController();
            played = 0;
            continue;
          }
          break;
        }
        played++;
        const pause = played < repeat ? GAP_MS : (this.opts.keyGraceMs ?? 3000);
        const s = await rtp.playSilence(pause, current.signal);
        if (s === 'aborted' && restart && !over()) {
          restart = false;
          current = new AbortController();
          played = 0;
        }
      }

      if (acked && !remoteHungUp && !signal.aborted) {
        const end = new AbortController();
        const stop = () => end.abort();
        call.once('bye', stop);
        signal.addEventListener('abort', stop, { once: true });
        try {
          const ackFrames = await this.opts.audio.phraseFrames('acknowledged', lang, answer.codec);
          await rtp.play(ackFrames, end.signal);
        } catch (e) {
          log.warn('voip.ack_phrase_failed', { error: (e as Error).message });
        } finally {
          signal.removeEventListener('abort', stop);
        }
      }
      if (!remoteHungUp) await call.hangup();
      detail.played = played;
      if (acked) return outcome('acknowledged', 'key 1 pressed', false, detail);
      const why = remoteHungUp
        ? 'far end hung up'
        : maxReached
          ? 'maximum call duration reached'
          : signal.aborted
            ? 'aborted during the call'
            : 'message played, no key pressed';
      return outcome('answered', why, true, detail);
    } finally {
      stopMax();
      signal.removeEventListener('abort', interrupt);
      rtp.off('dtmf', onRtpKey);
      call.off('dtmf', onInfoKey);
    }
  }
}

