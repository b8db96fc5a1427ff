/** UDP and TCP transports on loopback: hostile bytes are dropped, valid requests still answered. */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/util/clock.js';
import { memoryLogger } from '../../../../src/util/log.js';
import { parseMessage } from '../../../../src/channels/voip/sip/syntax/parse.js';
import { StreamFramer } from '../../../../src/channels/voip/sip/syntax/stream-framer.js';
import type { SipResponse } from '../../../../src/channels/voip/sip/syntax/message.js';
import { TcpTransport } from '../../../../src/channels/voip/sip/transport/tcp-transport.js';
import { UdpTransport } from '../../../../src/channels/voip/sip/transport/udp-transport.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';

let cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const options = (transport: string, port: number, n: number) =>
  `OPTIONS sip:200@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bKopt${n};rport\r\n` +
  `From: <sip:probe@127.0.0.1>;tag=p${n}\r\nTo: <sip:200@127.0.0.1>\r\nCall-ID: probe${n}\r\nCSeq: ${n} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;

const GARBAGE = [
  Buffer.from([0, 1, 2, 3, 255, 254]),
  Buffer.from('INVITE sip:x SIP/2.0\r\nContent-Length: 5\r\n\r\n'),
  Buffer.from('SIP/2.0 200 OK\r\n\r\n'),
  Buffer.from('\r\n\r\n'),
  Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 99999999999 OPTIONS\r\n\r\n'),
];

function ua(transport: UdpTransport | TcpTransport) {
  const logger = memoryLogger();
  const agent = new SipUserAgent({ transport, clock: systemClock, logger, username: '200', domain: 'pbx', password: 'x', outboundProxy: { address: '127.0.0.1', port: 9 } });
  cleanup.push(() => agent.close());
  return { agent, logger };
}

describe('UDP transport', () => {
  it('drops garbage with a log line, keeps answering', async () => {
    const t = await UdpTransport.open({ address: '127.0.0.1', port: 0, logger: memoryLogger() });
    cleanup.push(() => t.close());
    ua(t);
    const peer = dgram.createSocket('udp4');
    cleanup.push(() => new Promise<void>((r) => peer.close(() => r())));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const got: SipResponse[] = [];
    peer.on('message', (m) => got.push(parseMessage(m) as SipResponse));
    for (const g of GARBAGE) peer.send(g, t.local.port, '127.0.0.1');
    peer.send(options('UDP', peer.address().port, 1), t.local.port, '127.0.0.1');
    const end = Date.now() + 5000;
    while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(got.map((r) => r.status)).toEqual([200]);
  });
});

describe('TCP transport', () => {
  it('frames coalesced requests by Content-Length and answers each on the same connection', async () => {
    const t = await TcpTransport.open({ address: '127.0.0.1', port: 0, logger: memoryLogger() });
    cleanup.push(() => t.close());
    ua(t);
    const sock = net.connect(t.local.port, '127.0.0.1');
    cleanup.push(() => void sock.destroy());
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const framer = new StreamFramer();
    const got: SipResponse[] = [];
    sock.on('data', (d: Buffer) => got.push(...framer.push(d).map((f) => parseMessage(f, { stream: true }) as SipResponse)));
    const port = sock.localPort!;
    sock.write(options('TCP', port, 1) + options('TCP', port, 2).slice(0, 40));
    await new Promise((r) => setTimeout(r, 50));
    sock.write(options('TCP', port, 2).slice(40) + options('TCP', port, 3));
    const end = Date.now() + 5000;
    while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(got.map((r) => r.headers.get('CSeq'))).toEqual(['1 OPTIONS', '2 OPTIONS', '3 OPTIONS']);
  });

  it('a connection that sends an unframeable stream is closed; the listener keeps working', async () => {
    const t = await TcpTransport.open({ address: '127.0.0.1', port: 0, logger: memoryLogger() });
    cleanup.push(() => t.close());
    ua(t);
    const bad = net.connect(t.local.port, '127.0.0.1');
    cleanup.push(() => void bad.destroy());
    const closed = new Promise<void>((r) => bad.once('close', () => r()));
    bad.on('error', () => {});
    bad.write('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'); // no Content-Length
    await closed;
    const good = net.connect(t.local.port, '127.0.0.1');
    cleanup.push(() => void good.destroy());
    await new Promise<void>((r) => good.once('connect', () => r()));
    const reply = new Promise<string>((r) => good.once('data', (d) => r(d.toString())));
    good.write(options('TCP', good.localPort!, 9));
    expect(await reply).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });
});
