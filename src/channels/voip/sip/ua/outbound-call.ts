/**
 * One call we place (RFC 3261 §13 INVITE, §9 CANCEL, §15 BYE): challenge/response on 401/407
 * (the transaction ACKs the challenge; we re-INVITE with CSeq+1), provisional responses,
 * CANCEL once a provisional has arrived, ACK for 2xx sent end-to-end through the route set and
 * repeated for every 2xx retransmission, and a 2xx racing our CANCEL answered with ACK + BYE.
 */
import { EventEmitter } from 'node:events';
import { formatNameAddr } from '../syntax/name-addr.js';
import { cseqOf, callIdOf, toOf, tagOf, type SipRequest, type SipResponse } from '../syntax/message.js';
import { serializeMessage } from '../syntax/serialize.js';
import { randomToken } from '../transaction/branch.js';
import { inviteTransactionRequest, type ClientTransaction } from '../transaction/client-transactions.js';
import { timeout64 } from '../transaction/timers.js';
import type { Endpoint } from '../transport/transport.js';
import { isChallenge, type ChallengeRound } from './challenge.js';
import { dialogFromSuccess, dialogRouting, type Dialog } from './dialog.js';
import { resolveUri, type Resolver, dnsResolver } from './resolve.js';
import type { SipUserAgent } from './user-agent.js';

export type InviteResult =
  | { kind: 'answered'; response: SipResponse; sdp: string }
  | { kind: 'rejected'; status: number; reason: string; /** The Retry-After field of the final response, as sent. */ retryAfter?: string }
  | { kind: 'cancelled'; status?: number; reason: string }
  /** No final response (timer B), or no response at all within `noResponseMs`: the server may be down. */
  | { kind: 'timeout'; reason: string; silent?: boolean }
  /** `transport`: the request could not be sent (no connection, refused certificate): the server may be down. */
  | { kind: 'failed'; reason: string; transport?: boolean };

export interface OutboundCallOptions {
  resolver?: Resolver;
  /** The server the INVITE (and its CANCEL) goes to; default the UA's outbound proxy. */
  proxy?: Endpoint;
  /** Give up when the server sends nothing at all (not even 100 Trying) this long after the INVITE. */
  noResponseMs?: number;
}

export type CallState = 'idle' | 'calling' | 'early' | 'confirmed' | 'terminated';

export interface OutboundCallEvents {
  progress: [status: number, reason: string];
  bye: [];
  dtmf: [digit: string];
}

export class OutboundCall extends EventEmitter<OutboundCallEvents> {
  readonly callId: string;
  readonly localTag = randomToken(6);
  state: CallState = 'idle';
  dialog: Dialog | undefined;
  private cseq = 0;
  private invite: SipRequest | undefined;
  private txn: ClientTransaction | undefined;
  private provisionalSeen = false;
  private cancelWanted = false;
  private cancelSent = false;
  private ackWire: Buffer | undefined;
  private ackDest: Endpoint | undefined;
  private settle: ((r: InviteResult) => void) | undefined;
  private unregisterDialog: (() => void) | undefined;
  private cancelGuard: (() => void) | undefined;
  private byeSent = false;
  private unwatchStray: (() => void) | undefined;
  private silenceGuard: (() => void) | undefined;
  private heard = false;
  private readonly resolver: Resolver;
  /** Where the INVITE goes (a server of the voip pool). */
  readonly proxy: Endpoint;
  private readonly noResponseMs: number | undefined;

  constructor(
    private readonly ua: SipUserAgent,
    readonly target: string,
    private readonly sdpOffer: string,
    opts: Resolver | OutboundCallOptions = {},
  ) {
    super();
    const o: OutboundCallOptions = typeof opts === 'function' ? { resolver: opts } : opts;
    this.resolver = o.resolver ?? dnsResolver;
    this.proxy = o.proxy ?? ua.outboundProxy;
    this.noResponseMs = o.noResponseMs;
    this.callId = ua.newCallId();
  }

