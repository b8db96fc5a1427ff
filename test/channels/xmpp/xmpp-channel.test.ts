/**
 * The xmpp channel against a real Prosody on loopback (STARTTLS with a test CA): the page reaches
 * the on-call person's client as a chat message that expires with the alert, their "1" reaches the
 * InboundSink and its answer comes back; a Prosody restart is survived; a wrong CA and a server
 * without STARTTLS are refused with a reason a person can act on.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Prosody, DOMAIN } from './prosody.js';
import { Person, channelFor, job, recordingSink } from './helpers.js';
import { parseReply } from '../../../src/core/replies.js';
import { NS } from '../../../src/channels/xmpp/stanzas.js';
import { waitFor } from '../../helpers/env.js';

const ANA = `ana@${DOMAIN}`;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('xmpp channel with Prosody', () => {
  let server: Prosody;
  beforeAll(async () => {
    server = await Prosody.create({ accounts: { alertline: 'alert-pw-9f3', ana: 'ana-pw', bob: 'bob-pw' } });
  }, 30_000);
  afterAll(async () => { await server?.close(); });

  it('sends the alert as an expiring chat message; a reply "1" reaches the sink and its answer is sent back', async () => {
    const sink = recordingSink((c) => (parseReply(c.text).type === 'ack' ? 'Alert 42 acknowledged' : null));
    const { channel } = channelFor(server, { expireAfter: '20m' }, sink);
    cleanups.push(() => channel.stop());
    await channel.start();
    expect(channel.health()).toEqual({ healthy: true, detail: `connected to 127.0.0.1:${server.port} as alertline@${DOMAIN}` });

    const ana = await Person.login(server, 'ana', 'ana-pw');
    cleanups.push(() => ana.logout());
    expect(channel.address({ email: 'ana@x', xmpp: 'Ana@Alerts.Test', lang: 'en' })).toBe(ANA);
    expect(channel.address({ email: 'ana@x', lang: 'en' })).toBeNull();

    const before = Date.now();
    const out = await channel.deliver(job(ANA), new AbortController().signal);
    expect(out.kind).toBe('delivered'); // informed, not acknowledged
    await waitFor(() => ana.received.length > 0, 10_000);
    const m = ana.received[0]!;
    expect(m.attrs.type).toBe('chat');
    expect(m.attrs.from).toBe(`alertline@${DOMAIN}/alertline`);
    const body = m.getChildText('body')!;
    expect(body).toMatch(/^PROBLEM #42 Disk full on db01\n/);
    expect(body).toContain('Free space on / is 1%.');
    expect(body).toMatch(/Reply 1 to ack \(or "ack 42"\)$/);
    // Expiry: XEP-0079 drop after expireAfter, XEP-0334 no offline store, no archive.
    const rule = m.getChild('amp', NS.amp)?.getChild('rule');
    expect(rule?.attrs).toMatchObject({ condition: 'expire-at', action: 'drop' });
    const expires = Date.parse(rule!.attrs.value!);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 20 * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 20 * 60_000);
    expect(m.getChild('no-store', NS.hints)).toBeDefined();
    expect(m.getChild('no-permanent-store', NS.hints)).toBeDefined();

    await ana.say(m.attrs.from!, ' 1 ');
    await waitFor(() => sink.calls.length > 0, 10_000);
    expect(sink.calls[0]).toEqual({ from: { xmpp: ANA }, text: ' 1 ', via: 'xmpp' });
    await waitFor(() => ana.bodies().includes('Alert 42 acknowledged'), 10_000);

    // Anything that is not a person's message with a body never reaches the sink.
    await ana.link.client!.send((await import('@xmpp/client')).xml('message', { type: 'chat', to: `alertline@${DOMAIN}` },
      (await import('@xmpp/client')).xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    await ana.say(`alertline@${DOMAIN}`, 'ack 42'); // to the bare JID: routed to the appliance (it sent presence)
    await waitFor(() => sink.calls.length === 2, 10_000);
    expect(sink.calls[1]).toEqual({ from: { xmpp: ANA }, text: 'ack 42', via: 'xmpp' });
  }, 60_000);

  it('survives a Prosody restart: reports reconnecting, comes back, the next alert is delivered', async () => {
    const { channel, logger } = channelFor(server, {}, recordingSink());
    cleanups.push(() => channel.stop());
    await channel.start();

    await server.kill();
    await waitFor(() => !channel.health().healthy, 10_000);
    expect(channel.health().detail).toMatch(/^reconnecting: .+ \(attempt \d+/);
    const down = await channel.deliver(job(ANA, { id: 43 }), new AbortController().signal);
    expect(down).toMatchObject({ kind: 'failed', retryable: true });
    expect(down.reason).toMatch(/^not connected: reconnecting/);

    await server.start();
    await waitFor(() => channel.health().healthy, 15_000);
    expect(logger.lines.join('\n')).toMatch(/xmpp\.disconnected/);
    const ana = await Person.login(server, 'ana', 'ana-pw');
    cleanups.push(() => ana.logout());
    const out = await channel.deliver(job(ANA, { id: 44 }), new AbortController().signal);
    expect(out.kind).toBe('delivered');
    await waitFor(() => ana.bodies().some((b) => b.startsWith('PROBLEM #44 ')), 10_000);
    // The password never reaches the log.
    expect(logger.lines.join('\n')).not.toContain('alert-pw-9f3');
  }, 60_000);

  it('refuses a server whose certificate the configured CA did not sign, with a clear reason', async () => {
    const wrong = channelFor(server, { ca: server.certs!.otherCa }, recordingSink());
    cleanups.push(() => wrong.channel.stop());
    await expect(wrong.channel.start()).rejects.toThrow(/^TLS: the certificate of 127\.0\.0\.1:\d+ is not trusted for alerts\.test \(\w+: .*\); the CA in channels\.xmpp\.ca did not sign it$/);
    // Without a CA the system store does not know the test CA either.
    const none = channelFor(server, { ca: undefined }, recordingSink());
    await expect(none.channel.start()).rejects.toThrow(/not trusted for alerts\.test .*set channels\.xmpp\.ca to the CA that signed it/);
    expect(none.channel.health().healthy).toBe(false);
    // A lab switch turns verification off.
    const lab = channelFor(server, { ca: undefined, tlsRejectUnauthorized: false }, recordingSink());
    cleanups.push(() => lab.channel.stop());
    await lab.channel.start();
    expect(lab.channel.health().healthy).toBe(true);
    expect(lab.logger.lines.join('\n')).toMatch(/xmpp\.tls_unverified/);
  }, 30_000);

  it('a wrong password is a clear, permanent start error', async () => {
    const { channel } = channelFor(server, { password: 'nope' }, recordingSink());
    await expect(channel.start()).rejects.toThrow(`login as alertline@${DOMAIN} refused by the server: not-authorized (check channels.xmpp.jid and password)`);
  }, 30_000);
});

describe('xmpp channel with stream management (XEP-0198)', () => {
  let server: Prosody;
  beforeAll(async () => {
    server = await Prosody.create({ smacks: true, accounts: { alertline: 'alert-pw-9f3', ana: 'ana-pw' } });
  }, 30_000);
  afterAll(async () => { await server?.close(); });

  it('counts a page delivered once the server acknowledged the stanza', async () => {
    const { channel } = channelFor(server, {}, recordingSink());
    cleanups.push(() => channel.stop());
    await channel.start();
    // Stream management is enabled just after the session is bound.
    await waitFor(() => channel.status()?.streamManagement, 10_000);
    const ana = await Person.login(server, 'ana', 'ana-pw');
    cleanups.push(() => ana.logout());
    const out = await channel.deliver(job(ANA, { id: 45 }), new AbortController().signal);
    expect(out).toMatchObject({ kind: 'delivered', reason: `accepted by 127.0.0.1 for ${ANA}`, detail: { serverAck: true } });
    await waitFor(() => ana.bodies().some((b) => b.startsWith('PROBLEM #45 ')), 10_000);
  }, 30_000);
});

describe('xmpp channel and a person who is offline', () => {
  let server: Prosody;
  beforeAll(async () => {
    server = await Prosody.create({ smacks: true, offline: false, accounts: { alertline: 'alert-pw-9f3', ana: 'ana-pw' } });
  }, 30_000);
  afterAll(async () => { await server?.close(); });

  it('on a server that keeps nothing for offline users the page comes back: the attempt fails now, and no stale page waits', async () => {
    const { channel, logger } = channelFor(server, {}, recordingSink());
    cleanups.push(() => channel.stop());
    await channel.start();
    await waitFor(() => channel.status()?.streamManagement, 10_000);
    const out = await channel.deliver(job(ANA, { id: 46 }), new AbortController().signal);
    expect(out).toMatchObject({ kind: 'failed', retryable: false, reason: `the server returned the page for ${ANA}: service-unavailable (offline, and the server keeps no messages)` });
    expect(logger.lines.join('\n')).toMatch(/xmpp\.bounced .*condition=service-unavailable/);
    const ana = await Person.login(server, 'ana', 'ana-pw');
    cleanups.push(() => ana.logout());
    const later = await channel.deliver(job(ANA, { id: 47 }), new AbortController().signal);
    expect(later.kind, later.reason).toBe('delivered');
    await waitFor(() => ana.bodies().length > 0, 10_000);
    expect(ana.bodies().map((b) => b.split(' ')[1])).toEqual(['#47']); // #46 never shows up
  }, 30_000);
});
