/**
 * Property tests (fast-check) over every SIP parser that sees network input: the message parser,
 * the TCP stream framer, URIs, name-addr, Via, CSeq, parameters and digest challenges. Random and
 * structured hostile inputs either parse or throw SipParseError — never a TypeError, RangeError
 * or anything else, and never a hang (each input is bounded; the suite would time out). And what
 * parses can always be written back out, so a response to it can always be built.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/util/clock.js';
import { silentLogger } from '../../../../src/util/log.js';
import { parseAuthParams, parseChallenge } from '../../../../src/channels/voip/sip/auth/digest.js';
import { SipParseError } from '../../../../src/channels/voip/sip/syntax/errors.js';
import { parseParams, splitOutside } from '../../../../src/channels/voip/sip/syntax/lexer.js';
import { parseCSeq, type SipMessage, type SipRequest } from '../../../../src/channels/voip/sip/syntax/message.js';
import { formatNameAddr, parseNameAddr } from '../../../../src/channels/voip/sip/syntax/name-addr.js';
import { parseDeltaSeconds, parseMessage } from '../../../../src/channels/voip/sip/syntax/parse.js';
import { serializeMessage } from '../../../../src/channels/voip/sip/syntax/serialize.js';
import { StreamFramer } from '../../../../src/channels/voip/sip/syntax/stream-framer.js';
import { formatUri, parseHostPort, parseUri } from '../../../../src/channels/voip/sip/syntax/uri.js';
import { formatVia, parseVia, type Via } from '../../../../src/channels/voip/sip/syntax/via.js';
import type { Endpoint, MessageHandler, SipTransport } from '../../../../src/channels/voip/sip/transport/transport.js';
import { parseDtmfInfo } from '../../../../src/channels/voip/sip/ua/dtmf-info.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';
import { valid } from './fixtures/rfc4475.js';

const RUNS = { numRuns: 400 };

/** Runs fn; a SipParseError is a fine answer, any other exception fails the property. */
function parsesOrRefuses<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SipParseError) return undefined;
    throw e;
  }
}

// ---- arbitraries -------------------------------------------------------------------------------

/** Characters that mean something somewhere in SIP, plus blanks, controls and non-ASCII. */
const SIP_CHARS = [...'aZ09-.!%*_+`\'~"<>;,:=\\/[]@?&$#() \t\r\n', '\x00', '\x7f', 'é', '大', '\uFEFF', '\uD800'];
const sipChar = fc.constantFrom(...SIP_CHARS);
/** Long runs of one character: what makes backtracking patterns blow up. */
const run = fc.tuple(fc.constantFrom(' ', '\t', 'a', '"', '\\', ';', ',', ':', '<', '.', '-', '%', '='), fc.integer({ min: 1, max: 3000 })).map(([c, n]) => c.repeat(n));
const fragment = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: sipChar, maxLength: 20 }) },
  { weight: 1, arbitrary: run },
  { weight: 2, arbitrary: fc.constantFrom('SIP/2.0/UDP ', 'sip:', 'sips:', '<sip:a@b>', ';branch=z9hG4bK', ';rport', ';received=', '"x"', 'Digest ', 'realm="r"', 'nonce=', '[::1]', ':5060', '%4', '%41', 'tag=') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
);
const hostile = fc.array(fragment, { maxLength: 12 }).map((xs) => xs.join(''));

const token = fc.string({ unit: fc.constantFrom(...'abcXYZ019-.!%*_+`\'~'), minLength: 1, maxLength: 12 });
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const hostname = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const host = fc.oneof(hostname, ipv4, fc.constantFrom('[::1]', '[2001:db8::9]'));
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const paramValue = fc.oneof({ weight: 20, arbitrary: token }, { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'ab ;,"\\<>='), maxLength: 10 }) });
const params = fc.uniqueArray(fc.tuple(token.map((t) => t.toLowerCase()), fc.option(paramValue, { nil: null })), { selector: (p) => p[0], maxLength: 4 });

/** Structured hostile values: a correct shape with a hostile piece spliced in somewhere. */
function spliced(shape: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(shape, hostile, fc.nat(), fc.nat(3)).map(([s, h, at, mode]) => {
    const i = at % (s.length + 1);
    if (mode === 0) return s.slice(0, i) + h + s.slice(i);
    if (mode === 1) return s.slice(0, i) + h;
    if (mode === 2) return h + s.slice(i);
    return s;
  });
}