  /** Sends the INVITE; resolves at the first final outcome. */
  start(): Promise<InviteResult> {
    if (this.state !== 'idle') throw new Error('call already started');
    this.state = 'calling';
    this.unregisterDialog = this.ua.registerDialog(this.callId, this.localTag, {
      onBye: () => this.remoteBye(),
      onDtmf: (d) => this.emit('dtmf', d),
    });
    this.unwatchStray = this.ua.watchStrayInviteSuccess(this.callId, (res) => this.strayOk(res));
    return new Promise<InviteResult>((resolve) => {
      this.settle = (r) => {
        this.settle = undefined;
        this.cancelGuard?.();
        this.silenceGuard?.();
        if (r.kind !== 'answered' && !this.dialog) this.finish();
        resolve(r);
      };
      // Over TLS the connection to the proxy is opened (and its certificate checked) first, so
      // the INVITE's Via and Contact name it.
      this.ua.prepare(this.proxy).then(
        () => {
          if (!this.settle) return;
          if (this.cancelWanted) return this.settle({ kind: 'cancelled', reason: 'cancelled before the INVITE was sent' });
          this.sendInvite([], this.ua.newChallengeRound());
        },
        (e: Error) => this.settle?.({ kind: 'failed', reason: `transport error: ${e.message}`, transport: true }),
      );
    });
  }

  private sendInvite(auth: [string, string][], round: ChallengeRound): void {
    const req = this.ua.buildRequest({
      method: 'INVITE',
      uri: this.target,
      from: this.ua.localParty(this.localTag),
      to: formatNameAddr({ uri: this.target, params: new Map() }),
      callId: this.callId,
      cseq: ++this.cseq,
      contact: true,
      allow: true,
      auth,
      body: Buffer.from(this.sdpOffer, 'utf8'),
      contentType: 'application/sdp',
    });
    this.invite = req;
    this.provisionalSeen = false;
    this.txn = this.ua.sendInvite(
      req,
      {
        onResponse: (res) => this.inviteResponse(req, res, round),
        onTimeout: () => this.settle?.({ kind: 'timeout', reason: 'no response to INVITE (timer B)', silent: !this.heard }),
        onTransportError: (err) => this.settle?.({ kind: 'failed', reason: `transport error: ${err.message}`, transport: true }),
      },
      this.proxy,
    );
    if (!this.heard && this.noResponseMs !== undefined && !this.silenceGuard) {
      const ms = this.noResponseMs;
      this.silenceGuard = this.ua.clock.setTimer(() => {
        this.silenceGuard = undefined;
        if (this.heard || !this.settle) return;
        this.txn?.terminate();
        this.settle({ kind: 'timeout', reason: `no response to INVITE within ${ms / 1000} s`, silent: true });
      }, ms);
    }
  }

