/** Property tests: hostile a=crypto values and SDP answers either parse or throw the codec's own error. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSdpAnswer, SdpError } from '../../../../src/channels/voip/sdp.js';
import { formatCrypto, maskSdp, newCryptoOffer, parseCrypto, SdesError } from '../../../../src/channels/voip/srtp/sdes.js';
import { SrtpContext } from '../../../../src/channels/voip/srtp/srtp.js';

const KEY = Buffer.alloc(30, 9).toString('base64');
const token = fc.oneof(
  fc.constantFrom('1', '2', '999999999', '0', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'F8_128_HMAC_SHA1_80', `inline:${KEY}`, 'inline:', '|', ';', ':', '2^', '2^31', '1:4', 'WSH=64', 'KDR=1', ' ', '\t', '='),
  fc.string({ maxLength: 12 }),
);
const cryptoValue = fc.array(token, { maxLength: 12 }).map((t) => t.join(''));

describe('fuzz: SDES and SDP answers', () => {
  it('parseCrypto returns a result or throws SdesError', () => {
    fc.assert(
      fc.property(cryptoValue, (v) => {
        try {
          const r = parseCrypto(v);
          if (r.usable) expect(parseCrypto(formatCrypto(r.crypto))).toEqual(r); // what parses, formats back
        } catch (e) {
          expect(e).toBeInstanceOf(SdesError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('parseSdpAnswer with SRTP returns an answer or throws SdpError', () => {
    const ours = newCryptoOffer();
    const line = fc.oneof(
      fc.constantFrom('v=0', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/SAVP 0 101', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', 'a=rtcp:4001'),
      cryptoValue.map((v) => `a=crypto:${v}`),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 14 }), fc.constantFrom('optional', 'required', 'off') as fc.Arbitrary<'optional' | 'required' | 'off'>, (lines, mode) => {
        try {
          parseSdpAnswer(['v=0', ...lines].join('\r\n'), ['PCMU', 'PCMA'], { mode, crypto: ours });
        } catch (e) {
          expect(e).toBeInstanceOf(SdpError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('maskSdp leaves no inline key of any a=crypto line', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }), (noise) => {
        const lines = newCryptoOffer().map((c) => `a=crypto:${formatCrypto(c)}`);
        const sdp = [...noise, ...lines, ...noise].join('\r\n');
        const masked = maskSdp(sdp);
        for (const l of lines) expect(masked).not.toContain(l.slice(l.indexOf('inline:') + 7, l.indexOf('inline:') + 47));
      }),
      { numRuns: 300 },
    );
  });

  it('unprotect never throws on arbitrary datagrams', () => {
    const [c] = newCryptoOffer();
    const rx = new SrtpContext({ suite: c!.suite, keys: [{ key: c!.keys[0]!.key, salt: c!.keys[0]!.salt }] });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const b = Buffer.from(bytes);
        expect(rx.unprotectRtp(b).ok).toBe(false);
        expect(rx.unprotectRtcp(b).ok).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });
});
