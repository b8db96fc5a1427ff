/**
 * SIP over TLS and SRTP against real peers on loopback: Kamailio (tls module) as registrar and
 * proxy with a certificate from a CA made for the test, baresip registered to it over TLS as
 * the called phone (srtp module, mediaenc=srtp-mand). Alertline registers over TLS, verifies
 * Kamailio's certificate and name, and calls baresip through Kamailio with SRTP required.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { sipmsgSchema } from '../../../../src/config/schema.js';
import { SipMessageChannel } from '../../../../src/channels/sipmsg/sipmsg-channel.js';
import { SipLine } from '../../../../src/channels/voip/sip-line.js';
import { rmSync } from 'node:fs';
import type { InboundSink, Sender } from '../../../../src/channels/channel.js';
import { freePort, job, makeChannel } from '../sipp/helpers.js';
import { scenarioCopy, sippClient } from '../../sipmsg/sipp.js';
import { audible, wavSamples } from '../srtp/baresip.js';
import { startTlsPhone, type TlsPhone } from './baresip-tls.js';
import { PASSWORD, startKamailio, type Kamailio } from './kamailio.js';
import { makePki, type Pki } from './pki.js';

const DOMAIN = 'sip.alertline.test';
const resolver = async (host: string) => {
  if (host === DOMAIN || host === 'other.alertline.test' || host === '127.0.0.1') return '127.0.0.1';
  throw new Error(`test resolver: unknown host ${host}`);
};

/** Kamailio logs from several processes: its lines reach us a little after the answers do. */
async function logged(re: RegExp): Promise<string> {
  for (let i = 0; i < 40 && !re.test(kam.output()); i++) await new Promise((r) => setTimeout(r, 50));
  return kam.output();
}

let pki: Pki;
let kam: Kamailio;
let cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  pki = makePki(DOMAIN);
  kam = await startKamailio(pki, DOMAIN);
});
afterAll(async () => {
  await kam?.stop();
  pki?.cleanup();
});
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

function tlsChannel(over: Record<string, unknown> = {}, extra: { seconds?: number; line?: SipLine; keepAliveMs?: number } = {}) {
  const made = makeChannel(
    0,
    {
      server: `${DOMAIN}:${kam.port}`,
      transport: 'tls',
      tls: { ca: pki.ca },
      domain: DOMAIN,
      username: 'alertline',
      password: PASSWORD,
      register: true,
      registerExpires: '300s',
      srtp: 'required',
      ...over,
    },
    { seconds: extra.seconds ?? 2.5, repeat: 1, resolver, ...(extra.line ? { line: extra.line } : {}), ...(extra.keepAliveMs !== undefined ? { keepAliveMs: extra.keepAliveMs } : {}) },
  );
  onTestFailed(() => {
    console.log(made.logger.lines.join('\n'));
    console.log(kam.output().slice(-8000));
  });
  return made;
}

async function phone(): Promise<TlsPhone> {
  const p = await startTlsPhone({ user: 'bob', password: PASSWORD, domain: DOMAIN, registrarPort: kam.port, ca: pki.ca, mediaenc: 'srtp-mand' });
  cleanup.push(() => p.stop());
  onTestFailed(() => console.log(p.output().slice(-6000)));
  await p.registered();
  return p;
}

