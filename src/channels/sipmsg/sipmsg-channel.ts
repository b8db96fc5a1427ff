/**
 * The `sipmsg` channel (RFC 3428 SIP MESSAGE): the alert's short text as text/plain to the
 * person's SIP address, sent through the voip channel's user agent and registration (the
 * SipLine the factories share between the two). A 2xx means the text was delivered to the far
 * end, which for a gateway or a proxy holding it for an offline phone (202 Accepted) means
 * "handed on", not "read"; failures map like the voip channel's call outcomes.
 *
 * A MESSAGE back ("1", "ack", "ack 12") is answered 200 and handed to the InboundSink as
 * `message({ sip }, text, 'sipmsg')`: the daemon reads it with the core's reply grammar. Only
 * MESSAGEs that came through the voip server are read unless `acceptDirect` (the registrar
 * authenticated the sender; a packet straight to our port could carry any From).
 */
import { randomToken } from '../voip/sip/transaction/branch.js';
import type { SipmsgConfig } from '../../config/schema.js';
import type { Logger } from '../../util/log.js';
import { outcome, type Channel, type ChannelHealth, type DeliveryJob, type InboundSink, type Outcome, type Recipient, type RetryRule } from '../channel.js';
import { outcomeForFinal } from '../voip/call-outcome.js';
import type { SipLine, SipLineState } from '../voip/sip-line.js';
import { insecureForSips, sipTarget } from '../voip/sip-target.js';
import { formatNameAddr } from '../voip/sip/syntax/name-addr.js';
import type { FinalResult, IncomingMessage, MessageAnswer } from '../voip/sip/ua/user-agent.js';
import { messageBody, readBody, senderAddress, TEXT_PLAIN } from './message-text.js';

export interface SipMessageChannelOptions {
  config: SipmsgConfig;
  line: SipLine;
  inbound?: InboundSink;
  logger: Logger;
  /** Deliveries at once (default 4). */
  capacity?: number;
}

export interface SipmsgStatus {
  line: 'up' | 'down';
  server?: string;
  sent: number;
  received: number;
}

export class SipMessageChannel implements Channel {
  readonly name = 'sipmsg' as const;
  readonly kind = 'text' as const;
  readonly capacity: number;
  readonly retry: RetryRule;
  private readonly log: Logger;
  private stopInbound: (() => void) | undefined;
  private sent = 0;
  private received = 0;

  constructor(private readonly opts: SipMessageChannelOptions) {
    this.capacity = opts.capacity ?? 4;
    this.retry = { retries: opts.config.retries, backoffMs: opts.config.retryBackoff };
    this.log = opts.logger.child({ channel: 'sipmsg' });
  }

  address(recipient: Recipient): string | null {
    return typeof recipient.sip === 'string' && recipient.sip.trim() !== '' ? recipient.sip : null;
  }

  async start(): Promise<void> {
    this.stopInbound ??= this.opts.line.onMessageRequest((m) => this.incoming(m));
  }

  async stop(): Promise<void> {
    this.stopInbound?.();
    this.stopInbound = undefined;
  }

  health(): ChannelHealth {
    const line = this.opts.line.current;
    if (!line) return { healthy: false, detail: 'voip channel not running (sipmsg sends through its SIP registration)' };
    const reg = line.registration?.status();
    if (reg && reg.state !== 'registered') return { healthy: false, detail: `voip ${reg.state} at ${line.serverName}: ${reg.reason}` };
    return { healthy: true, detail: `through ${line.serverName}` };
  }

  status(): SipmsgStatus {
    const line = this.opts.line.current;
    return { line: line ? 'up' : 'down', ...(line ? { server: line.serverName } : {}), sent: this.sent, received: this.received };
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    try {
      return await this.send(job, signal);
    } catch (e) {
      this.log.error('sipmsg.crashed', { alert: job.alert.id, error: (e as Error).message });
      return outcome('failed', `sipmsg failed: ${(e as Error).message}`, true);
    }
  }

