/**
 * Through a real daemon: an alert mail for Ana, a chat "ack <id>" from her XMPP address acknowledges it
 * (the core acknowledger, via 'xmpp') and she is told so; a "1" from a JID that is nobody's xmpp
 * address changes nothing and gets no answer.
 *
 * The page itself goes by relayed mail here: the dispatcher's recipientFor does not carry
 * users.xmpp yet (one line, left to the lead). With it, put 'xmpp' first in the order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Prosody, DOMAIN } from './prosody.js';
import { Person } from './helpers.js';
import { fixture, startDaemon, startSink, waitFor } from '../../helpers/env.js';
import { sendRaw } from '../../helpers/smtp-client.js';
import { memoryLogger } from '../../../src/util/log.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('acknowledgement by XMPP reply, through the daemon', () => {
  it('"ack <id>" from the user\'s JID acknowledges; "1" from a stranger does nothing', async () => {
    const server = await Prosody.create({ accounts: { alertline: 'alert-pw-9f3', ana: 'ana-pw', mallory: 'mal-pw' } });
    cleanups.push(() => server.close());
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const logger = memoryLogger();
    const d = await startDaemon({
      filter: { dedupeWindow: '0s' },
      channels: {
        order: ['xmpp', 'mail'],
        mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false },
        xmpp: { enabled: true, jid: `alertline@${DOMAIN}`, password: 'alert-pw-9f3', server: `127.0.0.1:${server.port}`, ca: server.certs!.ca },
      },
      escalation: { rounds: 3, roundInterval: '60s' },
    }, { realChannels: true, logger, users: [['ana@alerts.example', { xmpp: `Ana@${DOMAIN}` }]] });
    cleanups.push(() => d.stop());
    await waitFor(() => d.daemon.channels.channels.xmpp?.health().healthy, 20_000);
    expect((await d.daemon.snapshot()).channels.xmpp).toMatchObject({ enabled: true, running: true, healthy: true, kind: 'text' });

    const ana = await Person.login(server, 'ana', 'ana-pw');
    cleanups.push(() => ana.logout());
    const r = await sendRaw(d.port, { to: ['ana@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    await waitFor(() => sink.messages.length === 1, 15_000);
    // The page came to Ana's JID first (order xmpp, mail) as a chat message naming the alert.
    await waitFor(() => ana.bodies().some((b) => b.includes(`#${id}`)), 15_000);

    const mallory = await Person.login(server, 'mallory', 'mal-pw');
    cleanups.push(() => mallory.logout());
    await mallory.say(`alertline@${DOMAIN}`, '1');
    await waitFor(() => logger.lines.some((l) => l.includes(`ack.unknown_sender xmpp=mallory@${DOMAIN}`)), 10_000);
    expect((await d.daemon.stores.alerts.get(id))!.state).not.toBe('acknowledged');

    // Text channels only leave the alert 'delivered': "1" still picks it (the latest alert sent to her).
    await ana.say(`alertline@${DOMAIN}`, '1');
    await waitFor(async () => (await d.daemon.stores.alerts.get(id))!.state === 'acknowledged', 15_000);
    expect(await d.daemon.stores.alerts.get(id)).toMatchObject({ ack_by: 'ana@alerts.example', ack_via: 'xmpp-reply' });
    await waitFor(() => ana.bodies().includes(`Alertline: alert ${id} acknowledged.`), 10_000);
    expect(mallory.bodies()).toEqual([]);
  }, 90_000);
});
