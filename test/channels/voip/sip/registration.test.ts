/**
 * Registration behaviour sipp can't easily script (423 + Min-Expires, stale nonce, failure and
 * backoff, Expires header fallback), against a small registrar on a real loopback UDP socket,
 * with the refresh/backoff timers on an injected clock.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/util/clock.js';
import { silentLogger } from '../../../../src/util/log.js';
import { parseAuthParams } from '../../../../src/channels/voip/sip/auth/digest.js';
import { Headers, callIdOf, cseqOf, type SipRequest, type SipResponse } from '../../../../src/channels/voip/sip/syntax/message.js';
import { parseMessage } from '../../../../src/channels/voip/sip/syntax/parse.js';
import { serializeMessage } from '../../../../src/channels/voip/sip/syntax/serialize.js';
import { UdpTransport } from '../../../../src/channels/voip/sip/transport/udp-transport.js';
import { Registration } from '../../../../src/channels/voip/sip/ua/registration.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';

type Reply = { status: number; reason: string; headers?: [string, string][]; via?: (v: string) => string };

async function registrar(script: Array<(req: SipRequest) => Reply>) {
  const sock = dgram.createSocket('udp4');
  const seen: SipRequest[] = [];
  sock.on('message', (data, rinfo) => {
    const req = parseMessage(data) as SipRequest;
    seen.push(req);
    const step = script[seen.length - 1];
    if (!step) return;
    const r = step(req);
    const h = new Headers();
    for (const v of req.headers.getAll('Via')) h.add('Via', r.via ? r.via(v) : v);
    h.add('From', req.headers.get('From')!).add('To', `${req.headers.get('To')!};tag=reg`);
    h.add('Call-ID', req.headers.get('Call-ID')!).add('CSeq', req.headers.get('CSeq')!);
    for (const [n, v] of r.headers ?? []) h.add(n, v);
    const res: SipResponse = { type: 'response', status: r.status, reason: r.reason, headers: h, body: Buffer.alloc(0) };
    sock.send(serializeMessage(res), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, seen, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

let cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const until = async (cond: () => boolean) => {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Registration', () => {
  it('423 → Min-Expires, 401 + stale nonce, refresh failure → failed + retry with backoff; one Call-ID, CSeq always increasing', async () => {
    const challenge = (nonce: string, stale = false): Reply => ({
      status: 401, reason: 'Unauthorized',
      headers: [['WWW-Authenticate', `Digest realm="r", nonce="${nonce}", qop="auth"${stale ? ', stale=true' : ''}`]],
    });
    const reg = await registrar([
      () => ({ status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', '120']] }),
      () => challenge('n1'),
      () => challenge('n2', true),
      () => ({ status: 200, reason: 'OK', headers: [['Expires', '120']] }),
      () => ({ status: 403, reason: 'Forbidden' }),
      () => challenge('n3'),
      (req) => ({ status: 200, reason: 'OK', headers: [['Contact', `${req.headers.get('Contact')!};expires=90`]] }),
    ]);
    cleanup.push(reg.close);
    const clock = new ManualClock(0);
    const transport = await UdpTransport.open({ address: '127.0.0.1', port: 0, logger: silentLogger });
    cleanup.push(() => transport.close());
    const ua = new SipUserAgent({ transport, clock, logger: silentLogger, username: '200', domain: 'pbx.test', password: 'pw', outboundProxy: { address: '127.0.0.1', port: reg.port } });
    cleanup.push(() => ua.close());
    const registration = new Registration(ua, { expires: 60, registrar: { address: '127.0.0.1', port: reg.port } });

    await registration.start();
    expect(registration.status()).toMatchObject({ state: 'registered', grantedExpires: 120, expiresAt: 120_000 });
    expect(reg.seen.map((r) => r.headers.get('Expires'))).toEqual(['60', '120', '120', '120']);
    const auth = (i: number) => parseAuthParams(reg.seen[i]!.headers.get('Authorization')!.slice(7));
    expect(reg.seen[1]!.headers.get('Authorization')).toBeUndefined();
    expect(auth(2).get('nonce')).toBe('n1');
    expect(auth(3).get('nonce')).toBe('n2'); // stale=true: retried with the new nonce, not a failure

    clock.advance(59_999);
    expect(reg.seen.length).toBe(4);
    clock.advance(1); // half of 120 s: refresh
    await until(() => registration.status().state === 'failed');
    expect(registration.status()).toMatchObject({ state: 'failed', reason: '403 Forbidden', failures: 1 });
    clock.advance(5000); // first backoff step
    await until(() => registration.status().state === 'registered');
    expect(registration.status()).toMatchObject({ grantedExpires: 90, failures: 0 });

    expect(new Set(reg.seen.map((r) => callIdOf(r))).size).toBe(1);
    expect(reg.seen.map((r) => cseqOf(r).seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(reg.seen.map((r) => r.headers.get('Via'))).size).toBe(7); // each a new transaction
  });

  it('learns its public address from received/rport and re-registers with that Contact', async () => {
    // The registrar sees us at another port (as through NAT) and says so in received/rport.
    const natted = (v: string) => v.replace(/;rport\b/, ';received=127.0.0.1;rport=40000');
    const reg = await registrar([
      () => ({ status: 200, reason: 'OK', headers: [['Expires', '300']], via: natted }),
      () => ({ status: 200, reason: 'OK', headers: [['Expires', '300']], via: natted }),
    ]);
    cleanup.push(reg.close);
    const clock = new ManualClock(0);
    const transport = await UdpTransport.open({ address: '127.0.0.1', port: 0, logger: silentLogger });
    cleanup.push(() => transport.close());
    const ua = new SipUserAgent({ transport, clock, logger: silentLogger, username: '200', domain: 'pbx.test', password: '', outboundProxy: { address: '127.0.0.1', port: reg.port } });
    cleanup.push(() => ua.close());
    const registration = new Registration(ua, { expires: 300, registrar: { address: '127.0.0.1', port: reg.port } });
    await registration.start();
    expect(reg.seen.length).toBe(2);
    expect(reg.seen[1]!.headers.get('Contact')).toBe('<sip:200@127.0.0.1:40000>');
    expect(registration.status()).toMatchObject({ state: 'registered', contact: 'sip:200@127.0.0.1:40000' });
  });
});
