/**
 * The xmpp channel: the alert as a chat message to the person's JID, from the appliance's own
 * account; a message back from a JID is handed to the InboundSink (the daemon reads it with the
 * core reply grammar and only acts for a JID that is some user's xmpp address) and its answer, if
 * any, is sent back. A sent message is 'delivered', never an acknowledgement.
 *
 * Stale pages: each message carries an XEP-0079 expire-at rule (drop after channels.xmpp.expireAfter)
 * and the XEP-0334 no-store / no-permanent-store hints, so a server that honours either keeps no
 * copy for a person who is offline now and shows it to them hours later. The dispatcher goes on
 * with the next channel in any case: an XMPP send does not end the escalation.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Element } from '@xmpp/client';
import type { Channel, ChannelHealth, DeliveryJob, InboundSink, Outcome, Recipient, RetryRule } from '../channel.js';
import { outcome } from '../channel.js';
import type { XmppConfig } from '../../config/schema.js';
import type { Logger } from '../../util/log.js';
import { fullText, truncate } from '../../compose/texts.js';
import { ACK_HINT } from '../../core/replies.js';
import { validateXmpp } from '../../store/user-fields.js';
import { safeTimeout } from '../../util/timers.js';
import { XmppLink, type LinkStatus } from './xmpp-link.js';
import { MAX_ALERT_CHARS, alertStanza, chatStanza, readBounce, readIncoming, serverAddress } from './stanzas.js';

export interface XmppChannelOptions {
  config: XmppConfig;
  inbound: InboundSink;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

/** How long a delivery waits for the server's XEP-0198 acknowledgement when the stream has one. */
const SERVER_ACK_WAIT_MS = 15_000;

/** The page: the whole alert (bounded), then how to acknowledge. */
export function xmppAlertText(job: DeliveryJob): string {
  const text = truncate(fullText(job.alert, job.recipient.lang), MAX_ALERT_CHARS);
  return `${text}\n${ACK_HINT} (or "ack ${job.alert.id}")`;
}

export class XmppChannel implements Channel {
  readonly name = 'xmpp' as const;
  readonly kind = 'text' as const;
  readonly capacity = 8;
  readonly retry: RetryRule;
  private link: XmppLink | null = null;
  private readonly jid: string;
  private readonly now: () => number;
  private readonly server: { host: string; port: number };
  /** Deliveries waiting for the server, by stanza id: told of a bounce. */
  private readonly waiting = new Map<string, (condition: string) => void>();

  constructor(private readonly o: XmppChannelOptions) {
    const cfg = o.config;
    this.retry = { retries: cfg.retries, backoffMs: cfg.retryBackoff };
    this.now = o.now ?? Date.now;
    try {
      this.jid = validateXmpp(cfg.jid);
    } catch (e) {
      throw new Error(`channels.xmpp.jid: ${(e as Error).message}`);
    }
    this.server = serverAddress(cfg.server, this.jid.slice(this.jid.indexOf('@') + 1));
  }

  address(r: Recipient): string | null {
    if (!r.xmpp) return null;
    try {
      return validateXmpp(r.xmpp);
    } catch {
      return null;
    }
  }