describe('SIP over TLS through Kamailio, SRTP to baresip', () => {
  it('registers over TLS with the certificate verified, calls baresip through Kamailio with SRTP: it hears the prompt, and key 1 acknowledges', async () => {
    const bob = await phone();
    // keep-alive pings (double CRLF) every 200 ms interleave with the SIP on the connection
    const { channel, logger } = tlsChannel({}, { keepAliveMs: 200 });
    await channel.start();
    cleanup.push(() => channel.stop());
    const st = channel.status();
    expect(st.registration.state).toBe('registered');
    expect(st.local).toMatch(/^sip:alertline@127\.0\.0\.1:\d+;transport=tls$/);
    expect(logger.lines.join('\n')).toMatch(/sip\.tls\.connected.*sip\.alertline\.test.*verified=true/);
    expect(await logged(/REQ REGISTER sip:sip\.alertline\.test from/)).toMatch(/REQ REGISTER sip:sip\.alertline\.test from 127\.0\.0\.1:\d+ \(tls\)/);

    void bob.established().then(() => setTimeout(() => bob.sendDigit('1'), 1800));
    const out = await channel.deliver(job('bob'), new AbortController().signal);
    expect(out.kind).toBe('acknowledged');
    expect(out.detail?.srtp).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(await logged(/REQ INVITE/)).toMatch(/REQ INVITE sip:bob@sip\.alertline\.test from 127\.0\.0\.1:\d+ \(tls\)/);
    expect(bob.output()).toContain('SRTP is Enabled');
    // what baresip decrypted and decoded is our 440 Hz prompt
    const wavs = await bob.decodedWavs();
    expect(wavs.length).toBeGreaterThanOrEqual(1);
    const heard = audible(wavSamples(wavs[0]!));
    expect(heard.seconds).toBeGreaterThan(1.2);
    expect(heard.hz).toBeGreaterThan(400);
    expect(heard.hz).toBeLessThan(480);
    // one TLS connection carried REGISTER (challenged and answered), INVITE and the in-dialog requests
    const kl = await logged(/REQ BYE/);
    const ports = new Set([...kl.matchAll(/REQ (?:REGISTER sip:sip\.alertline\.test|INVITE sip:bob|ACK|BYE) [^\n]* from 127\.0\.0\.1:(\d+) \(tls\)/g)].map((m) => m[1]));
    const bobPorts = new Set([...kl.matchAll(/REQ REGISTER sip:sip\.alertline\.test;transport=tls from 127\.0\.0\.1:(\d+)/g)].map((m) => m[1]));
    for (const p of bobPorts) ports.delete(p);
    expect([...ports]).toEqual([st.local!.replace(/.*:(\d+);transport=tls$/, '$1')]);
    expect(logger.lines.filter((l) => l.includes('sip.tls.connected'))).toHaveLength(1);
    // keys never in the log: the SDP is there, masked; no password, no key material
    const log = logger.lines.join('\n');
    expect(log).toContain('inline:***');
    expect(log).not.toMatch(/inline:[A-Za-z0-9+/]{40}/);
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain('PRIVATE KEY');
  });

  it('the phone hangs up mid-message: its BYE reaches us through Kamailio over our TLS connection, 200, the call ends', async () => {
    const bob = await phone();
    const { channel } = tlsChannel({}, { seconds: 6 });
    await channel.start();
    cleanup.push(() => channel.stop());
    void bob.established().then(() => setTimeout(() => bob.hangup(), 800));
    const out = await channel.deliver(job('bob'), new AbortController().signal);
    expect(out).toMatchObject({ kind: 'answered', reason: 'far end hung up' });
    expect(await logged(/REQ BYE sip:alertline@127\.0\.0\.1/)).toMatch(/REQ BYE sip:alertline@127\.0\.0\.1:\d+;transport=tls from 127\.0\.0\.1:\d+ \(tls\)/);
  });

  it('a CA that did not sign Kamailio\'s certificate: registration refused, the error names the server and the verification failure', async () => {
    const ours = /REQ REGISTER sip:sip\.alertline\.test from/g;
    const before = (kam.output().match(ours) ?? []).length;
    const { channel } = tlsChannel({ tls: { ca: pki.wrongCa } });
    await channel.start();
    cleanup.push(() => channel.stop());
    const st = channel.status();
    expect(st.registration.state).toBe('failed');
    const reason = (st.registration as { reason: string }).reason;
    expect(reason).toContain(`sip.alertline.test (127.0.0.1:${kam.port})`);
    expect(reason).toMatch(/server certificate not accepted: .*\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
    expect(channel.health().healthy).toBe(false);
    // nothing was sent to a server we could not authenticate
    await new Promise((r) => setTimeout(r, 300));
    expect((kam.output().match(ours) ?? []).length).toBe(before);
  });

  it('the right CA but another name than the certificate\'s: refused (the name is checked, not just the chain)', async () => {
    const { channel } = tlsChannel({ server: `other.alertline.test:${'PORT'}`.replace('PORT', String(kam.port)) });
    await channel.start();
    cleanup.push(() => channel.stop());
    const st = channel.status();
    expect(st.registration.state).toBe('failed');
    const reason = (st.registration as { reason: string }).reason;
    expect(reason).toContain('other.alertline.test');
    expect(reason).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('sipmsg: the alert text as MESSAGE over the same TLS registration reaches baresip through Kamailio; 200 = delivered', async () => {
    const bob = await phone();
    const line = new SipLine();
    const { channel, logger } = tlsChannel({}, { line });
    await channel.start();
    cleanup.push(() => channel.stop());
    const sipmsg = new SipMessageChannel({ config: sipmsgSchema.parse({ enabled: true }), line, logger });
    await sipmsg.start();
    cleanup.push(() => sipmsg.stop());
    expect(sipmsg.health()).toEqual({ healthy: true, detail: `through ${DOMAIN}:${kam.port}` });
    const j = { ...job('bob'), address: 'bob' };
    const out = await sipmsg.deliver(j, new AbortController().signal);
    expect(out).toMatchObject({ kind: 'delivered', detail: { status: 200, target: 'sip:bob@sip.alertline.test' } });
    expect(await logged(/REQ MESSAGE sip:bob@sip\.alertline\.test from 127\.0\.0\.1:\d+ \(tls\)/)).toMatch(/REQ MESSAGE sip:bob@sip\.alertline\.test from 127\.0\.0\.1:\d+ \(tls\)/);
    for (let i = 0; i < 40 && !bob.screen().includes('Reply 1 to ack'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(bob.screen()).toContain('PROBLEM #7');
    expect(bob.screen()).toContain('Reply 1 to ack');
  });

  it('sipmsg: a reply MESSAGE from the phone reaches us through Kamailio over our TLS connection → 200 and read as {sip}', async () => {
    const line = new SipLine();
    const { channel, logger } = tlsChannel({}, { line });
    await channel.start();
    cleanup.push(() => channel.stop());
    const got: { from: Sender; text: string }[] = [];
    const inbound: InboundSink = { message: async (from, text) => (got.push({ from, text: text.trim() }), null), callBack: async () => null };
    const sipmsg = new SipMessageChannel({ config: sipmsgSchema.parse({ enabled: true }), line, logger, inbound });
    await sipmsg.start();
    cleanup.push(() => sipmsg.stop());
    // the phone (sipp, which has no TLS here) writes to Kamailio over UDP; Kamailio finds our
    // binding and relays over the TLS connection we registered on
    const dir = scenarioCopy('message-send.xml', { from: 'sip:bob@sip.alertline.test', to: 'sip:alertline@sip.alertline.test', text: 'ack 7', ctype: 'text/plain' });
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const run = await sippClient('message-send.xml', { target: `127.0.0.1:${kam.udpPort}`, port: await freePort(), dir });
    onTestFailed(() => console.log(run.output));
    expect(run.code).toBe(0);
    expect(got).toEqual([{ from: { sip: 'sip:bob@sip.alertline.test' }, text: 'ack 7' }]);
    expect(await logged(/REQ MESSAGE sip:alertline@/)).toMatch(/REQ MESSAGE sip:alertline@sip\.alertline\.test from 127\.0\.0\.1:\d+ \(udp\)/);
  });

  it('Kamailio restarted (its connections and bindings gone): Alertline registers again at once over a new TLS connection', async () => {
    const { channel, logger } = tlsChannel();
    await channel.start();
    cleanup.push(() => channel.stop());
    const first = channel.status().local;
    expect(channel.status().registration.state).toBe('registered');
    const port = kam.port;
    await kam.stop();
    kam = await startKamailio(pki, DOMAIN, { port });
    for (let i = 0; i < 100 && !(channel.status().registration.state === 'registered' && channel.status().local !== first); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const st = channel.status();
    expect(st.registration.state).toBe('registered');
    expect(st.local).not.toBe(first);
    expect(logger.lines.join('\n')).toContain('sip.register.flow_lost');
    expect(logger.lines.filter((l) => l.includes('sip.tls.connected'))).toHaveLength(2);
    expect(await logged(/REQ REGISTER sip:sip\.alertline\.test from/)).toMatch(/REQ REGISTER sip:sip\.alertline\.test from 127\.0\.0\.1:\d+ \(tls\)/);
  });
});

describe('mutual TLS and verification off', () => {
  let strict: Kamailio;
  beforeAll(async () => {
    strict = await startKamailio(pki, DOMAIN, { requireClientCert: true });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('a registrar that requires a client certificate: registered with voip.tls.cert/key, refused without', async () => {
    const withCert = tlsChannel({ server: `${DOMAIN}:${strict.port}`, tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    await withCert.channel.start();
    cleanup.push(() => withCert.channel.stop());
    expect(withCert.channel.status().registration.state).toBe('registered');
    expect(withCert.logger.lines.join('\n')).not.toContain('PRIVATE KEY');

    const without = tlsChannel({ server: `${DOMAIN}:${strict.port}`, tls: { ca: pki.ca }, registerExpires: '300s' });
    await without.channel.start();
    cleanup.push(() => without.channel.stop());
    const st = without.channel.status();
    expect(st.registration.state).toBe('failed');
    const reason = (st.registration as { reason: string }).reason;
    expect(reason).toContain(`transport error: TLS connection to sip.alertline.test (127.0.0.1:${strict.port}) lost: `);
    expect(reason).toMatch(/certificate required/i);
    // (told when the registrar dropped the connection: waiting for Timer F, 32 s, would outlast this test's 30 s)
  });

  it('rejectUnauthorized false with the wrong CA: registers, and says so in the log at every connection', async () => {
    const { channel, logger } = tlsChannel({ tls: { ca: pki.wrongCa, rejectUnauthorized: false } });
    await channel.start();
    cleanup.push(() => channel.stop());
    expect(channel.status().registration.state).toBe('registered');
    const log = logger.lines.join('\n');
    expect(log).toMatch(/warn sip\.tls\.verification_off/);
    expect(log).toMatch(/warn sip\.tls\.unverified .*peer="?sip\.alertline\.test/);
    expect(log).toMatch(/sip\.tls\.connected .*verified=false/);
  });
});
