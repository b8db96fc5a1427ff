/**
 * Issue 19 items 1, 5 and 6 over real UDP on loopback: hostile datagrams from a stranger must not
 * stall the UA, grow its transaction table, or make it send packets to a third address.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/util/clock.js';
import { memoryLogger } from '../../../../src/util/log.js';
import { Headers, topVia, type SipRequest, type SipResponse } from '../../../../src/channels/voip/sip/syntax/message.js';
import type { Endpoint, MessageHandler, SipTransport } from '../../../../src/channels/voip/sip/transport/transport.js';
import { UdpTransport } from '../../../../src/channels/voip/sip/transport/udp-transport.js';
import { MAX_SERVER_TRANSACTIONS } from '../../../../src/channels/voip/sip/transaction/transaction-layer.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';
import { udpPeer, until } from './udp-peers.js';

let cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function agent(timers = {}) {
  const logger = memoryLogger();
  const transport = await UdpTransport.open({ address: '127.0.0.1', port: 0, logger });
  cleanup.push(() => transport.close());
  const ua = new SipUserAgent({ transport, clock: systemClock, logger, username: '200', domain: 'pbx', password: 'x', outboundProxy: { address: '127.0.0.1', port: 9 }, timers });
  cleanup.push(() => ua.close());
  return { ua, port: transport.local.port, logger };
}

function request(method: string, n: number, o: { via: string; from?: string }): string {
  return (
    `${method} sip:200@127.0.0.1 SIP/2.0\r\nVia: ${o.via}\r\n` +
    `From: ${o.from ?? `<sip:probe@127.0.0.1>;tag=p${n}`}\r\nTo: <sip:200@127.0.0.1>\r\nCall-ID: hostile${n}\r\n` +
    `CSeq: ${n} ${method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`
  );
}

const viaOf = (port: number, n: number) => `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKh${n};rport`;

/** Sends a good OPTIONS and waits for its 200 (UDP is handled in order: everything sent before it has been seen). */
async function ping(peer: Awaited<ReturnType<typeof udpPeer>>, uaPort: number, n: number): Promise<SipResponse> {
  await peer.send(request('OPTIONS', n, { via: viaOf(peer.port, n) }), uaPort);
  let found: SipResponse | undefined;
  let seen = 0;
  await until(() => {
    const all = peer.responses();
    for (; seen < all.length && !found; seen++) if (all[seen]!.headers.get('Call-ID') === `hostile${n}`) found = all[seen];
    return found !== undefined;
  });
  return found!;
}

