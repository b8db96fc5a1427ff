/**
 * Matches messages to transactions (RFC 3261 §17.1.3, §17.2.3) and hands the rest to the
 * transaction user: new requests (with their server transaction), and 2xx responses to INVITE
 * that arrive after the client transaction is gone (the dialog re-ACKs those).
 */
import type { Clock } from '../../../../util/clock.js';
import type { Logger } from '../../../../util/log.js';
import { callIdOf, cseqOf, fromOf, tagOf, topVia, type SipMessage, type SipRequest, type SipResponse } from '../syntax/message.js';
import { viaBranch, type Via } from '../syntax/via.js';
import { responseDestination } from '../transport/response-route.js';
import { StreamTransport } from '../transport/stream-transport.js';
import { endpointKey, type Endpoint, type SipTransport } from '../transport/transport.js';
import {
  type ClientTransaction,
  type ClientTransactionUser,
  InviteClientTransaction,
  NonInviteClientTransaction,
  type TransactionContext,
} from './client-transactions.js';
import { ServerTransaction } from './server-transactions.js';
import { DEFAULT_TIMERS, type TimerValues } from './timers.js';

export type RequestHandler = (req: SipRequest, txn: ServerTransaction | null, source: Endpoint) => void;

/**
 * Server transactions kept at once. Each lives 64·T1 (32 s) after its final response over UDP,
 * so this holds a steady 30 requests a second; beyond it the oldest answered transaction makes
 * room (it only absorbs retransmissions), and when none is answered the request is dropped.
 */
export const MAX_SERVER_TRANSACTIONS = 1024;

export class TransactionLayer {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private requestHandler: RequestHandler = () => {};
  private strayHandler: (res: SipResponse) => void = () => {};
  private readonly clientCtx: TransactionContext;
  readonly timers: TimerValues;

  constructor(
    readonly transport: SipTransport,
    private readonly clock: Clock,
    private readonly logger: Logger,
    timers: Partial<TimerValues> = {},
    private readonly maxServers = MAX_SERVER_TRANSACTIONS,
  ) {
    this.timers = { ...DEFAULT_TIMERS, ...timers };
    this.clientCtx = {
      transport,
      clock,
      timers: this.timers,
      logger,
      terminated: (t) => {
        if (this.clients.get(clientKey(t.branch, t.method)) === t) this.clients.delete(clientKey(t.branch, t.method));
      },
    };
    transport.onMessage((msg, source) => this.receive(msg, source));
    // Stream transports: a connection that closes takes the answers to its requests with it.
    if (transport instanceof StreamTransport) {
      transport.onConnectionClosed((remote, error) => {
        const key = endpointKey(remote);
        for (const t of [...this.clients.values()]) if (endpointKey(t.dest) === key) t.connectionLost(error);
      });
    }
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /** 2xx to INVITE that matched no transaction (RFC 3261 §13.2.2.4 retransmissions). */
  onStrayInviteSuccess(handler: (res: SipResponse) => void): void {
    this.strayHandler = handler;
  }

  /** Starts a client transaction. The request's top Via must carry a fresh z9hG4bK branch. */
  sendRequest(req: SipRequest, dest: Endpoint, tu: ClientTransactionUser): ClientTransaction {
    const branch = viaBranch(topVia(req));
    if (!branch) throw new Error('request without Via branch');
    const t =
      req.method === 'INVITE'
        ? new InviteClientTransaction(this.clientCtx, req, dest, tu, branch)
        : new NonInviteClientTransaction(this.clientCtx, req, dest, tu, branch);
    this.clients.set(clientKey(branch, req.method), t);
    t.start();
    return t;
  }

  /** Sends a message outside any transaction (ACK for 2xx, stateless responses). */
  sendStateless(data: Buffer, dest: Endpoint): Promise<void> {
    return this.transport.send(data, dest);
  }

  /** The INVITE server transaction a CANCEL refers to (§9.2: same branch). */
  findInviteServer(cancel: SipRequest): ServerTransaction | undefined {
    return this.servers.get(serverKey(topVia(cancel), 'INVITE', cancel));
  }

  receive(msg: SipMessage, source: Endpoint): void {
    if (msg.type === 'response') this.receiveResponse(msg);
    else this.receiveRequest(msg, source);
  }

  private receiveResponse(res: SipResponse): void {
    const via = topVia(res);
    const branch = viaBranch(via);
    const method = cseqOf(res).method;
    const t = branch ? this.clients.get(clientKey(branch, method)) : undefined;
    if (t) {
      t.receive(res);
      return;
    }
    if (method === 'INVITE' && res.status >= 200 && res.status < 300) {
      this.strayHandler(res);
      return;
    }
    this.logger.debug('sip.stray_response', { status: res.status, method });
  }

  private receiveRequest(req: SipRequest, source: Endpoint): void {
    const via = topVia(req);
    const method = req.method === 'ACK' ? 'INVITE' : req.method;
    const key = serverKey(via, method, req);
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveAgain(req);
      return;
    }
    if (req.method === 'ACK') {
      this.requestHandler(req, null, source); // ACK for a 2xx: belongs to the dialog, no transaction
      return;
    }
    if (this.servers.size >= this.maxServers && !this.makeRoom()) {
      this.logger.warn('sip.server_transactions_full', { method: req.method, size: this.servers.size });
      return;
    }
    const dest = responseDestination(via, source, this.transport.reliable);
    const txn = new ServerTransaction(
      {
        transport: this.transport,
        clock: this.clock,
        timers: this.timers,
        logger: this.logger,
        terminated: (s) => {
          if (this.servers.get(s.key) === s) this.servers.delete(s.key);
        },
      },
      req,
      dest,
      key,
      source,
    );
    this.servers.set(key, txn);
    try {
      this.requestHandler(req, txn, source);
    } catch (e) {
      // A TU that failed on this request must not leave its transaction behind.
      this.logger.error('sip.request_handler_failed', { method: req.method, error: (e as Error).message });
      if (!txn.finalSent) txn.terminate();
    }
  }

  /** Drops the oldest answered server transaction; false if every one still awaits its answer. */
  private makeRoom(): boolean {
    for (const t of this.servers.values()) {
      if (t.answered) {
        t.terminate();
        return true;
      }
    }
    return false;
  }

  get activeServerCount(): number {
    return this.servers.size;
  }

  get activeClientCount(): number {
    return this.clients.size;
  }

  close(): void {
    for (const t of [...this.clients.values()]) t.terminate();
    for (const s of [...this.servers.values()]) s.terminate();
  }
}

function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

function serverKey(via: Via, method: string, req: SipRequest): string {
  const branch = viaBranch(via);
  if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
  // RFC 2543 peers: match on the dialog identifiers and CSeq number instead.
  return `2543|${callIdOf(req)}|${tagOf(fromOf(req)) ?? ''}|${cseqOf(req).seq}|${method}|${via.host}`;
}
