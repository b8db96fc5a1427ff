/**
 * The RFC 3261 §26 rules around SIP over TLS that need no peer: sips: Contact where §8.1.1.8
 * requires it, Via transport, default ports for sips: and transport=tls, sips: never sent in
 * clear, the voip.tls configuration and its file errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, voipSchema } from '../../../../src/config/schema.js';
import { insecureForSips } from '../../../../src/channels/voip/sip-target.js';
import { serializeMessage } from '../../../../src/channels/voip/sip/syntax/serialize.js';
import { loadTlsSettings, TlsTransport } from '../../../../src/channels/voip/sip/transport/tls-transport.js';
import { resolveServer, resolveUri } from '../../../../src/channels/voip/sip/ua/resolve.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';
import { systemClock } from '../../../../src/util/clock.js';
import { memoryLogger } from '../../../../src/util/log.js';
import { makePki } from './pki.js';

const pki = makePki('sip.alertline.test');
afterAll(() => pki.cleanup());

async function tlsUa() {
  const logger = memoryLogger();
  const transport = await TlsTransport.open({ address: '127.0.0.1', logger, tls: { rejectUnauthorized: true } });
  const ua = new SipUserAgent({ transport, clock: systemClock, logger, username: '200', domain: 'pbx.test', password: 'pw', outboundProxy: { address: '127.0.0.1', port: 5061 } });
  ua.learnPublicAddress({ address: '127.0.0.1', port: 40001 });
  return { ua, logger };
}

describe('Contact and Via over TLS (RFC 3261 §8.1.1.8, §26.2.2)', () => {
  it('a request to a sips: URI carries a sips: Contact; to a sip: URI, sip: with transport=tls; Via says TLS', async () => {
    const { ua } = await tlsUa();
    const base = { method: 'INVITE', from: ua.localParty('t'), callId: 'c', cseq: 1, contact: true } as const;
    const secure = serializeMessage(ua.buildRequest({ ...base, uri: 'sips:bob@pbx.test', to: '<sips:bob@pbx.test>' })).toString();
    expect(secure).toMatch(/\r\nContact: <sips:200@127\.0\.0\.1:40001>\r\n/);
    expect(secure).toMatch(/\r\nVia: SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=z9hG4bK/);
    const plain = serializeMessage(ua.buildRequest({ ...base, uri: 'sip:bob@pbx.test', to: '<sip:bob@pbx.test>' })).toString();
    expect(plain).toMatch(/\r\nContact: <sip:200@127\.0\.0\.1:40001;transport=tls>\r\n/);
    // the top Route decides too: a sips: proxy in the route set
    const routed = serializeMessage(ua.buildRequest({ ...base, uri: 'sip:bob@pbx.test', to: '<sip:bob@pbx.test>', routes: ['<sips:proxy.pbx.test;lr>'] })).toString();
    expect(routed).toMatch(/\r\nContact: <sips:200@127\.0\.0\.1:40001>\r\n/);
    ua.close();
  });

  it('a sips: address is refused on udp and tcp, allowed on tls; sip: addresses go anywhere', () => {
    expect(insecureForSips('sips:bob@pbx.test', 'udp')).toContain('needs voip.transport tls');
    expect(insecureForSips('SIPS:bob@pbx.test', 'tcp')).toContain('needs voip.transport tls');
    expect(insecureForSips('sips:bob@pbx.test', 'tls')).toBeNull();
    expect(insecureForSips('sip:bob@pbx.test', 'udp')).toBeNull();
  });
});

describe('where TLS goes (RFC 3261 §19.1.2, §26.2)', () => {
  const resolver = async (h: string) => (h === 'pbx.test' ? '192.0.2.5' : h);
  it('sips: and transport=tls default to 5061 and keep the name for certificate checks', async () => {
    expect(await resolveUri('sips:bob@pbx.test', resolver)).toEqual({ address: '192.0.2.5', port: 5061, host: 'pbx.test' });
    expect(await resolveUri('sip:pbx.test;transport=tls;lr', resolver)).toEqual({ address: '192.0.2.5', port: 5061, host: 'pbx.test' });
    expect(await resolveUri('sip:pbx.test;transport=TLS', resolver)).toMatchObject({ port: 5061 });
    expect(await resolveUri('sip:pbx.test;lr', resolver)).toMatchObject({ port: 5060 });
    expect(await resolveServer('pbx.test', resolver, 5061)).toEqual({ address: '192.0.2.5', port: 5061, host: 'pbx.test' });
    expect(await resolveServer('pbx.test:5071', resolver, 5061)).toMatchObject({ port: 5071 });
  });
});

describe('voip.tls configuration', () => {
  it('transport tls is accepted; verification is on unless turned off', () => {
    const v = voipSchema.parse({ transport: 'tls' });
    expect(v.transport).toBe('tls');
    expect(v.tls).toEqual({ rejectUnauthorized: true });
    expect(() => voipSchema.parse({ transport: 'tls', tls: { ca: '/x', verify: false } })).toThrow();
    expect(configSchema.parse({}).channels.sipmsg).toEqual({ enabled: false, retries: 3, retryBackoff: 10_000, acceptDirect: false });
  });

  it('file errors name the key and the path, never the contents; a cert needs its key', async () => {
    await expect(loadTlsSettings({ ca: '/nonexistent/ca.pem', rejectUnauthorized: true })).rejects.toThrow('voip.tls.ca: cannot read /nonexistent/ca.pem: ENOENT');
    await expect(loadTlsSettings({ cert: pki.serverCert, rejectUnauthorized: true })).rejects.toThrow(/both cert and key/);
    const s = await loadTlsSettings({ ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, rejectUnauthorized: true });
    expect(s.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(s.key?.toString()).toContain('PRIVATE KEY');
  });

  it('turning verification off is said in the log', async () => {
    const logger = memoryLogger();
    const t = await TlsTransport.open({ address: '0.0.0.0', logger, tls: { rejectUnauthorized: false } });
    expect(logger.lines.join('\n')).toMatch(/warn sip\.tls\.verification_off/);
    await t.close();
  });
});

describe('matching a MESSAGE sender to a user', () => {
  it('extension, user@host and URIs with scheme, port and parameters compare equal', async () => {
    const { sipAddressKey } = await import('../../../../src/channels/voip/sip-target.js');
    const key = 'bob@pbx.test';
    for (const a of ['bob', 'bob@PBX.test', 'sip:bob@pbx.test', 'sips:bob@pbx.test:5061;transport=tls']) expect(sipAddressKey(a, 'pbx.test'), a).toBe(key);
    expect(sipAddressKey('alice', 'pbx.test')).not.toBe(key);
    expect(sipAddressKey('bob\r\nVia: x', 'pbx.test')).toBeNull();
  });
});
