/**
 * The UA core (RFC 3261 §8, §12, §13, §15): builds requests with our identity, answers requests
 * from the far end (OPTIONS, NOTIFY, BYE, INFO, CANCEL, stray INVITEs), runs challenge/response
 * for non-INVITE requests, and routes in-dialog requests to the calls that own the dialogs.
 */
import type { Clock } from '../../../../util/clock.js';
import type { Logger } from '../../../../util/log.js';
import { DigestClient } from '../auth/digest.js';
import { ACCEPT, KNOWN_METHODS } from '../constants.js';
import { buildRequest, buildResponse, type RequestSpec, type ResponseSpec } from '../syntax/build.js';
import { SipParseError } from '../syntax/errors.js';
import { formatNameAddr } from '../syntax/name-addr.js';
import { callIdOf, tagOf, toOf, topVia, type SipRequest, type SipResponse } from '../syntax/message.js';
import { formatVia, parseVia } from '../syntax/via.js';
import { newBranch, randomToken } from '../transaction/branch.js';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/client-transactions.js';
import type { ServerTransaction } from '../transaction/server-transactions.js';
import type { TimerValues } from '../transaction/timers.js';
import { TransactionLayer } from '../transaction/transaction-layer.js';
import { stampReceived } from '../transport/response-route.js';
import type { Endpoint, SipTransport } from '../transport/transport.js';
import { ChallengeRound, isChallenge } from './challenge.js';
import { parseDtmfInfo } from './dtmf-info.js';

export interface UserAgentOptions {
  transport: SipTransport;
  clock: Clock;
  logger: Logger;
  /** Our address-of-record user and domain: sip:<username>@<domain>. */
  username: string;
  domain: string;
  displayName?: string;
  authUsername?: string;
  password: string;
  /** Registrar / outbound proxy: where requests outside a dialog go. */
  outboundProxy: Endpoint;
  timers?: Partial<TimerValues>;
  cnonce?: () => string;
  /** Cap on server transactions held at once (default MAX_SERVER_TRANSACTIONS). */
  maxServerTransactions?: number;
}

/** A MESSAGE request (RFC 3428) arriving outside any dialog, with where its packet came from. */
export interface IncomingMessage {
  request: SipRequest;
  source: Endpoint;
}

/** The answer for an incoming MESSAGE: status, reason and extra header fields. */
export interface MessageAnswer {
  status: number;
  reason: string;
  extra?: readonly (readonly [string, string])[];
}

export type MessageHandler = (msg: IncomingMessage) => MessageAnswer;

/** A request to send, in the UA's words: Via (fresh branch) and Contact are filled in. */
export type OutgoingRequest = Omit<RequestSpec, 'via' | 'contact'> & {
  /** Adds our Contact. */
  contact?: boolean;
};

/** What a call registers with the UA to receive in-dialog requests. */
export interface DialogUser {
  onBye(req: SipRequest): void;
  onDtmf(digit: string, via: 'info'): void;
}

/** What a response carries beyond the copied fields. */
export type ResponseExtras = Pick<ResponseSpec, 'allow' | 'extra' | 'body' | 'contentType'>;

export type FinalResult = { kind: 'response'; response: SipResponse } | { kind: 'timeout' } | { kind: 'transport-error'; error: Error } | { kind: 'auth-failed'; response: SipResponse; error: string };

/** Whether a URI or name-addr (`<sips:…>`) uses the sips: scheme. */
function isSips(uriOrNameAddr: string): boolean {
  const s = uriOrNameAddr.trimStart();
  const lt = s.indexOf('<');
  return (lt >= 0 ? s.slice(lt + 1) : s).trimStart().slice(0, 5).toLowerCase() === 'sips:';
}

export class SipUserAgent {
  private readonly opts: UserAgentOptions;
  private readonly layer: TransactionLayer;
  private readonly digest: DigestClient;
  private readonly dialogs = new Map<string, DialogUser>();
  /** Address peers see us at (learned from received/rport); starts as the bound address. */
  private publicAddr: Endpoint;
  /** Registrar / outbound proxy in use (the server pool moves it); the one our Contact was learned toward. */
  private proxy: Endpoint;
  private learnedToward: Endpoint | undefined;

