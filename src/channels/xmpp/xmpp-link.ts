/**
 * The appliance's XMPP client connection: TCP to the server's client port, STARTTLS required with
 * the certificate checked against the JID's domain, SASL only once the stream is encrypted,
 * resource binding, initial presence; keep-alive pings; reconnect with bounded, jittered backoff.
 *
 * xmpp.js negotiates STARTTLS itself but without a way to pass a CA or to insist on TLS, so this
 * class takes the clear-text stream's features away from it: a listener placed before the
 * library's sees every <stream:features/>, and while the stream is not encrypted it empties them
 * (nothing in the library negotiates, in particular no SASL mechanism is ever tried in clear) and
 * runs STARTTLS here, or fails when the server offers none. SASL additionally refuses to start on
 * a stream that is not secure.
 */
import tls from 'node:tls';
import { client as xmppClient, xml, type Client, type Element } from '@xmpp/client';
import type { Logger } from '../../util/log.js';
import { safeTimeout } from '../../util/timers.js';
import { NS, reconnectDelay } from './stanzas.js';

/** Bytes the server may send without completing one stanza before the connection is dropped. */
const MAX_STANZA_BYTES = 256 * 1024;

export interface XmppLinkOptions {
  /** Bare JID of the appliance's account. */
  jid: string;
  password: string;
  host: string;
  port: number;
  resource: string;
  /** PEM of the CA(s) to trust instead of the system's. */
  ca?: string;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  pingIntervalMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logger: Logger;
  random?: () => number;
  now?: () => number;
  /** Every stanza received while online. */
  onStanza: (el: Element, client: Client) => void;
}

export type LinkState = 'stopped' | 'connecting' | 'online' | 'reconnecting';

/** A failure whose cause a retry will not remove (bad certificate, no STARTTLS, wrong password). */
export class XmppSetupError extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
    this.name = 'XmppSetupError';
  }
}

export interface LinkStatus {
  state: LinkState;
  jid: string;
  server: string;
  since: number;
  /** Failed tries since the last time online. */
  attempts: number;
  lastError: string | null;
  nextTryAt: number | null;
  streamManagement: boolean;
}

export class XmppLink {
  private c: Client | null = null;
  private state: LinkState = 'stopped';
  private since: number;
  private attempts = 0;
  private lastError: string | null = null;
  private nextTryAt: number | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly domain: string;
  private readonly local: string;
  /** Told whenever the link goes down (a delivery waiting for a server ack gives up). */
  readonly downListeners = new Set<(reason: string) => void>();

  constructor(private readonly o: XmppLinkOptions) {
    this.now = o.now ?? Date.now;
    this.since = this.now();
    const at = o.jid.indexOf('@');
    this.local = o.jid.slice(0, at);
    this.domain = o.jid.slice(at + 1);
  }

  get client(): Client | null {
    return this.state === 'online' ? this.c : null;
  }

  status(): LinkStatus {
    return {
      state: this.state, jid: this.o.jid, server: `${this.o.host}:${this.o.port}`, since: this.since,
      attempts: this.attempts, lastError: this.lastError, nextTryAt: this.nextTryAt,
      streamManagement: Boolean(this.c?.streamManagement?.enabled && this.state === 'online'),
    };
  }

