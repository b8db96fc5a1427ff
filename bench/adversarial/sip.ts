/**
 * SIP parsers on hostile input (issue 19): each case builds an input of size about n that used to
 * make a regular expression backtrack (long runs of blanks, long display names, many list
 * elements, many parameters, byte-at-a-time streams) and runs the parser a datagram or a TCP
 * stream would reach.
 */
import { parseAuthParams, parseChallenge } from '../../src/channels/voip/sip/auth/digest.js';
import { parseParams } from '../../src/channels/voip/sip/syntax/lexer.js';
import { parseCSeq } from '../../src/channels/voip/sip/syntax/message.js';
import { parseNameAddr } from '../../src/channels/voip/sip/syntax/name-addr.js';
import { parseMessage } from '../../src/channels/voip/sip/syntax/parse.js';
import { StreamFramer } from '../../src/channels/voip/sip/syntax/stream-framer.js';
import { parseUri } from '../../src/channels/voip/sip/syntax/uri.js';
import { parseVia } from '../../src/channels/voip/sip/syntax/via.js';
import { parseDtmfInfo } from '../../src/channels/voip/sip/ua/dtmf-info.js';
import type { AdversarialCase } from './types.js';

const str = (x: string | Buffer): string => (typeof x === 'string' ? x : x.toString('latin1'));
const buf = (x: string | Buffer): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