  constructor(opts: UserAgentOptions) {
    this.opts = opts;
    this.layer = new TransactionLayer(opts.transport, opts.clock, opts.logger, opts.timers, opts.maxServerTransactions);
    this.digest = new DigestClient({ username: opts.authUsername ?? opts.username, password: opts.password }, opts.cnonce);
    this.publicAddr = { ...opts.transport.local };
    this.proxy = { ...opts.outboundProxy };
    this.layer.onRequest((req, txn) => this.handleRequest(req, txn));
    this.layer.onStrayInviteSuccess((res) => this.strayWatchers.get(callIdOf(res))?.(res));
  }

  private readonly strayWatchers = new Map<string, (res: SipResponse) => void>();
  private messageHandler: MessageHandler | undefined;

  /** Installs the receiver of MESSAGE requests (the sipmsg channel); without one they get 480. Returns the uninstaller. */
  onMessageRequest(fn: MessageHandler): () => void {
    this.messageHandler = fn;
    return () => {
      if (this.messageHandler === fn) this.messageHandler = undefined;
    };
  }

  /** Receives 2xx retransmissions for a call after its INVITE transaction is gone. */
  watchStrayInviteSuccess(callId: string, fn: (res: SipResponse) => void): () => void {
    this.strayWatchers.set(callId, fn);
    return () => {
      if (this.strayWatchers.get(callId) === fn) this.strayWatchers.delete(callId);
    };
  }