  /** The first connection: resolves online, or rejects with a clear reason (the channel does not start). */
  async start(): Promise<void> {
    this.setState('connecting');
    try {
      await this.connect();
    } catch (e) {
      this.setState('stopped');
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.nextTryAt = null;
    await this.drop('stopped');
  }

  private setState(s: LinkState): void {
    if (s !== this.state) this.since = this.now();
    this.state = s;
  }

  /** One connection attempt, bounded by connectTimeout. */
  private async connect(): Promise<void> {
    const c = xmppClient({
      service: `xmpp://${this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host}:${this.o.port}`,
      domain: this.domain,
      resource: this.o.resource,
      timeout: Math.min(this.o.connectTimeoutMs, 10_000),
      credentials: async (authenticate, mechanisms, _fast, entity) => {
        if (!entity.isSecure()) throw new XmppSetupError('refusing to authenticate on a stream without TLS', true);
        const mech = mechanisms.includes('SCRAM-SHA-1') ? 'SCRAM-SHA-1' : mechanisms[0];
        if (!mech) throw new XmppSetupError('the server offers no SASL mechanism this client supports', true);
        await authenticate({ username: this.local, password: this.o.password }, mech);
      },
    });
    c.reconnect.stop(); // reconnecting is ours: a fresh client each time, with backoff
    this.c = c;
    let failed: ((e: Error) => void) | null = null;
    const failure = new Promise<never>((_, reject) => { failed = reject; });
    failure.catch(() => {});
    const fail = (e: Error) => failed?.(e);

    // The STARTTLS gate (see the header): runs before the library's own listener.
    c.prependListener('element', (el: Element) => {
      if (!el.is('features', NS.streams) || c.isSecure()) return;
      const offered = el.getChild('starttls', NS.tls);
      el.children = [];
      if (!offered) {
        fail(new XmppSetupError(`${this.o.host}:${this.o.port} offers no STARTTLS: Alertline never logs in without TLS`, true));
        return;
      }
      this.startTls(c).catch(fail);
    });
    // A bound on what one stanza may cost before the parser sees its end.
    let pending = 0;
    const onData = c._onData.bind(c);
    c._onData = (data: Buffer) => {
      pending += data.length;
      if (pending > MAX_STANZA_BYTES) {
        fail(new Error(`the server sent more than ${MAX_STANZA_BYTES} bytes without completing a stanza`));
        c.socket?.destroy();
        return;
      }
      onData(data);
    };
    c.on('element', () => { pending = 0; });
    c.on('error', (e: Error) => fail(e));
    c.on('disconnect', () => fail(new Error('connection closed by the server')));

    let timer: NodeJS.Timeout | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = safeTimeout(() => reject(new Error(`no session within ${Math.round(this.o.connectTimeoutMs / 1000)}s`)), this.o.connectTimeoutMs);
    });
    timeout.catch(() => {});
    try {
      await Promise.race([c.start(), failure, timeout]);
      await c.send(xml('presence', {}, xml('priority', {}, '0')));
    } catch (e) {
      if (timer) clearTimeout(timer);
      this.c = null;
      c.removeAllListeners();
      c.on('error', () => {});
      await stopQuietly(c);
      const err = describe(e as Error, this.o);
      this.lastError = err.message;
      throw err;
    }
    if (timer) clearTimeout(timer);
    failed = null;
    if (this.state === 'stopped' || this.c !== c) {
      // stop() came while this attempt was under way: it must not leave a session behind.
      c.removeAllListeners();
      c.on('error', () => {});
      await stopQuietly(c);
      throw new Error('stopped');
    }
    c.removeAllListeners('error');
    c.removeAllListeners('disconnect');
    c.on('error', (e: Error) => this.lost(c, describe(e, this.o).message));
    c.on('disconnect', () => this.lost(c, 'connection closed by the server'));
    c.on('stanza', (el: Element) => {
      try {
        this.o.onStanza(el, c);
      } catch (e) {
        this.o.logger.warn('xmpp.stanza_failed', { error: e as Error });
      }
    });
    this.setState('online');
    this.attempts = 0;
    this.lastError = null;
    this.nextTryAt = null;
    this.schedulePing(c);
    this.o.logger.info('xmpp.online', { jid: this.o.jid, server: `${this.o.host}:${this.o.port}` });
  }

  private async startTls(c: Client): Promise<void> {
    const answer = await c.sendReceive(xml('starttls', { xmlns: NS.tls }));
    if (!answer.is('proceed', NS.tls)) throw new XmppSetupError('the server refused STARTTLS', false);
    const raw = c.socket!;
    const secure = tls.connect({
      socket: raw as unknown as import('node:net').Socket,
      servername: this.domain,
      host: this.domain,
      rejectUnauthorized: this.o.rejectUnauthorized,
      minVersion: 'TLSv1.2',
      ...(this.o.ca ? { ca: this.o.ca } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    Object.assign(secure, { secure: true });
    c._attachSocket(secure);
    await c.restart();
  }

  private schedulePing(c: Client): void {
    if (this.o.pingIntervalMs <= 0) return;
    this.pingTimer = safeTimeout(() => {
      if (this.c !== c || this.state !== 'online') return;
      c.iqCaller.request(xml('iq', { type: 'get', to: this.domain }, xml('ping', { xmlns: NS.ping })), Math.min(this.o.pingIntervalMs, 30_000))
        .then(() => this.schedulePing(c), (e: Error) => {
          // A server that does not know XEP-0199 answers with an error: it is alive all the same.
          if ((e as { condition?: string }).condition) this.schedulePing(c);
          else this.lost(c, `no answer to ping (${e.message})`);
        });
    }, this.o.pingIntervalMs);
    this.pingTimer.unref();
  }

  /** The connection went away: tell waiting deliveries, then reconnect with backoff. */
  private lost(c: Client, reason: string): void {
    if (this.c !== c || this.state !== 'online') return;
    this.o.logger.warn('xmpp.disconnected', { reason });
    this.lastError = reason;
    this.setState('reconnecting');
    void this.drop(reason);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.state === 'stopped') return;
    this.attempts++;
    const delay = reconnectDelay(this.attempts, this.o.reconnectMinMs, this.o.reconnectMaxMs, this.o.random);
    this.nextTryAt = this.now() + delay;
    this.retryTimer = safeTimeout(() => {
      this.retryTimer = null;
      if (this.state === 'stopped') return;
      this.connect().catch((e: Error) => {
        if (this.state === 'stopped') return;
        this.o.logger.warn('xmpp.reconnect_failed', { attempt: this.attempts, reason: e.message });
        this.scheduleRetry();
      });
    }, delay);
  }

  private async drop(reason: string): Promise<void> {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = null;
    for (const f of this.downListeners) f(reason);
    const c = this.c;
    this.c = null;
    if (!c) return;
    c.removeAllListeners();
    c.on('error', () => {});
    await stopQuietly(c);
  }
}

async function stopQuietly(c: Client): Promise<void> {
  try {
    await Promise.race([c.stop(), new Promise((r) => safeTimeout(r as () => void, 2000).unref())]);
  } catch {
    c.socket?.destroy();
  }
  c.socket?.destroy();
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
]);

