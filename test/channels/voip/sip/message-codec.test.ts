import { describe, expect, it } from 'vitest';
import { SipParseError } from '../../../../src/channels/voip/sip/syntax/errors.js';
import { parseMessage } from '../../../../src/channels/voip/sip/syntax/parse.js';
import { serializeMessage } from '../../../../src/channels/voip/sip/syntax/serialize.js';
import { StreamFramer } from '../../../../src/channels/voip/sip/syntax/stream-framer.js';
import {
  Headers,
  contactsOf,
  cseqOf,
  fromOf,
  toOf,
  viasOf,
  type SipRequest,
  type SipResponse,
} from '../../../../src/channels/voip/sip/syntax/message.js';
import { parseNameAddr } from '../../../../src/channels/voip/sip/syntax/name-addr.js';
import { parseUri, formatUri } from '../../../../src/channels/voip/sip/syntax/uri.js';
import { parseVia, formatVia } from '../../../../src/channels/voip/sip/syntax/via.js';
import { invalid, valid } from './fixtures/rfc4475.js';

const req = (m: ReturnType<typeof parseMessage>) => {
  expect(m.type).toBe('request');
  return m as SipRequest;
};

describe('RFC 4475 §3.1.1 valid messages parse', () => {
  it('wsinv: folding, compact forms, odd whitespace, escaped quotes', () => {
    const m = req(parseMessage(valid.wsinv!));
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(toOf(m).uri).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(toOf(m).params.get('tag')).toBe('1918181833n');
    const from = fromOf(m);
    expect(from.displayName).toBe('J Rosenberg \\"');
    expect(from.params.get('tag')).toBe('98asjd8');
    expect(m.headers.get('max-forwards')).toBe('0068');
    expect(cseqOf(m)).toEqual({ seq: 9, method: 'INVITE' });
    const vias = viasOf(m);
    expect(vias.map((v) => [v.transport, v.host, v.params.get('branch')])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.headers.get('Subject')).toBe('');
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    const contact = contactsOf(m)[0]!;
    expect(contact.displayName).toBe('Quoted string ""');
    expect(contact.params.get('newparam')).toBe('newvalue');
    expect(contact.params.get('secondparam')).toBeNull();
    expect(contact.params.get('q')).toBe('0.33');
    expect(m.headers.list('Route')).toEqual(['<sip:services.example.com;lr;unknownwith=value;unknown-no-value>']);
    expect(m.body.length).toBe(150);
    expect(m.body.toString().startsWith('v=0\r\n')).toBe(true);
  });

  it('intmeth: unusual method, URI and header names', () => {
    const m = req(parseMessage(valid.intmeth!));
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(cseqOf(m).seq).toBe(139122385);
    expect(toOf(m).displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7F');
    expect(fromOf(m).params.get('tag')).toBe("_token~1'+`*%!-.");
    expect(fromOf(m).params.get("fromparam''~+*_!.-%")).toBe('работающий');
    expect(m.headers.get("extensionHeader-!.%*+_`'~")).toBe('\uFEFF大停電');
  });

  it('esc01 / escnull / esc02: % escapes are kept, not mistaken for syntax', () => {
    const a = req(parseMessage(valid.esc01!));
    expect(a.uri).toBe('sip:sips%3Auser%40example.com@example.net');
    expect(a.headers.get('content-type')).toBe('application/sdp');
    expect(contactsOf(a)[0]!.uri).toBe('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
    const b = req(parseMessage(valid.escnull!));
    expect(contactsOf(b).map((c) => c.uri)).toEqual(['sip:%00@host5.example.com', 'sip:%00%00@host5.example.com']);
    expect(b.body.length).toBe(0);
    const c = req(parseMessage(valid.esc02!));
    expect(c.method).toBe('RE%47IST%45R');
    expect(toOf(c).displayName).toBe('%Z%45');
    // "C%6Fntact" is an unknown header, not Contact
    expect(contactsOf(c).map((x) => x.uri)).toEqual(['sip:alias1@host1.example.com', 'sip:alias3@host3.example.com']);
  });

  it('lwsdisp: no space between display name and <', () => {
    const f = fromOf(parseMessage(valid.lwsdisp!));
    expect(f.displayName).toBe('caller');
    expect(f.uri).toBe('sip:caller@example.com');
  });

  it('longreq: long values and 34 Via fields in many spellings', () => {
    const m = parseMessage(valid.longreq!);
    const vias = viasOf(m);
    expect(vias.length).toBe(34);
    expect(vias[0]!.host).toBe('sip33.example.com');
    expect(vias[33]!.params.get('received')).toBe('192.0.2.5');
    expect(toOf(m).uri).toMatch(/^sip:user@example\.com:6000;unknownparam1=verylong/);
    expect(fromOf(m).params.get('tag')).toBe('12' + '982'.repeat(50) + '424');
    expect(m.body.length).toBe(150);
  });

  it('dblreq: octets after Content-Length in a datagram are ignored', () => {
    const m = req(parseMessage(valid.dblreq!));
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
  });

  it('semiuri, transports: ; in user part, folded Accept, unknown transports', () => {
    const m = req(parseMessage(valid.semiuri!));
    const u = parseUri(m.uri);
    expect('user' in u && u.user).toBe('user;par=u%40example.net');
    expect(m.headers.list('Accept')).toEqual([
      'application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag',
    ]);
    expect(viasOf(parseMessage(valid.transports!)).map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('unreason / noreason: UTF-8 and empty reason phrases', () => {
    const a = parseMessage(valid.unreason!) as SipResponse;
    expect(a.status).toBe(200);
    expect(a.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    expect(a.body.length).toBe(154);
    const b = parseMessage(valid.noreason!) as SipResponse;
    expect(b.status).toBe(100);
    expect(b.reason).toBe('');
  });
});

describe('RFC 4475 §3.1.2 invalid messages are rejected with a clear error', () => {
  for (const [name, { data, defect }] of Object.entries(invalid)) {
    it(name, () => {
      let err: unknown;
      try {
        parseMessage(data);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SipParseError);
      expect((err as Error).message).toMatch(defect);
    });
  }

  it('badvers asks for 505', () => {
    try {
      parseMessage(invalid.badvers!.data);
    } catch (e) {
      expect((e as SipParseError).status).toBe(505);
    }
    expect.assertions(1);
  });
});

describe('hostile input never crashes the parser', () => {
  it('every truncation and single-byte corruption of the torture messages either parses or throws SipParseError', () => {
    const samples = [valid.wsinv!, valid.intmeth!, valid.longreq!, invalid.quotbal!.data];
    let rejected = 0;
    for (const s of samples) {
      for (let cut = 0; cut < s.length; cut += 7) {
        for (const data of [s.subarray(0, cut), Buffer.concat([s.subarray(0, cut), Buffer.from([0x22, 0x3c, 0x3b, 0x2c]), s.subarray(cut + 1)])]) {
          try {
            parseMessage(data);
          } catch (e) {
            expect(e).toBeInstanceOf(SipParseError);
            rejected++;
          }
        }
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it('rejects oversize header sections and bodies', () => {
    const big = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX: ' + 'a'.repeat(70_000) + '\r\n\r\n');
    expect(() => parseMessage(big)).toThrow(/too large/);
    const huge = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n');
    expect(() => parseMessage(huge)).toThrow(SipParseError);
  });
});

describe('round trip', () => {
  it('serialize(parse(x)) parses to the same message, with canonical names and a correct Content-Length', () => {
    for (const name of ['wsinv', 'intmeth', 'esc01', 'longreq', 'unreason']) {
      const a = parseMessage(valid[name]!);
      const wire = serializeMessage(a);
      const b = parseMessage(wire);
      expect(b.headers.entries().filter((f) => f.name !== 'Content-Length')).toEqual(a.headers.entries().filter((f) => f.name !== 'Content-Length'));
      expect(b.body.equals(a.body)).toBe(true);
      expect(b.headers.get('Content-Length')).toBe(String(a.body.length));
    }
    const wire = serializeMessage(parseMessage(valid.wsinv!)).toString('utf8');
    expect(wire).toContain('\r\nTo: sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n');
    expect(wire).toContain('\r\nContact: "Quoted string');
    expect(wire).toContain('\r\nCall-ID: wsinv.ndaksdj@192.0.2.1\r\n');
  });

  it('serializes a request byte for byte', () => {
    const h = new Headers()
      .add('Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport')
      .add('f', '<sip:200@pbx>;tag=1')
      .add('t', '<sip:201@pbx>')
      .add('i', 'x@y')
      .add('CSeq', '1 OPTIONS');
    const wire = serializeMessage({ type: 'request', method: 'OPTIONS', uri: 'sip:201@pbx', headers: h, body: Buffer.from('hi') });
    expect(wire.toString()).toBe(
      'OPTIONS sip:201@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport\r\nFrom: <sip:200@pbx>;tag=1\r\n' +
        'To: <sip:201@pbx>\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\nContent-Length: 2\r\n\r\nhi',
    );
  });

  it('refuses to serialize a header value with a line break (header injection)', () => {
    const h = new Headers().add('Subject', 'a\r\nBYE sip:x SIP/2.0');
    expect(() => serializeMessage({ type: 'request', method: 'OPTIONS', uri: 'sip:a@b', headers: h, body: Buffer.alloc(0) })).toThrow(/line break/);
  });
});

describe('header values', () => {
  it('splits lists only outside quotes and angle brackets', () => {
    const h = new Headers().add('Contact', '"Bell, Alexander" <sip:a@b;x=1,2>;q=0.5, <sip:c@d>').add('m', 'sip:e@f');
    expect(h.list('contact')).toEqual(['"Bell, Alexander" <sip:a@b;x=1,2>;q=0.5', '<sip:c@d>', 'sip:e@f']);
  });

  it('Via with rport (empty and filled) and received round-trips', () => {
    const v = parseVia('SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK77;rport=40000;received=203.0.113.9');
    expect(v).toMatchObject({ transport: 'UDP', host: '10.0.0.5', port: 5062 });
    expect(v.params.get('rport')).toBe('40000');
    expect(formatVia(v)).toBe('SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK77;rport=40000;received=203.0.113.9');
    expect(parseVia('SIP/2.0/TCP [::1]:5060;rport;branch=z9hG4bKx').params.get('rport')).toBeNull();
    expect(() => parseVia('SIP/2.0/UDP host;rport=abc')).toThrow(SipParseError);
  });

  it('name-addr with display name, URI params vs header params', () => {
    const na = parseNameAddr('"Alice" <sip:alice@atlanta.example.com;transport=tcp>;tag=9fxced76sl');
    expect(na).toMatchObject({ displayName: 'Alice', uri: 'sip:alice@atlanta.example.com;transport=tcp' });
    expect(na.params.get('tag')).toBe('9fxced76sl');
    const spec = parseNameAddr('sip:bob@biloxi.example.com;tag=8321234356');
    expect(spec.uri).toBe('sip:bob@biloxi.example.com');
    expect(spec.params.get('tag')).toBe('8321234356');
    const u = parseUri('sips:bob:pw@[2001:db8::9]:5071;transport=tcp;lr?Subject=x');
    expect(u).toMatchObject({ scheme: 'sips', user: 'bob', password: 'pw', host: '[2001:db8::9]', port: 5071, headers: 'Subject=x' });
    expect(formatUri(u)).toBe('sips:bob:pw@[2001:db8::9]:5071;transport=tcp;lr?Subject=x');
    expect(parseUri('tel:+15551234567')).toEqual({ scheme: 'tel', opaque: '+15551234567' });
  });
});

describe('TCP stream framing by Content-Length', () => {
  it('splits coalesced and fragmented messages, skipping CRLF keep-alives', () => {
    const a = serializeMessage(parseMessage(valid.wsinv!));
    const b = serializeMessage(parseMessage(valid.noreason!));
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), a, b, Buffer.from('\r\n'), a]);
    for (const step of [1, 3, 50, stream.length]) {
      const f = new StreamFramer();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...f.push(stream.subarray(i, i + step)));
      expect(out.map((x) => x.length)).toEqual([a.length, b.length, a.length]);
      expect(out[0]!.equals(a)).toBe(true);
      expect(f.buffered).toBe(0);
    }
  });

  it('a message without Content-Length is an error on a stream', () => {
    const f = new StreamFramer();
    expect(() => f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'))).toThrow(/Content-Length is required/);
    expect(() => parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n'), { stream: true })).toThrow(/Content-Length is required/);
  });
});