  get transport(): SipTransport {
    return this.opts.transport;
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  get aor(): string {
    return `sip:${this.opts.username}@${this.opts.domain}`;
  }

  get contactAddress(): Endpoint {
    return this.publicAddr;
  }

  /** Updates the address in Contact/Via after a registrar told us how it sees us. Returns true if it changed. */
  learnPublicAddress(e: Endpoint): boolean {
    if (e.address === this.publicAddr.address && e.port === this.publicAddr.port) return false;
    this.opts.logger.info('sip.public_address', { address: e.address, port: e.port });
    this.publicAddr = { ...e };
    return true;
  }

  /**
   * Our Contact URI. Over TLS a `sips:` one where §8.1.1.8 requires it (the request goes to a
   * sips: URI), else `sip:` with `transport=tls` (§26.2.2 allows it and registrars expect it).
   */
  contactUri(secure = false): string {
    const host = this.publicAddr.address.includes(':') ? `[${this.publicAddr.address}]` : this.publicAddr.address;
    if (secure && this.transport.protocol === 'TLS') return `sips:${this.opts.username}@${host}:${this.publicAddr.port}`;
    const tp = this.transport.protocol === 'UDP' ? '' : `;transport=${this.transport.protocol.toLowerCase()}`;
    return `sip:${this.opts.username}@${host}:${this.publicAddr.port}${tp}`;
  }

  contactHeader(secure = false): string {
    return `<${this.contactUri(secure)}>`;
  }

  /**
   * Before a request to `dest` is built: a transport without a listening port (TLS) opens or
   * reuses its connection there, and a new connection to the outbound proxy becomes the address
   * in our Contact and Via (the registrar reaches us over it). Rejects when no connection can be
   * made (the error names the server and why, e.g. an untrusted certificate).
   */
  async prepare(dest: Endpoint): Promise<void> {
    if (!this.transport.prepare) return;
    const { local, fresh } = await this.transport.prepare(dest);
    const proxy = this.proxy;
    if (dest.address !== proxy.address || dest.port !== proxy.port) return;
    const moved = this.learnedToward === undefined || this.learnedToward.address !== proxy.address || this.learnedToward.port !== proxy.port;
    if (fresh || moved || this.publicAddr.port === 0) this.learnPublicAddress(local);
    this.learnedToward = { ...proxy };
  }

  localParty(tag: string): string {
    return formatNameAddr({ displayName: this.opts.displayName, uri: this.aor, params: new Map([['tag', tag]]) });
  }

  /** A Via for a new transaction: fresh branch, rport requested (RFC 3581). */
  newVia(): string {
    const l = this.transport.local;
    const host = l.address === '0.0.0.0' || l.address === '::' ? this.publicAddr.address : l.address;
    return formatVia({
      transport: this.transport.protocol,
      host: host.includes(':') ? `[${host}]` : host,
      port: l.port,
      params: new Map<string, string | null>([['branch', newBranch()], ['rport', null]]),
    });
  }

  /** Registrar / outbound proxy: where requests outside a dialog go. */
  get outboundProxy(): Endpoint {
    return this.proxy;
  }

  /**
   * Moves requests outside a dialog to another server (the voip server pool failing over or
   * back). Calls already placed keep the server they were sent to.
   */
  setOutboundProxy(e: Endpoint): void {
    this.proxy = { ...e };
  }

  /** Request-URI of a REGISTER (§10.2: the domain of the address-of-record). */
  get registrarUri(): string {
    return `sip:${this.opts.domain}`;
  }

  /** The SIP timer values in force (T1, T2, T4). */
  get timers(): TimerValues {
    return this.layer.timers;
  }

  /** Every request the UA originates is built here: fresh Via branch, our Contact on request. */
  buildRequest(r: OutgoingRequest): SipRequest {
    const { contact, ...spec } = r;
    const secure = isSips(r.uri) || (r.routes !== undefined && r.routes.length > 0 && isSips(r.routes[0]!));
    return buildRequest({ ...spec, via: this.newVia(), ...(contact ? { contact: this.contactHeader(secure) } : {}) });
  }

  /** A new challenge/response round (one per request cycle) with our credentials. */
  newChallengeRound(): ChallengeRound {
    return new ChallengeRound(this.digest);
  }

  /** Starts an INVITE client transaction towards `dest` (default: the outbound proxy). */
  sendInvite(req: SipRequest, tu: ClientTransactionUser, dest: Endpoint = this.proxy): ClientTransaction {
    return this.layer.sendRequest(req, dest, tu);
  }

  /** Sends a message outside any transaction (the ACK for a 2xx). */
  sendStateless(data: Buffer, dest: Endpoint): Promise<void> {
    return this.layer.sendStateless(data, dest);
  }

  /** Transactions held now (status and tests: the table must stay bounded). */
  transactionCounts(): { clients: number; servers: number } {
    return { clients: this.layer.activeClientCount, servers: this.layer.activeServerCount };
  }

  /**
   * Sends a non-INVITE request and waits for its final response, answering 401/407 once (plus
   * stale retries). `build` is called for each attempt with the credentials to add; it must
   * allocate a new CSeq each time (a retried request is a new request).
   */
  async requestWithAuth(build: (auth: [string, string][]) => SipRequest, dest: Endpoint): Promise<FinalResult> {
    const round = this.newChallengeRound();
    let auth: [string, string][] = [];
    for (;;) {
      try {
        await this.prepare(dest);
      } catch (e) {
        return { kind: 'transport-error', error: e as Error };
      }
      const req = build(auth);
      const result = await this.sendNonInvite(req, dest);
      if (result.kind !== 'response' || !isChallenge(result.response)) return result;
      const a = round.answer(result.response, req.method, req.uri);
      if ('error' in a) return { kind: 'auth-failed', response: result.response, error: a.error };
      auth = a.headers;
    }
  }

  sendNonInvite(req: SipRequest, dest: Endpoint): Promise<FinalResult> {
    return new Promise((resolve) => {
      this.layer.sendRequest(req, dest, {
        onResponse: (res) => {
          if (res.status >= 200) resolve({ kind: 'response', response: res });
        },
        onTimeout: () => resolve({ kind: 'timeout' }),
        onTransportError: (error) => resolve({ kind: 'transport-error', error }),
      });
    });
  }

  newCallId(): string {
    const a = this.publicAddr.address;
    return `${randomToken(12)}@${a.includes(':') ? 'alertline' : a}`;
  }

  // ---- dialogs -------------------------------------------------------------------------------

  registerDialog(callId: string, localTag: string, user: DialogUser): () => void {
    const key = `${callId}|${localTag}`;
    this.dialogs.set(key, user);
    return () => {
      if (this.dialogs.get(key) === user) this.dialogs.delete(key);
    };
  }

  private dialogFor(req: SipRequest): DialogUser | undefined {
    const localTag = tagOf(toOf(req));
    if (!localTag) return undefined;
    return this.dialogs.get(`${callIdOf(req)}|${localTag}`);
  }

  // ---- requests from the far end ---------------------------------------------------------------

  /** §8.2.6: a response copying Via (top one stamped with received/rport), From, To, Call-ID and CSeq; adds our To tag to finals. */
  buildResponse(req: SipRequest, source: Endpoint, status: number, reason: string, more: ResponseExtras = {}): SipResponse {
    const vias = req.headers.list('Via');
    return buildResponse(req, {
      status,
      reason,
      topVia: formatVia(stampReceived(parseVia(vias[0]!), source)),
      toTag: randomToken(6),
      ...more,
    });
  }

  /**
   * Answers in a server transaction. A response that cannot be built or serialized (a header
   * the far end sent that we cannot echo) becomes a 400; if even that cannot be built the
   * request is dropped and its transaction removed at once.
   */
  private respond(txn: ServerTransaction, req: SipRequest, status: number, reason: string, more: ResponseExtras = {}): void {
    try {
      txn.respond(this.buildResponse(req, txn.source, status, reason, more));
      return;
    } catch (e) {
      this.opts.logger.warn('sip.response_unbuildable', { method: req.method, status, error: (e as Error).message });
    }
    if (status !== 400) {
      try {
        txn.respond(this.buildResponse(req, txn.source, 400, 'Bad Request'));
        return;
      } catch {
        // falls through: nothing can be sent back
      }
    }
    txn.terminate();
  }

  private handleRequest(req: SipRequest, txn: ServerTransaction | null): void {
    if (!txn) return; // ACK for a 2xx: we never send 2xx to INVITE, nothing to do.
    const respond = (status: number, reason: string, more: ResponseExtras = {}) => this.respond(txn, req, status, reason, more);
    this.opts.logger.debug('sip.request_in', { method: req.method, callId: callIdOf(req) });
    try {
      switch (req.method) {
        case 'OPTIONS':
          respond(200, 'OK', { allow: true, extra: [['Accept', ACCEPT]] });
          return;
        case 'NOTIFY':
          respond(200, 'OK');
          return;
        case 'MESSAGE': {
          // RFC 3428 §7: a MESSAGE inside a dialog is answered like one outside it.
          if (!this.messageHandler) return respond(480, 'Temporarily Unavailable');
          const a = this.messageHandler({ request: req, source: txn.source });
          respond(a.status, a.reason, a.extra ? { extra: a.extra } : {});
          return;
        }
        case 'BYE': {
          const d = this.dialogFor(req);
          if (!d) return respond(481, 'Call/Transaction Does Not Exist');
          respond(200, 'OK');
          d.onBye(req);
          return;
        }
        case 'INFO': {
          const d = this.dialogFor(req);
          if (!d) return respond(481, 'Call/Transaction Does Not Exist');
          respond(200, 'OK');
          const digit = parseDtmfInfo(req.headers.get('Content-Type'), req.body);
          if (digit !== null) d.onDtmf(digit, 'info');
          return;
        }
        case 'CANCEL': {
          const inv = this.layer.findInviteServer(req);
          if (!inv) return respond(481, 'Call/Transaction Does Not Exist');
          respond(200, 'OK');
          if (!inv.finalSent) this.respond(inv, inv.request, 487, 'Request Terminated');
          return;
        }
        case 'INVITE':
          // Alertline places calls; it does not take them. A re-INVITE inside one of our calls is
          // refused without ending the call (§14.2: the session stays as it was).
          if (this.dialogFor(req)) return respond(488, 'Not Acceptable Here', { allow: true });
          return respond(603, 'Decline');
        default:
          if (KNOWN_METHODS.has(req.method)) return respond(405, 'Method Not Allowed', { allow: true });
          return respond(501, 'Not Implemented', { allow: true });
      }
    } catch (e) {
      const status = e instanceof SipParseError ? e.status : 500;
      this.opts.logger.warn('sip.request_failed', { method: req.method, error: (e as Error).message });
      respond(status, status === 400 ? 'Bad Request' : 'Server Internal Error');
    }
  }

  /** True if the response's top Via is one we sent and carries received/rport: how peers see us. */
  observedAddress(res: SipResponse): Endpoint | undefined {
    const via = topVia(res);
    const received = via.params.get('received');
    const rport = via.params.get('rport');
    if (!received && !rport) return undefined;
    return { address: received ?? this.publicAddr.address, port: rport ? Number(rport) : (via.port ?? this.publicAddr.port) };
  }

  close(): void {
    this.layer.close();
    this.dialogs.clear();
  }
}