describe('hostile datagrams', () => {
  it('a Via of 45 000 spaces is refused by the parser and the next OPTIONS is answered', async () => {
    const { port, logger } = await agent();
    const peer = await udpPeer();
    cleanup.push(peer.close);
    await peer.send(request('OPTIONS', 1, { via: `SIP/2.0/UDP a${' '.repeat(45_000)}b` }), port);
    expect((await ping(peer, port, 2)).status).toBe(200);
    expect(peer.received.length).toBe(1);
    expect(logger.lines.some((l) => l.includes('sip.udp.bad_message'))).toBe(true);
  });

  it('2 000 requests with a bare CR in the From display name: no transaction left behind, good OPTIONS still answered, log not flooded', async () => {
    const { ua, port, logger } = await agent();
    const peer = await udpPeer();
    cleanup.push(peer.close);
    let n = 0;
    for (let batch = 0; batch < 40; batch++) {
      for (let i = 0; i < 50; i++) {
        const k = ++n;
        const bad = request('OPTIONS', k, { via: viaOf(peer.port, k), from: `"evil\rname" <sip:x@127.0.0.1>;tag=e${k}` });
        await peer.send(bad, port);
        await peer.send(bad, port); // and its retransmission
      }
      expect((await ping(peer, port, 100_000 + batch)).status).toBe(200);
      expect(ua.transactionCounts().servers).toBeLessThanOrEqual(batch + 1); // only the pings
    }
    const answered = peer.responses().map((r) => r.headers.get('Call-ID'));
    expect(answered.every((c) => c!.startsWith('hostile1000'))).toBe(true);
    expect(answered.length).toBe(40);
    expect(logger.lines.filter((l) => l.includes('sip.udp.bad_message ')).length).toBeLessThanOrEqual(20);
  });

  it('a response that cannot be built (request bypassing the parser) is dropped and its transaction removed', async () => {
    class Loop implements SipTransport {
      readonly protocol = 'UDP' as const;
      readonly reliable = false;
      readonly local: Endpoint = { address: '127.0.0.1', port: 5099 };
      sent: Buffer[] = [];
      handler: MessageHandler = () => {};
      async send(data: Buffer): Promise<void> {
        this.sent.push(data);
      }
      onMessage(h: MessageHandler): void {
        this.handler = h;
      }
      async close(): Promise<void> {}
    }
    const t = new Loop();
    const logger = memoryLogger();
    const ua = new SipUserAgent({ transport: t, clock: systemClock, logger, username: '200', domain: 'pbx', password: 'x', outboundProxy: { address: '127.0.0.1', port: 9 } });
    cleanup.push(() => ua.close());
    for (const method of ['OPTIONS', 'INVITE', 'BYE', 'FOO']) {
      const h = new Headers()
        .add('Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK' + method)
        .add('From', '"a\rb" <sip:x@y>;tag=1')
        .add('To', '<sip:200@pbx>')
        .add('Call-ID', 'c' + method)
        .add('CSeq', `1 ${method}`);
      const req: SipRequest = { type: 'request', method, uri: 'sip:200@pbx', headers: h, body: Buffer.alloc(0) };
      t.handler(req, { address: '127.0.0.1', port: 5070 });
    }
    expect(t.sent.length).toBe(0);
    expect(ua.transactionCounts().servers).toBe(0);
    expect(logger.lines.filter((l) => l.includes('sip.response_unbuildable')).length).toBe(4);
  });

  it(`a flood of valid OPTIONS keeps the server transaction table at ${MAX_SERVER_TRANSACTIONS} at most, and answers the last one`, async () => {
    const { ua, port } = await agent();
    const peer = await udpPeer();
    cleanup.push(peer.close);
    let n = 0;
    let peak = 0;
    for (let batch = 0; batch < 60; batch++) {
      for (let i = 0; i < 40; i++) {
        const k = ++n;
        await peer.send(request('OPTIONS', k, { via: viaOf(peer.port, k) }), port);
      }
      expect((await ping(peer, port, 100_000 + batch)).status).toBe(200);
      peak = Math.max(peak, ua.transactionCounts().servers);
    }
    expect(peak).toBeLessThanOrEqual(MAX_SERVER_TRANSACTIONS);
    expect(peak).toBeGreaterThan(MAX_SERVER_TRANSACTIONS / 2); // the flood did reach the table
  });
});

describe('responses go where the packet came from (RFC 3261 §18.2.1, RFC 3581)', () => {
  async function victimAndAttacker() {
    const victim = await udpPeer('127.0.0.2');
    cleanup.push(victim.close);
    const attacker = await udpPeer('127.0.0.1', victim.port); // same port number, the sender's own address
    cleanup.push(attacker.close);
    return { victim, attacker };
  }

  it('received=/rport=/maddr= naming a third address are ignored: 200s and retransmitted 603s reach only the sender', async () => {
    const { port } = await agent({ T1: 40 });
    const { victim, attacker } = await victimAndAttacker();
    const P = victim.port;
    // with rport: to the source address and port
    await attacker.send(request('OPTIONS', 1, { via: `SIP/2.0/UDP 127.0.0.2:${P};branch=z9hG4bKr1;received=127.0.0.2;rport=${P}` }), port);
    // without rport: to the source address at the sent-by port
    await attacker.send(request('INVITE', 2, { via: `SIP/2.0/UDP 127.0.0.2:${P};branch=z9hG4bKr2;received=127.0.0.2;maddr=127.0.0.2` }), port);
    await attacker.send(request('NOTIFY', 3, { via: `SIP/2.0/UDP 127.0.0.2:${P};received=127.0.0.2;branch=z9hG4bKr3` }), port);
    // Timer G: the 603 is sent again at 40, 120, 280 ms... until an ACK that never comes.
    await until(() => victim.received.length > 0 || attacker.responses().filter((r) => r.status === 603).length >= 4);
    expect(victim.received.map((m) => m.toString('latin1').split('\r\n')[0])).toEqual([]);
    const statuses = attacker.responses().map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(2);
    for (const r of attacker.responses()) expect(topVia(r).params.get('received')).toBe('127.0.0.1');
    expect(topVia(attacker.responses().find((r) => r.headers.get('Call-ID') === 'hostile1')!).params.get('rport')).toBe(String(attacker.port));
    await ping(attacker, port, 9);
    expect(victim.received.length).toBe(0);
  });
});