/** The reason a person reads in status and doctor: what went wrong and what to change. */
function describe(e: Error, o: XmppLinkOptions): Error {
  if (e instanceof XmppSetupError) return e;
  const code = (e as { code?: string }).code ?? '';
  const where = `${o.host}:${o.port}`;
  if (TLS_CODES.has(code)) {
    const hint = o.ca ? 'the CA in channels.xmpp.ca did not sign it' : 'set channels.xmpp.ca to the CA that signed it';
    return new XmppSetupError(`TLS: the certificate of ${where} is not trusted for ${o.jid.slice(o.jid.indexOf('@') + 1)} (${code}: ${e.message}); ${hint}`, true);
  }
  if (code.startsWith('ERR_SSL_')) return new Error(`TLS handshake with ${where} failed (${code})`);
  if (e.name === 'SASLError') {
    const cond = (e as { condition?: string }).condition ?? e.message;
    return new XmppSetupError(`login as ${o.jid} refused by the server: ${cond} (check channels.xmpp.jid and password)`, true);
  }
  if (e.name === 'StreamError') return new Error(`stream error from ${where}: ${(e as { condition?: string }).condition ?? e.message}`);
  if (code) return new Error(`${where}: ${code}${e.message && !e.message.includes(code) ? ` (${e.message})` : ''}`);
  return new Error(`${where}: ${e.message}`);
}
