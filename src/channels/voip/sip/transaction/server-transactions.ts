/**
 * Server transactions (RFC 3261 §17.2) for requests the far end sends us: they absorb request
 * retransmissions by resending the last response, and (INVITE) retransmit a non-2xx final until
 * the ACK arrives.
 */
import type { Clock } from '../../../../util/clock.js';
import type { Logger } from '../../../../util/log.js';
import { clampDelay } from '../../../../util/timers.js';
import type { SipRequest, SipResponse } from '../syntax/message.js';
import { serializeMessage } from '../syntax/serialize.js';
import type { Endpoint, SipTransport } from '../transport/transport.js';
import { timeout64, type TimerValues } from './timers.js';

export interface ServerContext {
  transport: SipTransport;
  clock: Clock;
  timers: TimerValues;
  logger: Logger;
  terminated(t: ServerTransaction): void;
}

export type ServerState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'terminated';

export class ServerTransaction {
  state: ServerState;
  private last: Buffer | undefined;
  private lastStatus = 0;
  private cancels: Array<() => void> = [];
  private interval: number;

  constructor(
    private readonly ctx: ServerContext,
    readonly request: SipRequest,
    /** Where responses go (§18.2.2), computed from the top Via and the packet source. */
    readonly responseDest: Endpoint,
    readonly key: string,
    /** Where the request came from (for the `received`/`rport` stamp on responses). */
    readonly source: Endpoint,
  ) {
    this.state = request.method === 'INVITE' ? 'proceeding' : 'trying';
    this.interval = ctx.timers.T1;
    // Not in RFC 3261 (a TU always answers): if no final response was ever sent, forget the
    // transaction after 64·T1 anyway, so a request we failed to answer cannot stay in the table.
    this.after(timeout64(ctx.timers), () => {
      if (this.lastStatus < 200) {
        ctx.logger.warn('sip.server_transaction_unanswered', { method: request.method });
        this.terminate();
      }
    });
  }

  /** Completed or confirmed: the final response went out, only retransmissions are absorbed. */
  get answered(): boolean {
    return this.state === 'completed' || this.state === 'confirmed';
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  get finalSent(): boolean {
    return this.lastStatus >= 200;
  }

  /**
   * The TU's response. Only the first final response is sent; later ones are ignored. Throws
   * (leaving the transaction as it was) when the response cannot be serialized.
   */
  respond(res: SipResponse): void {
    if (this.state === 'terminated' || this.lastStatus >= 200) return;
    this.last = serializeMessage(res);
    this.lastStatus = res.status;
    this.send();
    if (res.status < 200) {
      this.state = 'proceeding';
      return;
    }
    const reliable = this.ctx.transport.reliable;
    if (!this.isInvite) {
      this.state = 'completed';
      this.after(reliable ? 0 : timeout64(this.ctx.timers), () => this.terminate()); // Timer J
      return;
    }
    if (res.status < 300) {
      this.terminate(); // 2xx retransmission is the TU's job
      return;
    }
    this.state = 'completed';
    if (!reliable) this.scheduleG();
    this.after(timeout64(this.ctx.timers), () => this.terminate()); // Timer H
  }

  private scheduleG(): void {
    this.after(this.interval, () => {
      if (this.state !== 'completed') return;
      this.send();
      this.interval = Math.min(2 * this.interval, this.ctx.timers.T2);
      this.scheduleG();
    });
  }

  /** A retransmission of the request (or the ACK for our non-2xx final). */
  receiveAgain(req: SipRequest): void {
    if (req.method === 'ACK') {
      if (this.state === 'completed' && this.isInvite) {
        this.state = 'confirmed';
        this.after(this.ctx.transport.reliable ? 0 : this.ctx.timers.T4, () => this.terminate()); // Timer I
      }
      return;
    }
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last) this.send();
  }

  private send(): void {
    if (!this.last) return;
    this.ctx.transport.send(this.last, this.responseDest).catch((err: Error) => {
      this.ctx.logger.warn('sip.response_send_failed', { error: err.message });
      this.terminate();
    });
  }

  private after(ms: number, fn: () => void): void {
    this.cancels.push(
      this.ctx.clock.setTimer(() => {
        if (this.state !== 'terminated') fn();
      }, clampDelay(ms)),
    );
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    for (const c of this.cancels) c();
    this.cancels = [];
    this.ctx.terminated(this);
  }
}