  private async send(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    const line = this.opts.line.current;
    if (!line) return outcome('failed', 'voip channel not running (sipmsg sends through its SIP registration)', true);
    let target: string;
    try {
      target = sipTarget(job.address || job.recipient.sip || '', line.config.domain);
    } catch (e) {
      return outcome('rejected', `bad SIP address: ${(e as Error).message}`, false);
    }
    const insecure = insecureForSips(target, line.config.transport);
    if (insecure) return outcome('rejected', insecure, false);
    if (signal.aborted) return outcome('failed', 'aborted before sending', true);

    const body = Buffer.from(messageBody(job.alert, job.recipient.lang), 'utf8');
    const { ua } = line;
    const callId = ua.newCallId();
    const fromTag = randomToken(6);
    let cseq = 0;
    const detail: Record<string, unknown> = { callId, target };
    const log = this.log.child({ callId, attempt: job.attemptId });
    log.info('sipmsg.sending', { target, bytes: body.length });
    const result = ua.requestWithAuth(
      (auth) =>
        ua.buildRequest({
          method: 'MESSAGE',
          uri: target,
          from: ua.localParty(fromTag),
          to: formatNameAddr({ uri: target, params: new Map() }),
          callId,
          cseq: ++cseq,
          auth,
          body,
          contentType: TEXT_PLAIN,
        }),
      line.server,
    );
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) resolve('aborted');
      signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const r = await Promise.race([result, aborted]);
    if (r === 'aborted') return outcome('failed', 'aborted while waiting for the answer (the text may have arrived)', false, detail);
    const o = outcomeFor(r, detail);
    log.info('sipmsg.result', { kind: o.kind, reason: o.reason });
    if (o.kind === 'delivered') this.sent++;
    return o;
  }

  /** A MESSAGE reaching the voip UA: answered at once, then read by the daemon. */
  private incoming(m: IncomingMessage): MessageAnswer {
    const line = this.opts.line.current;
    const req = m.request;
    if (!line) return { status: 480, reason: 'Temporarily Unavailable' };
    if (!this.opts.config.acceptDirect && !line.peers.some((p) => sameHost(m.source.address, p.address))) {
      this.log.warn('sipmsg.refused', { from: m.source.address, reason: 'not from the voip server (sipmsg.acceptDirect is false)' });
      return { status: 403, reason: 'Forbidden' };
    }
    const from = senderAddress(req.headers.get('From'));
    if (!from) return { status: 400, reason: 'Bad From' };
    const body = readBody(req.headers.get('Content-Type'), req.body);
    if (!body.ok) {
      this.log.info('sipmsg.unreadable', { from, status: body.status });
      return { status: body.status, reason: body.reason, ...(body.status === 415 ? { extra: [['Accept', 'text/plain']] as const } : {}) };
    }
    this.received++;
    this.log.info('sipmsg.received', { from, bytes: req.body.length });
    const sink = this.opts.inbound;
    if (sink) {
      void sink
        .message({ sip: from }, body.text, 'sipmsg')
        .then((answer) => (answer ? this.answer(line, from, answer) : undefined))
        .catch((e: Error) => this.log.error('sipmsg.inbound_failed', { from, error: e.message }));
    }
    return { status: 200, reason: 'OK' };
  }

  /** Sends the daemon's answer ("Acknowledged #12") back to who wrote. */
  private async answer(line: SipLineState, to: string, text: string): Promise<void> {
    const { ua } = line;
    const callId = ua.newCallId();
    const fromTag = randomToken(6);
    let cseq = 0;
    const body = Buffer.from(text.slice(0, 500), 'utf8');
    const r = await ua.requestWithAuth(
      (auth) =>
        ua.buildRequest({
          method: 'MESSAGE',
          uri: to,
          from: ua.localParty(fromTag),
          to: formatNameAddr({ uri: to, params: new Map() }),
          callId,
          cseq: ++cseq,
          auth,
          body,
          contentType: TEXT_PLAIN,
        }),
      line.server,
    );
    const o = outcomeFor(r, {});
    this.log.info('sipmsg.answered', { to, kind: o.kind, reason: o.reason });
  }
}

function sameHost(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/^::ffff:/i, '').toLowerCase();
  return norm(a) === norm(b);
}

/** A MESSAGE's final answer as a delivery outcome. */
export function outcomeFor(r: FinalResult, detail: Record<string, unknown>): Outcome {
  switch (r.kind) {
    case 'timeout':
      return outcome('failed', 'no answer to MESSAGE (timer F)', true, detail);
    case 'transport-error':
      return outcome('failed', `transport error: ${r.error.message}`, true, detail);
    case 'auth-failed':
      return outcome('failed', `authentication failed: ${r.error}`, false, { ...detail, status: r.response.status });
    case 'response': {
      const { status, reason } = r.response;
      const d = { ...detail, status };
      if (status >= 200 && status < 300) {
        return outcome('delivered', status === 202 ? `${status} ${reason} (handed on, not necessarily read)` : `${status} ${reason}`, false, d);
      }
      if (status < 400) return outcome('rejected', `${status} ${reason} (redirects are not followed)`, false, d);
      return outcomeForFinal(status, reason, d);
    }
  }
}
