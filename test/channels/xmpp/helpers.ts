/** The on-call person's XMPP client for the tests, and the channel set up against a test Prosody. */
import type { Element } from '@xmpp/client';
import { XmppLink } from '../../../src/channels/xmpp/xmpp-link.js';
import { XmppChannel } from '../../../src/channels/xmpp/xmpp-channel.js';
import type { DeliveryJob, InboundSink, Sender } from '../../../src/channels/channel.js';
import { xmppSchema } from '../../../src/config/schema.js';
import { memoryLogger } from '../../../src/util/log.js';
import { chatStanza } from '../../../src/channels/xmpp/stanzas.js';
import { readFileSync } from 'node:fs';
import { DOMAIN, type Prosody } from './prosody.js';
import { waitFor } from '../../helpers/env.js';

/** A person with an XMPP client (xmpp.js) logged in to the test server; records what reaches them. */
export class Person {
  readonly received: Element[] = [];
  available = false;
  private constructor(readonly link: XmppLink, readonly jid: string) {}

  static async login(server: Prosody, user: string, password: string): Promise<Person> {
    const jid = `${user}@${DOMAIN}`;
    let self: Person | null = null;
    const link = new XmppLink({
      jid, password, host: '127.0.0.1', port: server.port, resource: 'phone', ca: readFileSync(server.certs!.ca, 'utf8'),
      rejectUnauthorized: true, connectTimeoutMs: 10_000, pingIntervalMs: 0, reconnectMinMs: 100, reconnectMaxMs: 500,
      logger: memoryLogger(), onStanza: (el) => {
        if (el.is('message')) self!.received.push(el);
        if (el.is('presence') && el.attrs.from === `${jid}/phone`) self!.available = true;
      },
    });
    self = new Person(link, jid);
    await link.start();
    // The server reflects our initial presence once it has processed it: from then on we count as online.
    await waitFor(() => self!.available, 10_000);
    return self;
  }

  bodies(): string[] {
    return this.received.map((m) => m.getChildText('body') ?? '').filter(Boolean);
  }

  async say(to: string, text: string): Promise<void> {
    await this.link.client!.send(chatStanza(to, text));
  }

  async logout(): Promise<void> {
    await this.link.stop();
  }
}

export interface SinkCall { from: Sender; text: string; via: string }

/** An InboundSink that records what reaches it and answers with `answer(text)`. */
export function recordingSink(answer: (c: SinkCall) => string | null = () => null): InboundSink & { calls: SinkCall[] } {
  const calls: SinkCall[] = [];
  return {
    calls,
    message: async (from, text, via) => { const c = { from, text, via }; calls.push(c); return answer(c); },
    callBack: async () => null,
  };
}

export function channelFor(server: Prosody, over: Record<string, unknown>, inbound: InboundSink) {
  const logger = memoryLogger();
  const config = xmppSchema.parse({
    enabled: true, jid: `alertline@${DOMAIN}`, password: 'alert-pw-9f3', server: `127.0.0.1:${server.port}`,
    ...(server.certs ? { ca: server.certs.ca } : {}),
    reconnectMin: '100ms', reconnectMax: '400ms', connectTimeout: '10s', ...over,
  });
  return { channel: new XmppChannel({ config, inbound, logger }), logger };
}

let attempt = 0;
export function job(address: string, over: Partial<DeliveryJob['alert']> = {}): DeliveryJob {
  const id = over.id ?? 42;
  return {
    alert: {
      id, kind: 'problem', subject: 'Problem: Disk full on db01', host: 'db01', severity: 'High', text: 'Free space on / is 1%.\nOriginal problem ID: 777',
      receivedAt: Date.UTC(2026, 11, 1, 3, 7), raw: Buffer.from(''), ...over,
    } as DeliveryJob['alert'],
    recipient: { email: 'ana@alerts.example', xmpp: address, lang: 'en' },
    address, moreAlerts: 0, attemptId: ++attempt,
  };
}