const viaText = fc
  .tuple(fc.constantFrom('SIP/2.0/', 'SIP / 2.0 / ', 'sip/2.0/'), fc.constantFrom('UDP', 'TCP', 'TLS', 'WS', 'X-Y'), fc.constantFrom(' ', '  ', '\t'), host, port, params)
  .map(([p, t, sp, h, pt, ps]) => `${p}${t}${sp}${h}${pt !== undefined ? `:${pt}` : ''}${ps.map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`)).join('')}`);
const userPart = fc.string({ unit: fc.constantFrom(...'abcXYZ019-.!*_+~'), minLength: 1, maxLength: 12 });
const uriText = fc
  .tuple(
    fc.constantFrom('sip:', 'sip:', 'sip:', 'sips:', 'tel:', 'SIP:'),
    fc.option(userPart, { nil: undefined }),
    host,
    port,
    params,
    fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: token }),
  )
  .map(([s, u, h, pt, ps, q]) => `${s}${u ? u + '@' : ''}${h}${pt !== undefined ? `:${pt}` : ''}${ps.map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`)).join('')}${q ? `?${q}` : ''}`);
const displayName = fc.string({ unit: fc.constantFrom(...'ab "\\<>;,é'), maxLength: 16 });
const nameAddrText = fc
  .tuple(fc.option(fc.oneof(displayName.map((d) => `"${d.replace(/[\\"]/g, '\\$&')}"`), fc.array(token, { minLength: 1, maxLength: 3 }).map((w) => w.join(' '))), { nil: undefined }), uriText, params)
  .map(([dn, uri, ps]) => `${dn === undefined ? '' : `${dn} `}<${uri}>${ps.map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`)).join('')}`);
const challengeText = fc
  .array(fc.tuple(fc.constantFrom('realm', 'nonce', 'qop', 'opaque', 'algorithm', 'stale', 'domain', 'x'), fc.oneof(token, paramValue), fc.boolean()), { maxLength: 8 })
  .map((ps) => 'Digest ' + ps.map(([k, v, q]) => (q ? `${k}="${v}"` : `${k}=${v}`)).join(', '));

const HEADER_NAMES = ['Via', 'v', 'From', 'f', 'To', 't', 'Call-ID', 'i', 'CSeq', 'Contact', 'm', 'Route', 'Record-Route', 'Max-Forwards', 'Expires', 'Date', 'Content-Type', 'c', 'Content-Length', 'l', 'X-Any', 'Subject'];
const headerLine = fc.oneof(
  fc.tuple(fc.constantFrom(...HEADER_NAMES), fc.constantFrom(':', ' : ', ':  '), fc.oneof(hostile, spliced(viaText), spliced(nameAddrText), fc.constantFrom('1 OPTIONS', '70', '0', 'abc@h'))).map(([n, c, v]) => `${n}${c}${v}`),
  hostile,
);
/** The valid shape, or (1 in `odds`) one with a hostile piece spliced in. */
const mostly = (shape: fc.Arbitrary<string>, odds: number) => fc.oneof({ weight: odds - 1, arbitrary: shape }, { weight: 1, arbitrary: spliced(shape) });
/** A value with no line break: hostile inside one header line. */
const lineSafe = fc.string({ unit: fc.constantFrom(...SIP_CHARS.filter((c) => c !== '\r' && c !== '\n')), maxLength: 40 });
const extraLine = (odds: number) =>
  fc.oneof(
    { weight: odds - 1, arbitrary: fc.tuple(fc.constantFrom('X-Any', 'Subject', 'Supported', 'User-Agent', 'Accept'), lineSafe).map(([n, v]) => `${n}: ${v}`) },
    { weight: 1, arbitrary: headerLine },
  );
/**
 * A request or response: the mandatory fields and random extra lines in a random order; one
 * piece in `odds` is hostile (2: mostly hostile, 30: mostly well-formed with odd values).
 */
const messageText = (odds: number) =>
  fc
    .tuple(
      fc.constantFrom('OPTIONS', 'INVITE', 'BYE', 'NOTIFY', 'INFO', 'CANCEL', 'ACK', 'X'),
      fc.boolean(),
      mostly(uriText, odds),
      mostly(viaText, odds),
      mostly(nameAddrText, odds),
      mostly(nameAddrText, odds),
      mostly(token, odds),
      fc.array(extraLine(odds), { maxLength: 6 }),
      fc.constantFrom('\r\n', '\n'),
      fc.string({ maxLength: 30 }),
      fc.nat(),
    )
    .map(([method, response, ruri, via, from, to, callId, extra, eol, body, seed]) => {
      const start = response ? 'SIP/2.0 200 OK' : `${method} ${ruri} SIP/2.0`;
      const lines = [`Via: ${via}`, `From: ${from};tag=f1`, `To: ${to}`, `Call-ID: ${callId}`, `CSeq: 1 ${method}`, ...extra];
      // a deterministic shuffle from the seed
      for (let i = lines.length - 1, x = seed; i > 0; i--, x = Math.floor(x / 7) + i * 31) {
        const j = x % (i + 1);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return [start, ...lines].join(eol) + eol + eol + body;
    });
const hostileMessage = messageText(2);
const oddMessage = messageText(30);

// ---- properties -------------------------------------------------------------------------------

describe('SIP parsers under random and hostile input', () => {
  it('parseMessage: random bytes, structured messages and mutated torture messages parse or throw SipParseError', () => {
    const torture = Object.values(valid);
    const mutated = fc.tuple(fc.constantFrom(...torture), fc.nat(), fc.uint8Array({ maxLength: 6 }), fc.boolean()).map(([m, at, bytes, cut]) => {
      const i = at % m.length;
      return Buffer.concat([m.subarray(0, i), Buffer.from(bytes), cut ? Buffer.alloc(0) : m.subarray(i + 1)]);
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)), hostileMessage.map((s) => Buffer.from(s, 'utf8')), oddMessage.map((s) => Buffer.from(s, 'utf8')), mutated), (data) => {
        parsesOrRefuses(() => parseMessage(data));
        parsesOrRefuses(() => parseMessage(data, { stream: true }));
      }),
      RUNS,
    );
  });

  it('whatever parses can be serialized again and parses to the same header fields (a response can always be built)', () => {
    fc.assert(
      fc.property(fc.oneof(oddMessage, hostileMessage), (text) => {
        const m = parsesOrRefuses(() => parseMessage(Buffer.from(text, 'utf8')));
        if (!m) return;
        const again = parseMessage(serializeMessage(m));
        const fields = (x: SipMessage) => x.headers.entries().filter((f) => f.name !== 'Content-Length');
        expect(fields(again)).toEqual(fields(m));
        expect(again.body.equals(m.body)).toBe(true);
      }),
      RUNS,
    );
  });

  it('every parsed request except ACK gets a response from the UA, and nothing it does throws', () => {
    class Recorder implements SipTransport {
      readonly protocol = 'UDP' as const;
      readonly reliable = false;
      readonly local: Endpoint = { address: '127.0.0.1', port: 5099 };
      sent = 0;
      handler: MessageHandler = () => {};
      async send(): Promise<void> {
        this.sent++;
      }
      onMessage(h: MessageHandler): void {
        this.handler = h;
      }
      async close(): Promise<void> {}
    }
    const t = new Recorder();
    const ua = new SipUserAgent({ transport: t, clock: new ManualClock(0), logger: silentLogger, username: '200', domain: 'pbx', password: 'x', outboundProxy: { address: '127.0.0.1', port: 9 } });
    let n = 0;
    const methods = fc.constantFrom('OPTIONS', 'INVITE', 'BYE', 'CANCEL', 'INFO', 'NOTIFY', 'FOO', 'SUBSCRIBE', 'ACK');
    fc.assert(
      fc.property(methods, fc.array(extraLine(10), { maxLength: 5 }), fc.option(mostly(nameAddrText, 4), { nil: undefined }), (method, extra, from) => {
        n++;
        const text =
          [`${method} sip:200@127.0.0.1 SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKu${n};rport`, `From: ${from ?? '<sip:a@b>'};tag=${n}`, 'To: <sip:200@127.0.0.1>', `Call-ID: u${n}@h`, `CSeq: 1 ${method}`, ...extra].join('\r\n') + '\r\n\r\n';
        const req = parsesOrRefuses(() => parseMessage(Buffer.from(text, 'utf8')));
        if (!req || req.type !== 'request' || (req as SipRequest).method !== method) return;
        const before = t.sent;
        t.handler(req, { address: '127.0.0.1', port: 5070 });
        if (method !== 'ACK') expect(t.sent).toBeGreaterThan(before);
      }),
      RUNS,
    );
    ua.close();
  });

  it('StreamFramer: any bytes in any chunking give messages or SipParseError', () => {
    const stream = fc.array(fc.oneof(fc.oneof(oddMessage, hostileMessage).map((s) => s.replace(/\r?\n\r?\n/, (e) => `\r\nContent-Length: 0${e}`)), hostile, fc.constant('\r\n\r\n')), { maxLength: 4 }).map((xs) => Buffer.from(xs.join(''), 'utf8'));
    fc.assert(
      fc.property(stream, fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }), (data, sizes) => {
        const f = new StreamFramer();
        let i = 0;
        let k = 0;
        parsesOrRefuses(() => {
          while (i < data.length) {
            const n = sizes[k++ % sizes.length]!;
            for (const frame of f.push(data.subarray(i, i + n))) parsesOrRefuses(() => parseMessage(frame, { stream: true }));
            i += n;
          }
        });
      }),
      RUNS,
    );
  });

  it('Via: hostile and structured values parse or throw SipParseError; valid ones round-trip through formatVia', () => {
    fc.assert(fc.property(fc.oneof(hostile, spliced(viaText)), (v) => void parsesOrRefuses(() => parseVia(v))), RUNS);
    fc.assert(
      fc.property(viaText, (v) => {
        const a = parsesOrRefuses(() => parseVia(v));
        if (!a) return;
        const b: Via = parseVia(formatVia(a));
        expect(b).toEqual(a);
      }),
      RUNS,
    );
  });

  it('URI and host:port: parse or SipParseError; SIP URIs round-trip through formatUri', () => {
    fc.assert(fc.property(fc.oneof(hostile, spliced(uriText)), (u) => void parsesOrRefuses(() => parseUri(u))), RUNS);
    fc.assert(fc.property(fc.oneof(hostile, spliced(fc.tuple(host, port).map(([h, p]) => (p ? `${h}:${p}` : h)))), (hp) => void parsesOrRefuses(() => parseHostPort(hp))), RUNS);
    fc.assert(
      fc.property(uriText, (u) => {
        const a = parsesOrRefuses(() => parseUri(u));
        if (!a) return;
        expect(parseUri(formatUri(a))).toEqual(a);
      }),
      RUNS,
    );
  });

  it('name-addr: parse or SipParseError; any display name without line breaks survives format → parse', () => {
    fc.assert(fc.property(fc.oneof(hostile, spliced(nameAddrText)), (v) => void parsesOrRefuses(() => parseNameAddr(v))), RUNS);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab "\\<>;,\t\x00é大'), minLength: 1, maxLength: 20 }), uriText, (dn, uri) => {
        if (!parsesOrRefuses(() => parseUri(uri))) return;
        const na = parseNameAddr(formatNameAddr({ displayName: dn, uri, params: new Map([['tag', '1']]) }));
        expect(na.displayName).toBe(dn);
        expect(na.uri).toBe(uri);
      }),
      RUNS,
    );
  });

  it('digest challenges and auth-params: parse or SipParseError', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, spliced(challengeText), challengeText), (v) => {
        parsesOrRefuses(() => parseChallenge(v));
        parsesOrRefuses(() => parseAuthParams(v));
      }),
      RUNS,
    );
  });

  it('CSeq, parameters, lists, delta-seconds and INFO bodies: parse or SipParseError', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, spliced(fc.constant('123 OPTIONS')), spliced(fc.constant(';a=b;c;d="e f"'))), (v) => {
        parsesOrRefuses(() => parseCSeq(v));
        parsesOrRefuses(() => parseParams(v));
        parsesOrRefuses(() => splitOutside(v, ','));
        parsesOrRefuses(() => parseDeltaSeconds(v));
        const d = parseDtmfInfo('application/dtmf-relay', Buffer.from(v, 'utf8'));
        expect(d === null || /^[0-9A-D*#]$/.test(d)).toBe(true);
      }),
      RUNS,
    );
  });
});