  private inviteResponse(req: SipRequest, res: SipResponse, round: ChallengeRound): void {
    if (req !== this.invite) return; // an older (challenged) INVITE
    if (!this.heard) {
      this.heard = true;
      this.silenceGuard?.();
      this.silenceGuard = undefined;
    }
    const s = res.status;
    if (s < 200) {
      this.provisionalSeen = true;
      if (s > 100 && tagOf(toOf(res))) this.state = 'early';
      if (s > 100) this.emit('progress', s, res.reason);
      if (this.cancelWanted && !this.cancelSent) this.sendCancel();
      return;
    }
    if (s < 300) {
      void this.success(res);
      return;
    }
    if (isChallenge(res) && !this.cancelWanted) {
      const a = round.answer(res, 'INVITE', req.uri);
      if ('headers' in a) {
        this.sendInvite(a.headers, round);
        return;
      }
      this.settle?.({ kind: 'rejected', status: s, reason: a.error });
      return;
    }
    if (this.cancelWanted) {
      this.settle?.({ kind: 'cancelled', status: s, reason: `${s} ${res.reason}` });
      return;
    }
    const retryAfter = res.headers.get('Retry-After');
    this.settle?.({ kind: 'rejected', status: s, reason: `${s} ${res.reason}`, ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }

  /** §13.2.2.4: every 2xx (first or retransmitted) gets the ACK. */
  private async success(res: SipResponse): Promise<void> {
    if (this.ackWire && this.ackDest) {
      this.sendAck();
      return;
    }
    const invite = this.invite!;
    let dialog: Dialog;
    try {
      dialog = dialogFromSuccess(invite, res);
    } catch (e) {
      this.settle?.({ kind: 'failed', reason: `bad 2xx: ${(e as Error).message}` });
      return;
    }
    this.dialog = dialog;
    this.state = 'confirmed';
    const routing = dialogRouting(dialog);
    // §13.2.2.4: the ACK for a 2xx is a new transaction-less request through the route set,
    // with the INVITE's CSeq number and its credentials.
    const ack = this.ua.buildRequest({
      method: 'ACK',
      uri: routing.requestUri,
      routes: routing.routes,
      from: dialog.localParty,
      to: dialog.remoteParty,
      callId: dialog.callId,
      cseq: cseqOf(invite).seq,
      auth: ['Authorization', 'Proxy-Authorization'].flatMap((name) => invite.headers.getAll(name).map((v) => [name, v] as const)),
    });
    this.ackWire = serializeMessage(ack);
    try {
      this.ackDest = await resolveUri(routing.nextHop, this.resolver);
    } catch (e) {
      this.ua.logger.warn('sip.ack_unroutable', { target: routing.nextHop, error: (e as Error).message });
      this.ackDest = this.proxy;
    }
    this.sendAck();
    if (this.cancelWanted) {
      // The 200 crossed our CANCEL: the call is up, so end it properly with BYE.
      void this.hangup();
      this.settle?.({ kind: 'cancelled', status: res.status, reason: 'answered while cancelling; hung up' });
      return;
    }
    const sdp = res.body.toString('utf8');
    this.settle?.({ kind: 'answered', response: res, sdp });
  }

  private sendAck(): void {
    if (!this.ackWire || !this.ackDest) return;
    this.ua.sendStateless(this.ackWire, this.ackDest).catch((err: Error) => {
      this.ua.logger.warn('sip.ack_failed', { error: err.message });
    });
  }

  private strayOk(res: SipResponse): void {
    if (callIdOf(res) !== this.callId || !this.invite) return;
    if (cseqOf(res).seq !== cseqOf(this.invite).seq) return;
    if (this.ackWire) this.sendAck();
    else void this.success(res);
  }

  /**
   * Stops ringing. Per §9.1 a CANCEL may only follow a provisional response; if none has come
   * yet it is sent as soon as one does. Resolves the start() promise via the 487 (or timeout).
   */
  cancel(): void {
    if (this.state === 'confirmed' || this.state === 'terminated' || this.cancelWanted) return;
    this.cancelWanted = true;
    if (this.provisionalSeen) this.sendCancel();
    // Whatever happens, don't wait forever for the INVITE's final response.
    this.cancelGuard = this.ua.clock.setTimer(() => {
      this.txn?.terminate();
      this.settle?.({ kind: 'cancelled', reason: 'no final response after CANCEL' });
    }, timeout64(this.ua.timers));
  }

  private sendCancel(): void {
    const invite = this.invite!;
    this.cancelSent = true;
    const cancel = inviteTransactionRequest(invite, 'CANCEL', invite.headers.get('To')!);
    void this.ua.sendNonInvite(cancel, this.proxy).then((r) => {
      if (r.kind === 'response' && r.response.status >= 300) {
        this.ua.logger.warn('sip.cancel_refused', { status: r.response.status });
      }
    });
  }

  /** Ends an established call with BYE (§15.1.1); resolves when answered or timed out. */
  async hangup(): Promise<void> {
    if (!this.dialog || this.byeSent || this.state === 'terminated') {
      this.finish();
      return;
    }
    this.byeSent = true;
    const d = this.dialog;
    const routing = dialogRouting(d);
    let dest: Endpoint;
    try {
      dest = await resolveUri(routing.nextHop, this.resolver);
    } catch {
      dest = this.proxy;
    }
    const result = await this.ua.requestWithAuth(
      (auth) =>
        this.ua.buildRequest({
          method: 'BYE',
          uri: routing.requestUri,
          from: d.localParty,
          to: d.remoteParty,
          callId: d.callId,
          cseq: ++d.localSeq,
          routes: routing.routes,
          auth,
        }),
      dest,
    );
    if (result.kind !== 'response') this.ua.logger.warn('sip.bye_unanswered', { callId: this.callId, result: result.kind });
    this.finish();
  }

  private remoteBye(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.emit('bye');
    this.finish();
  }

  /** Stops listening for this call's dialog (after BYE or failure). */
  finish(): void {
    this.state = 'terminated';
    this.unregisterDialog?.();
    this.unregisterDialog = undefined;
    this.unwatchStray?.();
    this.unwatchStray = undefined;
  }
}