/** An OPTIONS datagram with `extra` header lines (each without CRLF) after the mandatory ones. */
function datagram(extra: string[], via = 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbench'): Buffer {
  return Buffer.from(
    [
      'OPTIONS sip:200@192.0.2.9 SIP/2.0',
      `Via: ${via}`,
      'From: <sip:a@192.0.2.1>;tag=1',
      'To: <sip:200@192.0.2.9>',
      'Call-ID: bench@192.0.2.1',
      'CSeq: 1 OPTIONS',
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

const message = (b: string | Buffer) => parseMessage(buf(b));

export const cases: AdversarialCase[] = [
  {
    name: 'parseVia: "SIP/2.0/UDP a<spaces>b"',
    n: 4_500,
    make: (n) => `SIP/2.0/UDP a${' '.repeat(n)}b`,
    run: (x) => parseVia(str(x)),
  },
  {
    name: 'parseVia: sent-by "a<spaces>" (no colon)',
    n: 4_500,
    make: (n) => `SIP/2.0/UDP a${' '.repeat(n)};branch=z9hG4bK1`,
    run: (x) => parseVia(str(x)),
  },
  {
    name: 'datagram: Via "a<spaces>b" (10n under the field cap)',
    n: 1_500,
    make: (n) => datagram([], `SIP/2.0/UDP a${' '.repeat(n)}b`),
    run: message,
  },
  {
    name: 'datagram: Via "a<45 000 spaces>b" at 10n',
    n: 4_500,
    make: (n) => datagram([], `SIP/2.0/UDP a${' '.repeat(n)}b`),
    run: message,
  },
  {
    name: 'datagram: header value "a<spaces>b"',
    n: 1_500,
    make: (n) => datagram([`Subject: a${' '.repeat(n)}b`]),
    run: message,
  },
  {
    name: 'datagram: header line without colon',
    n: 1_500,
    make: (n) => datagram(['X'.repeat(n)]),
    run: message,
  },
  {
    name: 'datagram: folded header, many continuation lines',
    n: 1_000,
    make: (n) => datagram([`Subject: a${'\r\n  b'.repeat(n)}`]),
    run: message,
  },
  {
    name: 'datagram: many Via values in one field',
    n: 40,
    make: (n) => datagram([], Array.from({ length: n }, (_, i) => `SIP/2.0/UDP h${i};branch=z9hG4bK${i}`).join(', ')),
    run: message,
  },
  {
    name: 'datagram: many short header fields (cap 256)',
    n: 24,
    make: (n) => datagram(Array.from({ length: n }, (_, i) => `X-H${i}: v`)),
    run: message,
  },
  {
    name: 'datagram: long quoted From display name',
    n: 1_500,
    make: (n) => datagram([]).toString('latin1').replace('From: <', `From: "${'a '.repeat(n / 2)}" <`),
    run: message,
  },
  {
    name: 'datagram: CSeq "1<spaces>!"',
    n: 1_500,
    make: (n) => datagram([]).toString('latin1').replace('CSeq: 1 OPTIONS', `CSeq: 1${' '.repeat(n)}!`),
    run: message,
  },
  {
    name: 'parseNameAddr: token display name, many words, no <',
    n: 4_500,
    make: (n) => `${'a '.repeat(n / 2)}sip:x@y`,
    run: (x) => parseNameAddr(str(x)),
  },
  {
    name: 'parseNameAddr: quoted display name full of escapes',
    n: 4_500,
    make: (n) => `"${'\\"'.repeat(n / 2)}" <sip:x@y>;tag=1`,
    run: (x) => parseNameAddr(str(x)),
  },
  {
    name: 'parseNameAddr: unterminated quote of blanks',
    n: 4_500,
    make: (n) => `"${' '.repeat(n)}`,
    run: (x) => parseNameAddr(str(x)),
  },
  {
    name: 'parseUri: long host label then "!"',
    n: 4_500,
    make: (n) => `sip:u@${'a'.repeat(n)}!`,
    run: (x) => parseUri(str(x)),
  },
  {
    name: 'parseUri: many host labels, trailing "-"',
    n: 2_000,
    make: (n) => `sip:u@${'a-a.'.repeat(n / 4)}-`,
    run: (x) => parseUri(str(x)),
  },
  {
    name: 'parseUri: long user part with bad escape',
    n: 4_500,
    make: (n) => `sip:${'%41'.repeat(n / 3)}%4@h`,
    run: (x) => parseUri(str(x)),
  },
  {
    name: 'parseParams: many ;p=v',
    n: 1_000,
    make: (n) => ';p=v'.repeat(n / 4) + ';=',
    run: (x) => parseParams(str(x)),
  },
  {
    name: 'parseCSeq: digits, blanks, no method',
    n: 4_500,
    make: (n) => `1${' '.repeat(n)}`,
    run: (x) => parseCSeq(str(x)),
  },
  {
    name: 'digest: many auth-params',
    n: 1_000,
    make: (n) => `Digest realm="r", nonce="n", ${'x=y, '.repeat(n / 5)}`,
    run: (x) => parseChallenge(str(x)),
  },
  {
    name: 'digest: blanks between params, no "="',
    n: 4_500,
    make: (n) => `Digest realm${' '.repeat(n)}x`,
    run: (x) => parseChallenge(str(x)),
  },
  {
    name: 'digest: long unquoted value',
    n: 4_500,
    make: (n) => `nonce=${'a'.repeat(n)}`,
    run: (x) => parseAuthParams(str(x)),
  },
  {
    name: 'stream framer: header bytes one at a time',
    n: 4_000,
    make: (n) => Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: ${'a'.repeat(n)}`),
    run: (x) => {
      const f = new StreamFramer();
      const b = buf(x);
      for (let i = 0; i < b.length; i++) f.push(b.subarray(i, i + 1));
      return f.buffered;
    },
  },
  {
    name: 'stream framer: Content-Length with blanks',
    n: 4_500,
    make: (n) => Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nl${' '.repeat(n)}:${' '.repeat(n)}x\r\n\r\n`),
    run: (x) => new StreamFramer().push(buf(x)),
  },
  {
    name: 'INFO dtmf-relay: newlines and blanks (body ≤ 512 read)',
    n: 4_500,
    make: (n) => `\n${' \n'.repeat(n / 2)}signal`,
    run: (x) => parseDtmfInfo('application/dtmf-relay', buf(x)),
  },
];
