import { describe, expect, it } from 'vitest';
import { formatCrypto, maskSdp, newCryptoOffer, parseCrypto, policyFor, SdesError, type SdesCrypto } from '../../../../src/channels/voip/srtp/sdes.js';
import { SrtpContext } from '../../../../src/channels/voip/srtp/srtp.js';
import { encodeRtp } from '../../../../src/channels/voip/rtp/packet.js';

// RFC 4568 §4's example line (key||salt of 30 octets)
const RFC_KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';

function usable(value: string): SdesCrypto {
  const r = parseCrypto(value);
  if (!r.usable) throw new Error(`unusable: ${r.unusable.reason}`);
  return r.crypto;
}

describe('parseCrypto', () => {
  it('parses the RFC 4568 example with lifetime and MKI', () => {
    const c = usable(`1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^20|1:4`);
    expect(c.tag).toBe(1);
    expect(c.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(c.keys).toHaveLength(1);
    const raw = Buffer.from(RFC_KEY, 'base64');
    expect(c.keys[0]!.key.equals(raw.subarray(0, 16))).toBe(true);
    expect(c.keys[0]!.salt.equals(raw.subarray(16))).toBe(true);
    expect(c.keys[0]!.lifetime).toBe(2 ** 20);
    expect(c.keys[0]!.mki).toEqual({ value: 1n, length: 4 });
    expect(policyFor(c).mkiLength).toBe(4);
    expect(Buffer.from(policyFor(c).keys[0]!.mki!)).toEqual(Buffer.from([0, 0, 0, 1]));
  });

  it('parses the forms Asterisk and baresip send (no lifetime/MKI; lifetime only; MKI only; _32)', () => {
    expect(usable(`1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}`).keys[0]).not.toHaveProperty('mki');
    expect(usable(`2 AES_CM_128_HMAC_SHA1_32 inline:${RFC_KEY}|2^31`).keys[0]!.lifetime).toBe(2 ** 31);
    expect(usable(`3 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1:1`).keys[0]!.mki).toEqual({ value: 1n, length: 1 });
    expect(usable(`4 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1048576`).keys[0]!.lifetime).toBe(1048576);
    expect(usable(`5  AES_CM_128_HMAC_SHA1_80\tinline:${RFC_KEY}  WSH=128 `).sessionParams).toEqual(['WSH=128']);
  });

  it('parses several keys told apart by MKI', () => {
    const c = usable(`1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^20|1:4;inline:${RFC_KEY}|2^20|2:4`);
    expect(c.keys.map((k) => k.mki!.value)).toEqual([1n, 2n]);
  });

  it('ignores (as unusable, not an error) other suites, key methods and transform-changing session parameters', () => {
    for (const [line, reason] of [
      [`1 F8_128_HMAC_SHA1_80 inline:${RFC_KEY}`, /suite/],
      ['1 AEAD_AES_256_GCM inline:whatever', /suite/],
      [`1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key`, /key method/],
      [`1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY} UNENCRYPTED_SRTP`, /session parameter UNENCRYPTED_SRTP/],
      [`1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY} KDR=0`, /session parameter KDR/],
      [`1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY} FEC_ORDER=SRTP_FEC`, /FEC_ORDER/],
    ] as const) {
      const r = parseCrypto(line);
      expect(r.usable, line).toBe(false);
      if (!r.usable) expect(r.unusable.reason).toMatch(reason);
    }
  });

  it('rejects malformed lines with SdesError, never echoing the key', () => {
    const bad = [
      '',
      '1 AES_CM_128_HMAC_SHA1_80',
      `x AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}`,
      `1234567890 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}`,
      `1 AES-CM inline:${RFC_KEY}`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY.slice(0, 36)}`, // 27 octets
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}AAAA`, // 33 octets
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY.slice(0, 20)}!${RFC_KEY.slice(21)}`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^x`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|0`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1:0`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1:129`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|256:1`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^20|1:4|x`,
      `1 AES_CM_128_HMAC_SHA1_80 ${RFC_KEY}`,
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY};inline:${RFC_KEY}`, // two keys, no MKI
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1:4;inline:${RFC_KEY}|1:4`, // same MKI
      `1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|1:4;inline:${RFC_KEY}|2:2`, // MKI lengths differ
      `1 AES_CM_128_HMAC_SHA1_80 inline:${'A'.repeat(3000)}`,
    ];
    for (const line of bad) {
      let err: unknown;
      try {
        parseCrypto(line);
      } catch (e) {
        err = e;
      }
      expect(err, line).toBeInstanceOf(SdesError);
      expect((err as Error).message).not.toContain(RFC_KEY.slice(0, 12));
    }
  });
});

describe('formatCrypto / newCryptoOffer', () => {
  it('offers fresh, distinct keys for both suites and formats lines that parse back', () => {
    const a = newCryptoOffer();
    const b = newCryptoOffer();
    expect(a.map((c) => [c.tag, c.suite])).toEqual([[1, 'AES_CM_128_HMAC_SHA1_80'], [2, 'AES_CM_128_HMAC_SHA1_32']]);
    expect(a[0]!.keys[0]!.key.equals(a[1]!.keys[0]!.key)).toBe(false);
    expect(a[0]!.keys[0]!.key.equals(b[0]!.keys[0]!.key)).toBe(false);
    for (const c of a) {
      const line = formatCrypto(c);
      expect(line).toMatch(/^\d AES_CM_128_HMAC_SHA1_(80|32) inline:[A-Za-z0-9+/]{40}$/);
      expect(usable(line)).toEqual(c);
    }
  });

  it('formats lifetime and MKI as RFC 4568 writes them', () => {
    const c = usable(`7 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^20|1:4`);
    expect(formatCrypto(c)).toBe(`7 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^20|1:4`);
  });

  it('the policy from one side\'s line unprotects what that side protected', () => {
    const [c] = newCryptoOffer(['AES_CM_128_HMAC_SHA1_32']);
    const line = formatCrypto(c!);
    const tx = new SrtpContext(policyFor(c!));
    const rx = new SrtpContext(policyFor(usable(line)));
    const pkt = encodeRtp({ marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: 9, payload: Buffer.alloc(160, 0xff) });
    const r = rx.unprotectRtp(tx.protectRtp(pkt));
    expect(r.ok && r.packet.equals(pkt)).toBe(true);
  });
});

describe('maskSdp', () => {
  it('hides every inline key and keeps the rest of the SDP', () => {
    const sdp = [
      'v=0',
      'm=audio 4000 RTP/SAVP 0',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${RFC_KEY}|2^20|1:4`,
      `a=crypto:2 AES_CM_128_HMAC_SHA1_32 INLINE:${RFC_KEY};inline:${RFC_KEY}|2:4`,
      'a=sendrecv',
      '',
    ].join('\r\n');
    const masked = maskSdp(sdp);
    expect(masked).not.toContain(RFC_KEY.slice(0, 8));
    expect(masked).toBe(
      [
        'v=0',
        'm=audio 4000 RTP/SAVP 0',
        'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:***|2^20|1:4',
        'a=crypto:2 AES_CM_128_HMAC_SHA1_32 INLINE:***;inline:***|2:4',
        'a=sendrecv',
        '',
      ].join('\r\n'),
    );
    expect(maskSdp('v=0\r\n')).toBe('v=0\r\n');
  });
});