  async start(): Promise<void> {
    const cfg = this.o.config;
    if (!cfg.password) throw new Error('channels.xmpp.password is empty');
    let ca: string | undefined;
    if (cfg.ca) {
      try {
        ca = await readFile(cfg.ca, 'utf8');
      } catch (e) {
        throw new Error(`channels.xmpp.ca: cannot read ${cfg.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    this.link = new XmppLink({
      jid: this.jid, password: cfg.password, host: this.server.host, port: this.server.port, resource: cfg.resource,
      rejectUnauthorized: cfg.tlsRejectUnauthorized, ...(ca ? { ca } : {}),
      connectTimeoutMs: cfg.connectTimeout, pingIntervalMs: cfg.pingInterval,
      reconnectMinMs: cfg.reconnectMin, reconnectMaxMs: cfg.reconnectMax,
      logger: this.o.logger, now: this.now, ...(this.o.random ? { random: this.o.random } : {}),
      onStanza: (el) => this.onStanza(el),
    });
    if (!cfg.tlsRejectUnauthorized) this.o.logger.warn('xmpp.tls_unverified', { note: 'channels.xmpp.tlsRejectUnauthorized is false: the server certificate is not checked' });
    await this.link.start();
  }

  async stop(): Promise<void> {
    await this.link?.stop();
  }

  health(): ChannelHealth {
    const s = this.link?.status();
    if (!s || s.state === 'stopped') return { healthy: false, detail: 'not started' };
    if (s.state === 'online') return { healthy: true, detail: `connected to ${s.server} as ${s.jid}` };
    if (s.state === 'connecting') return { healthy: false, detail: `connecting to ${s.server}` };
    const next = s.nextTryAt !== null ? `, next try in ${Math.max(0, Math.ceil((s.nextTryAt - this.now()) / 1000))}s` : '';
    return { healthy: false, detail: `reconnecting: ${s.lastError ?? 'connection lost'} (attempt ${s.attempts}${next})` };
  }

  status(): LinkStatus | null {
    return this.link?.status() ?? null;
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    if (signal.aborted) return outcome('failed', 'cancelled before sending', false);
    const c = this.link?.client;
    if (!c) return outcome('failed', `not connected: ${this.health().detail}`, true);
    const to = job.address;
    const id = `alertline-${job.alert.id}-${job.attemptId}-${randomBytes(4).toString('hex')}`;
    const expiresAt = this.now() + this.o.config.expireAfter;
    const stanza = alertStanza({ to, id, body: xmppAlertText(job), expiresAt });
    const sm = c.streamManagement?.enabled ? c.streamManagement : null;
    const acked = sm ? this.serverAck(sm, id, signal) : null;
    try {
      await c.send(stanza);
    } catch (e) {
      return outcome('failed', `send to ${to} failed: ${(e as Error).message}`, true);
    }
    const detail = { id, expiresAt: new Date(expiresAt).toISOString() };
    if (!acked) return outcome('delivered', `sent to ${to} (${this.server.host}:${this.server.port})`, false, detail);
    const r = await acked;
    if (r === 'ack') return outcome('delivered', `accepted by ${this.server.host} for ${to}`, false, { ...detail, serverAck: true });
    if (r.startsWith('bounced: ')) {
      // The server answered before acknowledging: offline with no store (service-unavailable), no such user...
      const cond = r.slice('bounced: '.length);
      const permanent = ['item-not-found', 'remote-server-not-found', 'forbidden', 'not-allowed', 'jid-malformed'].includes(cond);
      return outcome(permanent ? 'rejected' : 'failed', `the server returned the page for ${to}: ${cond}${cond === 'service-unavailable' ? ' (offline, and the server keeps no messages)' : ''}`, false, detail);
    }
    return outcome('failed', `sent to ${to}, not acknowledged by the server (${r})`, r !== 'cancelled', detail);
  }

  /** Waits for XEP-0198's acknowledgement of the stanza with this id. */
  private serverAck(sm: NonNullable<NonNullable<XmppLink['client']>['streamManagement']>, id: string, signal: AbortSignal): Promise<string> {
    return new Promise((resolve) => {
      const done = (r: string) => {
        this.waiting.delete(id);
        sm.off('ack', onAck);
        sm.off('fail', onFail);
        this.link?.downListeners.delete(onDown);
        signal.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        resolve(r);
      };
      const onAck = (el: Element) => { if (el.attrs.id === id) done('ack'); };
      const onFail = (el: Element) => { if (el.attrs.id === id) done('stream failed'); };
      const onDown = (reason: string) => done(`connection lost: ${reason}`);
      const onAbort = () => done('cancelled');
      const timer = safeTimeout(() => done(`no acknowledgement within ${SERVER_ACK_WAIT_MS / 1000}s`), SERVER_ACK_WAIT_MS);
      this.waiting.set(id, (cond) => done(`bounced: ${cond}`));
      sm.on('ack', onAck);
      sm.on('fail', onFail);
      this.link?.downListeners.add(onDown);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private onStanza(el: Element): void {
    const bounce = readBounce(el);
    if (bounce) {
      this.o.logger.warn('xmpp.bounced', { id: bounce.id, from: bounce.from, condition: bounce.condition });
      this.waiting.get(bounce.id)?.(bounce.condition);
      return;
    }
    const m = readIncoming(el, this.jid);
    if (!m) return;
    this.o.inbound.message({ xmpp: m.from }, m.body, 'xmpp').then(async (answer) => {
      const c = this.link?.client;
      if (answer && c) await c.send(chatStanza(m.replyTo, answer));
    }).catch((e: Error) => this.o.logger.warn('xmpp.inbound_failed', { from: m.from, error: e }));
  }
}
