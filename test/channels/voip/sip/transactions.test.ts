/**
 * Transaction timers with an injected clock (RFC 3261 §17): the schedule is checked on a
 * transport that records what would go on the wire, so no test waits for real seconds.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/util/clock.js';
import { silentLogger } from '../../../../src/util/log.js';
import { parseMessage } from '../../../../src/channels/voip/sip/syntax/parse.js';
import { Headers, cseqOf, topVia, type SipMessage, type SipRequest, type SipResponse } from '../../../../src/channels/voip/sip/syntax/message.js';
import { serializeMessage } from '../../../../src/channels/voip/sip/syntax/serialize.js';
import { newBranch } from '../../../../src/channels/voip/sip/transaction/branch.js';
import { TransactionLayer } from '../../../../src/channels/voip/sip/transaction/transaction-layer.js';
import type { Endpoint, MessageHandler, SipTransport } from '../../../../src/channels/voip/sip/transport/transport.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';

class RecordingTransport implements SipTransport {
  readonly protocol;
  readonly reliable;
  readonly local: Endpoint = { address: '127.0.0.1', port: 5099 };
  sent: { at: number; msg: SipMessage; dest: Endpoint }[] = [];
  private handler: MessageHandler = () => {};
  constructor(private readonly clock: ManualClock, reliable = false) {
    this.reliable = reliable;
    this.protocol = reliable ? ('TCP' as const) : ('UDP' as const);
  }
  async send(data: Buffer, dest: Endpoint): Promise<void> {
    this.sent.push({ at: this.clock.now(), msg: parseMessage(data), dest });
  }
  onMessage(h: MessageHandler): void {
    this.handler = h;
  }
  deliver(msg: SipMessage, from: Endpoint = { address: '127.0.0.1', port: 5060 }): void {
    this.handler(parseMessage(serializeMessage(msg)), from);
  }
  async close(): Promise<void> {}
}

const PEER = { address: '127.0.0.1', port: 5060 };

function request(method: string, branch = newBranch()): SipRequest {
  const h = new Headers()
    .add('Via', `SIP/2.0/UDP 127.0.0.1:5099;branch=${branch};rport`)
    .add('From', '<sip:200@pbx>;tag=abc')
    .add('To', '<sip:201@pbx>')
    .add('Call-ID', 'call-1@127.0.0.1')
    .add('CSeq', `1 ${method}`)
    .add('Max-Forwards', '70');
  return { type: 'request', method, uri: 'sip:201@pbx', headers: h, body: Buffer.alloc(0) };
}

function responseTo(req: SipRequest, status: number, reason: string, toTag = 'xyz'): SipResponse {
  const h = new Headers();
  for (const v of req.headers.getAll('Via')) h.add('Via', v);
  h.add('From', req.headers.get('From')!).add('To', `${req.headers.get('To')!};tag=${toTag}`);
  h.add('Call-ID', req.headers.get('Call-ID')!).add('CSeq', req.headers.get('CSeq')!);
  return { type: 'response', status, reason, headers: h, body: Buffer.alloc(0) };
}

function setup(reliable = false) {
  const clock = new ManualClock(0);
  const transport = new RecordingTransport(clock, reliable);
  const layer = new TransactionLayer(transport, clock, silentLogger);
  const events: string[] = [];
  const tu = {
    onResponse: (r: SipResponse) => events.push(`response ${r.status}`),
    onTimeout: () => events.push(`timeout at ${clock.now()}`),
    onTransportError: (e: Error) => events.push(`error ${e.message}`),
  };
  return { clock, transport, layer, events, tu };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('INVITE client transaction (§17.1.1)', () => {
  it('Timer A retransmits at 0.5, 1.5, 3.5, 7.5 ... s (doubling from T1) and Timer B times out at 64·T1', async () => {
    const { clock, transport, layer, events, tu } = setup();
    layer.sendRequest(request('INVITE'), PEER, tu);
    clock.advance(40_000);
    await flush();
    const times = transport.sent.map((s) => s.at);
    expect(times).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(events).toEqual(['timeout at 32000']);
    expect(layer.activeClientCount).toBe(0);
  });

  it('a provisional stops retransmissions; a non-2xx final is ACKed inside the transaction with the same branch, also when retransmitted', async () => {
    const { clock, transport, layer, events, tu } = setup();
    const inv = request('INVITE');
    layer.sendRequest(inv, PEER, tu);
    clock.advance(600);
    transport.deliver(responseTo(inv, 180, 'Ringing'));
    clock.advance(10_000);
    expect(transport.sent.length).toBe(2); // original + one retransmission before the 180
    transport.deliver(responseTo(inv, 486, 'Busy Here'));
    transport.deliver(responseTo(inv, 486, 'Busy Here'));
    await flush();
    const acks = transport.sent.filter((s) => s.msg.type === 'request' && s.msg.method === 'ACK');
    expect(acks.length).toBe(2);
    const ack = acks[0]!.msg as SipRequest;
    expect(topVia(ack).params.get('branch')).toBe(topVia(inv).params.get('branch'));
    expect(cseqOf(ack)).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.headers.get('To')).toMatch(/tag=xyz/);
    expect(ack.uri).toBe(inv.uri);
    expect(events).toEqual(['response 180', 'response 486']); // the retransmitted 486 is absorbed
    clock.advance(32_000); // Timer D
    expect(layer.activeClientCount).toBe(0);
  });

  it('over TCP there is no Timer A, Timer B still runs', async () => {
    const { clock, transport, layer, events, tu } = setup(true);
    layer.sendRequest(request('INVITE'), PEER, tu);
    clock.advance(40_000);
    expect(transport.sent.length).toBe(1);
    expect(events).toEqual(['timeout at 32000']);
  });

  it('2xx retransmissions still reach the TU while the transaction is Accepted (RFC 6026)', () => {
    const { clock, transport, layer, events, tu } = setup();
    const inv = request('INVITE');
    layer.sendRequest(inv, PEER, tu);
    transport.deliver(responseTo(inv, 200, 'OK'));
    clock.advance(1000);
    transport.deliver(responseTo(inv, 200, 'OK'));
    expect(events).toEqual(['response 200', 'response 200']);
    expect(transport.sent.length).toBe(1); // the transaction does not ACK 2xx: the dialog does
  });
});

describe('non-INVITE client transaction (§17.1.2)', () => {
  it('Timer E doubles up to T2 = 4 s, Timer F times out at 64·T1', () => {
    const { clock, transport, layer, events, tu } = setup();
    layer.sendRequest(request('REGISTER'), PEER, tu);
    clock.advance(33_000);
    expect(transport.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(events).toEqual(['timeout at 32000']);
  });

  it('after a provisional, retransmits every T2; a final stops everything and later copies are absorbed', () => {
    const { clock, transport, layer, events, tu } = setup();
    const reg = request('REGISTER');
    layer.sendRequest(reg, PEER, tu);
    clock.advance(100);
    transport.deliver(responseTo(reg, 100, 'Trying'));
    clock.advance(12_000);
    expect(transport.sent.map((s) => s.at)).toEqual([0, 500, 4500, 8500, 12500].filter((t) => t <= 12_100));
    transport.deliver(responseTo(reg, 200, 'OK'));
    transport.deliver(responseTo(reg, 200, 'OK'));
    const before = transport.sent.length;
    clock.advance(60_000);
    expect(transport.sent.length).toBe(before);
    expect(events).toEqual(['response 100', 'response 200']);
    expect(layer.activeClientCount).toBe(0); // Timer K
  });
});

describe('server transactions and the UA answering the far end', () => {
  function uaSetup() {
    const clock = new ManualClock(0);
    const transport = new RecordingTransport(clock);
    const ua = new SipUserAgent({
      transport, clock, logger: silentLogger, username: '200', domain: 'pbx', password: 'x', outboundProxy: PEER,
    });
    const lastResponse = () => transport.sent[transport.sent.length - 1]!.msg as SipResponse;
    return { clock, transport, ua, lastResponse };
  }

  it('OPTIONS → 200 with Allow and Accept; a retransmitted request gets the same response again', () => {
    const { transport, lastResponse } = uaSetup();
    const opt = request('OPTIONS');
    transport.deliver(opt);
    const r = lastResponse();
    expect(r.status).toBe(200);
    expect(r.headers.list('Allow')).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'NOTIFY']));
    expect(r.headers.get('Accept')).toMatch(/application\/sdp/);
    expect(r.headers.get('To')).toMatch(/;tag=/);
    transport.deliver(opt);
    expect(transport.sent.length).toBe(2);
    expect(serializeMessage(transport.sent[1]!.msg).equals(serializeMessage(transport.sent[0]!.msg))).toBe(true);
  });

  it('NOTIFY → 200; BYE/INFO outside a dialog → 481; CANCEL without an INVITE → 481; unknown → 501; SUBSCRIBE → 405', () => {
    const { transport, lastResponse } = uaSetup();
    const statuses: Record<string, number> = {};
    for (const m of ['NOTIFY', 'BYE', 'INFO', 'CANCEL', 'FOO', 'SUBSCRIBE']) {
      transport.deliver(request(m));
      statuses[m] = lastResponse().status;
    }
    expect(statuses).toEqual({ NOTIFY: 200, BYE: 481, INFO: 481, CANCEL: 481, FOO: 501, SUBSCRIBE: 405 });
  });

  it('responses go back to the source port when the request asked for rport, with received/rport filled in', () => {
    const { transport } = uaSetup();
    const opt = request('OPTIONS');
    opt.headers.set('Via', 'SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKq;rport');
    transport.deliver(opt, { address: '127.0.0.1', port: 40404 });
    const sent = transport.sent[0]!;
    expect(sent.dest).toEqual({ address: '127.0.0.1', port: 40404 });
    const via = topVia(sent.msg);
    expect(via.params.get('received')).toBe('127.0.0.1');
    expect(via.params.get('rport')).toBe('40404');
  });

  it('incoming INVITE is declined and the 603 is retransmitted (Timer G) until the ACK arrives', () => {
    const { clock, transport } = uaSetup();
    const inv = request('INVITE');
    transport.deliver(inv);
    clock.advance(1600);
    expect(transport.sent.map((s) => (s.msg as SipResponse).status)).toEqual([603, 603, 603]); // 0, 0.5, 1.5 s
    const ack = request('ACK', topVia(inv).params.get('branch')!);
    ack.headers.set('CSeq', '1 ACK');
    transport.deliver(ack);
    clock.advance(30_000);
    expect(transport.sent.length).toBe(3);
  });
});

describe('Via branch', () => {
  it('every new transaction gets a distinct z9hG4bK branch and rport', () => {
    const clock = new ManualClock(0);
    const ua = new SipUserAgent({ transport: new RecordingTransport(clock), clock, logger: silentLogger, username: '200', domain: 'pbx', password: 'x', outboundProxy: PEER });
    const branches = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const via = topVia(parseMessage(serializeMessage(ua.buildRequest({ method: 'OPTIONS', uri: 'sip:pbx', from: '<sip:200@pbx>;tag=1', to: '<sip:pbx>', callId: 'c', cseq: i + 1 }))));
      const b = via.params.get('branch')!;
      expect(b).toMatch(/^z9hG4bK[0-9a-f]{20}$/);
      expect(via.params.has('rport')).toBe(true);
      branches.add(b);
    }
    expect(branches.size).toBe(200);
  });
});
