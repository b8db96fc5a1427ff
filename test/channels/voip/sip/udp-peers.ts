/**
 * Small real peers on loopback UDP for the hardening tests: a scripted registrar and a plain
 * socket that records what reaches it.
 */
import dgram from 'node:dgram';
import { Headers, type SipRequest, type SipResponse } from '../../../../src/channels/voip/sip/syntax/message.js';
import { parseMessage } from '../../../../src/channels/voip/sip/syntax/parse.js';
import { serializeMessage } from '../../../../src/channels/voip/sip/syntax/serialize.js';

export type Reply = { status: number; reason: string; headers?: [string, string][] };

/** A registrar on 127.0.0.1 answering each REGISTER with `answer(req)`. */
export async function registrar(answer: (req: SipRequest, n: number) => Reply | undefined) {
  const sock = dgram.createSocket('udp4');
  const seen: SipRequest[] = [];
  sock.on('message', (data, rinfo) => {
    const req = parseMessage(data) as SipRequest;
    seen.push(req);
    const r = answer(req, seen.length);
    if (!r) return;
    const h = new Headers();
    for (const v of req.headers.getAll('Via')) h.add('Via', v);
    h.add('From', req.headers.get('From')!).add('To', `${req.headers.get('To')!};tag=reg`);
    h.add('Call-ID', req.headers.get('Call-ID')!).add('CSeq', req.headers.get('CSeq')!);
    for (const [n, v] of r.headers ?? []) h.add(n, v);
    const res: SipResponse = { type: 'response', status: r.status, reason: r.reason, headers: h, body: Buffer.alloc(0) };
    sock.send(serializeMessage(res), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, seen, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

/** A UDP socket bound to address:port (0 = any) that keeps every datagram it receives. */
export async function udpPeer(address = '127.0.0.1', port = 0) {
  const sock = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  const parsed: SipResponse[] = [];
  sock.on('message', (m) => {
    received.push(m);
    try {
      parsed.push(parseMessage(m) as SipResponse);
    } catch {
      // kept in `received` only
    }
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, address, () => resolve());
  });
  return {
    address,
    port: sock.address().port,
    received,
    /** Every datagram that parsed as a SIP message, in arrival order. */
    responses: (): readonly SipResponse[] => parsed,
    send: (data: string | Buffer, toPort: number, toAddress = '127.0.0.1') =>
      new Promise<void>((resolve, reject) => sock.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, toPort, toAddress, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

export const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Lets the event loop run for ms (to see that something does NOT happen, e.g. a REGISTER storm). */
export const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
