/**
 * A server that offers no STARTTLS and would take PLAIN in clear: the channel refuses before any
 * authentication. A loopback relay between the channel and Prosody records every byte the
 * channel sends, so the test sees that no <auth/> and no form of the password left the process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import { Prosody, DOMAIN } from './prosody.js';
import { channelFor, recordingSink } from './helpers.js';

describe('xmpp channel and a server without TLS', () => {
  let server: Prosody;
  let relay: Server;
  let relayPort = 0;
  let sent = '';
  beforeAll(async () => {
    server = await Prosody.create({ tls: false, accounts: { alertline: 'alert-pw-9f3' } });
    relay = createServer((client) => {
      const up = connect(server.port, '127.0.0.1');
      client.on('data', (d) => { sent += d.toString('latin1'); });
      client.pipe(up).pipe(client);
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    relayPort = (relay.address() as { port: number }).port;
  }, 30_000);
  afterAll(async () => {
    await new Promise((r) => relay?.close(r));
    await server?.close();
  });

  it('refuses to log in, names the reason, and never sends the password', async () => {
    const { channel } = channelFor({ port: relayPort, certs: null } as unknown as Prosody, {}, recordingSink());
    await expect(channel.start()).rejects.toThrow(`127.0.0.1:${relayPort} offers no STARTTLS: Alertline never logs in without TLS`);
    expect(channel.health()).toEqual({ healthy: false, detail: 'not started' });
    expect(sent).toMatch(new RegExp(`<stream:stream [^>]*to=["']${DOMAIN}["']`)); // it did talk to the server
    expect(sent).not.toMatch(/<auth\b/);
    expect(sent).not.toContain('alert-pw-9f3');
    expect(sent).not.toContain(Buffer.from('\0alertline\0alert-pw-9f3').toString('base64'));
    // The server itself would have accepted PLAIN in clear: the refusal is the channel's.
    expect(server.output).not.toMatch(/Authenticated as/);
  }, 30_000);
});
