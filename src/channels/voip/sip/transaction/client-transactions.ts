/**
 * Client transactions (RFC 3261 §17.1, with the RFC 6026 "Accepted" state for INVITE 2xx).
 * Retransmissions, timeouts and the ACK for non-2xx finals live here, not in the UA.
 */
import type { Clock } from '../../../../util/clock.js';
import type { Logger } from '../../../../util/log.js';
import { clampDelay } from '../../../../util/timers.js';
import { buildRequest } from '../syntax/build.js';
import { type SipRequest, type SipResponse, cseqOf } from '../syntax/message.js';
import { serializeMessage } from '../syntax/serialize.js';
import type { Endpoint, SipTransport } from '../transport/transport.js';
import { timeout64, timerD, type TimerValues } from './timers.js';

export interface ClientTransactionUser {
  onResponse(res: SipResponse): void;
  /** Timer B or F fired without a final response. */
  onTimeout(): void;
  onTransportError(err: Error): void;
}

export interface TransactionContext {
  transport: SipTransport;
  clock: Clock;
  timers: TimerValues;
  logger: Logger;
  /** Called once when the transaction reaches Terminated (the layer forgets it). */
  terminated(t: ClientTransaction): void;
}

export type ClientState = 'calling' | 'trying' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

export abstract class ClientTransaction {
  state: ClientState;
  protected readonly wire: Buffer;
  private cancels = new Map<string, () => void>();

  constructor(
    protected readonly ctx: TransactionContext,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    protected readonly tu: ClientTransactionUser,
    readonly branch: string,
    initial: ClientState,
  ) {
    this.state = initial;
    this.wire = serializeMessage(request);
  }

  get method(): string {
    return this.request.method;
  }

  abstract start(): void;
  abstract receive(res: SipResponse): void;

  protected transmit(data: Buffer = this.wire): void {
    this.ctx.transport.send(data, this.dest).catch((err: Error) => {
      if (this.state === 'terminated') return;
      this.ctx.logger.warn('sip.transport_error', { method: this.method, error: err.message });
      this.terminate();
      this.tu.onTransportError(err);
    });
  }

  protected timer(name: string, ms: number, fn: () => void): void {
    this.cancelTimer(name);
    this.cancels.set(
      name,
      this.ctx.clock.setTimer(() => {
        this.cancels.delete(name);
        if (this.state !== 'terminated') fn();
      }, clampDelay(ms)),
    );
  }

  protected cancelTimer(name: string): void {
    this.cancels.get(name)?.();
    this.cancels.delete(name);
  }

  /**
   * The stream connection this request went over closed before a final response (a TLS peer
   * refusing us after the handshake, a registrar restart): no answer can come, so the TU is told
   * now rather than at Timer B/F.
   */
  connectionLost(err: Error): void {
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return;
    this.ctx.logger.warn('sip.transport_error', { method: this.method, error: err.message });
    this.terminate();
    this.tu.onTransportError(err);
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    for (const c of this.cancels.values()) c();
    this.cancels.clear();
    this.ctx.terminated(this);
  }
}

/** §17.1.1 INVITE client transaction. */
export class InviteClientTransaction extends ClientTransaction {
  private interval: number;
  private ack: Buffer | undefined;

  constructor(ctx: TransactionContext, request: SipRequest, dest: Endpoint, tu: ClientTransactionUser, branch: string) {
    super(ctx, request, dest, tu, branch, 'calling');
    this.interval = ctx.timers.T1;
  }

  start(): void {
    this.transmit();
    if (!this.ctx.transport.reliable) this.scheduleA();
    this.timer('B', timeout64(this.ctx.timers), () => {
      if (this.state !== 'calling') return;
      this.terminate();
      this.tu.onTimeout();
    });
  }

  private scheduleA(): void {
    this.timer('A', this.interval, () => {
      if (this.state !== 'calling') return;
      this.transmit();
      this.interval *= 2;
      this.scheduleA();
    });
  }

  receive(res: SipResponse): void {
    const s = res.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        this.cancelTimer('A');
        if (s < 200) {
          this.state = 'proceeding';
          this.cancelTimer('B');
          this.tu.onResponse(res);
        } else if (s < 300) {
          // RFC 6026: stay "Accepted" for 64*T1 so 2xx retransmissions still reach the TU.
          this.state = 'accepted';
          this.cancelTimer('B');
          this.timer('M', timeout64(this.ctx.timers), () => this.terminate());
          this.tu.onResponse(res);
        } else {
          this.state = 'completed';
          this.cancelTimer('B');
          this.ack = serializeMessage(buildNonSuccessAck(this.request, res));
          this.transmit(this.ack);
          this.timer('D', timerD(this.ctx.timers, this.ctx.transport.reliable), () => this.terminate());
          this.tu.onResponse(res);
        }
        break;
      case 'accepted':
        if (s >= 200 && s < 300) this.tu.onResponse(res);
        break;
      case 'completed':
        if (s >= 300 && this.ack) this.transmit(this.ack); // retransmitted final: ACK again
        break;
      default:
        break;
    }
  }
}

/**
 * A request that belongs to the INVITE's own transaction: the non-2xx ACK (§17.1.1.3) and CANCEL
 * (§9.1). Both copy the INVITE's Request-URI, top Via (same branch), Route set, From, Call-ID and
 * CSeq number; only the method and To differ (the ACK takes the response's To, with its tag).
 */
export function inviteTransactionRequest(invite: SipRequest, method: 'ACK' | 'CANCEL', to: string): SipRequest {
  return buildRequest({
    method,
    uri: invite.uri,
    via: invite.headers.list('Via')[0]!,
    routes: invite.headers.getAll('Route'),
    from: invite.headers.get('From')!,
    to,
    callId: invite.headers.get('Call-ID')!,
    cseq: cseqOf(invite).seq,
  });
}

/** §17.1.1.3: ACK for a non-2xx final, same branch, To from the response, Route from the INVITE. */
export function buildNonSuccessAck(invite: SipRequest, res: SipResponse): SipRequest {
  return inviteTransactionRequest(invite, 'ACK', res.headers.get('To')!);
}

/** §17.1.2 non-INVITE client transaction. */
export class NonInviteClientTransaction extends ClientTransaction {
  private interval: number;

  constructor(ctx: TransactionContext, request: SipRequest, dest: Endpoint, tu: ClientTransactionUser, branch: string) {
    super(ctx, request, dest, tu, branch, 'trying');
    this.interval = ctx.timers.T1;
  }

  start(): void {
    this.transmit();
    if (!this.ctx.transport.reliable) this.scheduleE();
    this.timer('F', timeout64(this.ctx.timers), () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.terminate();
      this.tu.onTimeout();
    });
  }

  private scheduleE(): void {
    this.timer('E', this.interval, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.transmit();
      this.interval = this.state === 'proceeding' ? this.ctx.timers.T2 : Math.min(2 * this.interval, this.ctx.timers.T2);
      this.scheduleE();
    });
  }

  receive(res: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return; // completed: absorb
    if (res.status < 200) {
      if (this.state === 'trying') {
        this.state = 'proceeding';
        this.interval = this.ctx.timers.T2;
      }
      this.tu.onResponse(res);
      return;
    }
    this.state = 'completed';
    this.cancelTimer('E');
    this.cancelTimer('F');
    const k = this.ctx.transport.reliable ? 0 : this.ctx.timers.T4;
    this.timer('K', k, () => this.terminate());
    this.tu.onResponse(res);
  }
}
