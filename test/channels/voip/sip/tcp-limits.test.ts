/**
 * Issue 19 item 8 over real TCP on loopback: idle connections from a stranger can no longer lock
 * everyone out of the SIP port. Connections from one address are capped, connections that send
 * nothing (or stop sending) are closed, and a client from another address is answered meanwhile.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/util/clock.js';
import { memoryLogger } from '../../../../src/util/log.js';
import { DEFAULT_TCP_LIMITS, TcpTransport } from '../../../../src/channels/voip/sip/transport/tcp-transport.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';
import { until } from './udp-peers.js';

let cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const options = (port: number, n: number) =>
  `OPTIONS sip:200@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:${port};branch=z9hG4bKtcp${n}\r\n` +
  `From: <sip:probe@127.0.0.1>;tag=t${n}\r\nTo: <sip:200@127.0.0.1>\r\nCall-ID: tcp${n}\r\nCSeq: ${n} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;

async function listener(limits: Partial<typeof DEFAULT_TCP_LIMITS>) {
  const logger = memoryLogger();
  const t = await TcpTransport.open({ address: '127.0.0.1', port: 0, logger, limits });
  cleanup.push(() => t.close());
  const ua = new SipUserAgent({ transport: t, clock: systemClock, logger, username: '200', domain: 'pbx', password: 'x', outboundProxy: { address: '127.0.0.1', port: 9 } });
  cleanup.push(() => ua.close());
  return t;
}

interface Client {
  sock: net.Socket;
  closed: boolean;
  data: string;
}

async function connect(port: number, localAddress = '127.0.0.1'): Promise<Client> {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress });
  const c: Client = { sock, closed: false, data: '' };
  sock.on('error', () => {});
  sock.on('close', () => (c.closed = true));
  sock.on('data', (d) => (c.data += d.toString('latin1')));
  cleanup.push(() => void sock.destroy());
  await new Promise<void>((resolve) => {
    sock.once('connect', () => resolve());
    sock.once('close', () => resolve());
  });
  return c;
}

async function askOptions(c: Client, n: number): Promise<string> {
  c.sock.write(options(c.sock.localPort!, n));
  await until(() => c.data.includes('\r\n\r\n') || c.closed);
  return c.data.split('\r\n')[0]!;
}

describe('TCP listener limits', () => {
  it('64 idle connections from one address: the excess is refused, another address is answered, idle ones are closed, then the first address is served again', async () => {
    // The deadline leaves the first phase (64 connects, one OPTIONS from elsewhere) ample time even on a loaded machine.
    const t = await listener({ firstMessageMs: 3000, idleMs: 300 });
    const port = t.local.port;
    const idle: Client[] = [];
    for (let i = 0; i < 64; i++) idle.push(await connect(port));
    await until(() => idle.filter((c) => c.closed).length >= 64 - DEFAULT_TCP_LIMITS.maxPerAddress);
    expect(t.inboundCount).toBe(DEFAULT_TCP_LIMITS.maxPerAddress);

    // A client from another address is answered while the idle ones are still open.
    const other = await connect(port, '127.0.0.2');
    expect(await askOptions(other, 1)).toBe('SIP/2.0 200 OK');
    expect(idle.filter((c) => !c.closed).length).toBe(DEFAULT_TCP_LIMITS.maxPerAddress);

    // The ones that never sent a message are closed by the listener.
    await until(() => idle.every((c) => c.closed));
    const again = await connect(port);
    expect(await askOptions(again, 2)).toBe('SIP/2.0 200 OK');
    // and a connection that goes quiet after its message is closed too
    await until(() => again.closed && other.closed);
    expect(t.inboundCount).toBe(0);
  });

  it('a slow drip that never completes a message is closed at the first-message deadline', async () => {
    const t = await listener({ firstMessageMs: 300 });
    const c = await connect(t.local.port);
    const text = options(c.sock.localPort!, 3);
    let i = 0;
    const drip = setInterval(() => {
      if (!c.closed && i < text.length - 10) c.sock.write(text[i++]!);
    }, 20);
    cleanup.push(() => clearInterval(drip));
    await until(() => c.closed);
    expect(c.data).toBe('');
    expect(t.inboundCount).toBe(0);
  });

  it('a message declaring a body beyond 64 KB is refused and its connection closed before the body is buffered', async () => {
    const t = await listener({});
    const c = await connect(t.local.port);
    c.sock.write(options(c.sock.localPort!, 4).replace('Content-Length: 0', 'Content-Length: 900000'));
    await until(() => c.closed);
    expect(c.data).toBe('');
  });
});
