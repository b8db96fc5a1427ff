/**
 * bench/adversarial sdp: the SDP answer parser (src/channels/voip/sdp.ts), the SDES a=crypto
 * codec and maskSdp (src/channels/voip/srtp/sdes.ts) on hostile bodies a far end (or anyone who
 * can answer an INVITE) controls. n is chosen so that 10n stays under the 64 KiB SDP limit:
 * above it the parser refuses at once, which would hide the cost of the matching itself.
 */
import { parseSdpAnswer } from '../../src/channels/voip/sdp.js';
import { maskSdp, parseCrypto } from '../../src/channels/voip/srtp/sdes.js';
import type { AdversarialCase } from './types.js';

const HEAD = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n';
const AUDIO = 'm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n';
const KEY = 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyBlbmNyeXB0';
const answer = (s: string | Buffer) => parseSdpAnswer(String(s), ['PCMU', 'PCMA'], { mode: 'optional', crypto: [] });

export const cases: AdversarialCase[] = [
  {
    // the classic /\s+$/ trap: a run of blanks that is not at the end of the line
    name: 'one line: blanks then a non-blank',
    n: 5000,
    make: (n) => `${HEAD}${AUDIO}a=x${' '.repeat(n)}y\r\n`,
    run: answer,
  },
  {
    name: 'one line of blanks only',
    n: 5000,
    make: (n) => `${HEAD}${AUDIO}a=x${' '.repeat(n)}\r\n`,
    run: answer,
  },
  {
    name: 'many attributes',
    n: 500,
    make: (n) => HEAD + AUDIO + 'a=x:y\r\n'.repeat(n),
    run: answer,
  },
  {
    name: 'many rtpmap attributes',
    n: 200,
    make: (n) => HEAD + AUDIO + 'a=rtpmap:96 X/8000\r\n'.repeat(n),
    run: answer,
  },
  {
    name: 'rtpmap: long name, long rate, bad tail',
    n: 2500,
    make: (n) => `${HEAD}${AUDIO}a=rtpmap:0 ${'P'.repeat(n)}/${'8'.repeat(n)}x\r\n`,
    run: answer,
  },
  {
    name: 'm= line with many formats and blanks',
    n: 1500,
    make: (n) => `${HEAD}m=audio 4000 RTP/AVP ${'0  '.repeat(n)}\r\na=rtpmap:0 PCMU/8000\r\n`,
    run: answer,
  },
  {
    name: 'c= line: blanks between fields',
    n: 5000,
    make: (n) => `v=0\r\nc=IN${' '.repeat(n)}IP4 192.0.2.1 x\r\nm=audio 4000 RTP/AVP 0\r\n`,
    run: answer,
  },
  {
    name: 'long a=crypto line in an answer',
    n: 5000,
    make: (n) => `${HEAD}${AUDIO}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${'A'.repeat(n)}\r\n`,
    run: answer,
  },
  {
    name: 'many a=crypto lines in an answer',
    n: 60,
    make: (n) => HEAD + AUDIO + `a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}\r\n`.repeat(n),
    run: answer,
  },
  {
    name: 'a=crypto value: blanks between tokens (parseCrypto)',
    n: 50,
    make: (n) => `1${' '.repeat(n)}AES_CM_128_HMAC_SHA1_80${' '.repeat(n)}${KEY}${' '.repeat(n)}WSH=64`,
    run: (s) => parseCrypto(String(s)),
  },
  {
    name: 'a=crypto value: many ";" key params (parseCrypto)',
    n: 150,
    make: (n) => `1 AES_CM_128_HMAC_SHA1_80 ${';'.repeat(n)}`,
    run: (s) => parseCrypto(String(s)),
  },
  {
    name: 'a=crypto value: long base64 with a bad tail (parseCrypto)',
    n: 150,
    make: (n) => `1 AES_CM_128_HMAC_SHA1_80 inline:${'A'.repeat(n)}==x`,
    run: (s) => parseCrypto(String(s)),
  },
  {
    name: 'maskSdp: many inline keys',
    n: 5000,
    make: (n) => `a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}\r\n`.repeat(Math.ceil(n / 60)),
    run: (s) => maskSdp(String(s)),
  },
  {
    name: 'maskSdp: one long inline key',
    n: 50000,
    make: (n) => `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${'A'.repeat(n)}`,
    run: (s) => maskSdp(String(s)),
  },
];
