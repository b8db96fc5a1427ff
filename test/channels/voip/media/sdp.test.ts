import { describe, expect, it } from 'vitest';
import { buildSdpOffer, parseSdpAnswer, SdpError } from '../../../../src/channels/voip/sdp.js';
import { newCryptoOffer } from '../../../../src/channels/voip/srtp/sdes.js';

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';

describe('buildSdpOffer', () => {
  it('offers PCMU, PCMA and telephone-event with ptime 20, sendrecv, CRLF line endings', () => {
    const sdp = buildSdpOffer({ sessionId: 1234567, sessionVersion: 1, address: '192.0.2.10', rtpPort: 10000, codecs: ['PCMU', 'PCMA'], telephoneEventPt: 101 });
    expect(sdp).toBe(
      crlf([
        'v=0',
        'o=alertline 1234567 1 IN IP4 192.0.2.10',
        's=Alertline',
        'c=IN IP4 192.0.2.10',
        't=0 0',
        'm=audio 10000 RTP/AVP 0 8 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-15',
        'a=ptime:20',
        'a=sendrecv',
      ]),
    );
    expect(sdp.replace(/\r\n/g, '')).not.toMatch(/\n/); // no bare LF anywhere
  });

  it('uses IP6 for an IPv6 address and keeps the configured codec order', () => {
    const sdp = buildSdpOffer({ sessionId: '42', sessionVersion: 7, address: '2001:db8::5', rtpPort: 10002, codecs: ['PCMA', 'PCMU'], telephoneEventPt: 96 });
    expect(sdp).toContain('o=alertline 42 7 IN IP6 2001:db8::5\r\n');
    expect(sdp).toContain('c=IN IP6 2001:db8::5\r\n');
    expect(sdp).toContain('m=audio 10002 RTP/AVP 8 0 96\r\n');
    expect(sdp).toContain('a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\n');
  });

  it('refuses values that would corrupt the SDP', () => {
    const base = { sessionId: 1, sessionVersion: 1, address: '192.0.2.10', rtpPort: 10000, codecs: ['PCMU' as const], telephoneEventPt: 101 };
    expect(() => buildSdpOffer({ ...base, address: '192.0.2.10\r\na=inactive' })).toThrow(SdpError);
    expect(() => buildSdpOffer({ ...base, address: 'pbx.example.com' })).toThrow(/IP address/);
    expect(() => buildSdpOffer({ ...base, rtpPort: 70000 })).toThrow(/port/);
    expect(() => buildSdpOffer({ ...base, codecs: [] })).toThrow(/codec/);
    expect(() => buildSdpOffer({ ...base, codecs: ['G729' as 'PCMU'] })).toThrow(/codec/);
    expect(() => buildSdpOffer({ ...base, sessionId: '1 2' })).toThrow(/sessionId/);
    expect(() => buildSdpOffer({ ...base, telephoneEventPt: 8 })).toThrow(/telephoneEventPt/);
  });

  it('round-trips through parseSdpAnswer', () => {
    const sdp = buildSdpOffer({ sessionId: 1, sessionVersion: 1, address: '192.0.2.10', rtpPort: 10000, codecs: ['PCMA', 'PCMU'], telephoneEventPt: 101 });
    expect(parseSdpAnswer(sdp, ['PCMU', 'PCMA'])).toEqual({
      address: '192.0.2.10', port: 10000, rtcpPort: 10001, codec: 'PCMA', payloadType: 8, telephoneEventPt: 101, telephoneEventPts: [101], direction: 'sendrecv', ptime: 20,
    });
  });
});

describe('parseSdpAnswer', () => {
  it('parses an Asterisk-style answer', () => {
    const answer = crlf([
      'v=0',
      'o=- 1718293405 1718293406 IN IP4 192.168.1.10',
      's=Asterisk',
      'c=IN IP4 192.168.1.10',
      't=0 0',
      'm=audio 14820 RTP/AVP 0 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      'a=maxptime:150',
      'a=sendrecv',
    ]);
    expect(parseSdpAnswer(answer, ['PCMU', 'PCMA'])).toEqual({
      address: '192.168.1.10', port: 14820, rtcpPort: 14821, codec: 'PCMU', payloadType: 0, telephoneEventPt: 101, telephoneEventPts: [101], direction: 'sendrecv', ptime: 20,
    });
  });

  it('parses a sipp-style answer (static PT, no telephone-event, LF line endings)', () => {
    const answer = ['v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\n');
    const a = parseSdpAnswer(answer, ['PCMU', 'PCMA']);
    expect(a).toEqual({ address: '127.0.0.1', port: 6000, rtcpPort: 6001, codec: 'PCMU', payloadType: 0, telephoneEventPts: [], direction: 'sendrecv' });
    expect(a.telephoneEventPt).toBeUndefined();
  });

  it('understands static payload types without rtpmap and names in any case', () => {
    expect(parseSdpAnswer(crlf(['v=0', 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 8']), ['PCMU', 'PCMA'])).toMatchObject({ codec: 'PCMA', payloadType: 8 });
    expect(parseSdpAnswer(crlf(['v=0', 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 97 98', 'a=rtpmap:97 pcma/8000', 'a=rtpmap:98 Telephone-Event/8000']), ['PCMU', 'PCMA'])).toMatchObject({
      codec: 'PCMA',
      payloadType: 97,
      telephoneEventPt: 98,
    });
  });

  it('picks the answer’s first format that we offered', () => {
    const sdp = crlf(['v=0', 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 18 8 0 101', 'a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000']);
    expect(parseSdpAnswer(sdp, ['PCMU', 'PCMA'])).toMatchObject({ codec: 'PCMA', payloadType: 8 });
    expect(parseSdpAnswer(sdp, ['PCMU'])).toMatchObject({ codec: 'PCMU', payloadType: 0 });
  });

  it('lets a media-level c= override the session-level one', () => {
    const sdp = crlf(['v=0', 'o=- 1 1 IN IP4 203.0.113.1', 's=-', 'c=IN IP4 203.0.113.1', 't=0 0', 'm=audio 30000 RTP/AVP 0', 'c=IN IP4 198.51.100.7']);
    expect(parseSdpAnswer(sdp, ['PCMU']).address).toBe('198.51.100.7');
  });

  it('accepts c=IN IP6', () => {
    const sdp = crlf(['v=0', 'o=- 1 1 IN IP6 2001:db8::1', 's=-', 'c=IN IP6 2001:db8::1', 't=0 0', 'm=audio 30000 RTP/AVP 8 101', 'a=rtpmap:101 telephone-event/8000']);
    expect(parseSdpAnswer(sdp, ['PCMA'])).toMatchObject({ address: '2001:db8::1', port: 30000, codec: 'PCMA', telephoneEventPt: 101 });
  });

  it('uses a=rtcp, a=ptime and the direction attribute (media level over session level)', () => {
    const sdp = crlf(['v=0', 'c=IN IP4 10.0.0.1', 'a=sendonly', 'm=audio 4000 RTP/AVP 0', 'a=rtcp:4005 IN IP4 10.0.0.1', 'a=ptime:30']);
    expect(parseSdpAnswer(sdp, ['PCMU'])).toMatchObject({ rtcpPort: 4005, ptime: 30, direction: 'sendonly' });
    const sdp2 = crlf(['v=0', 'c=IN IP4 10.0.0.1', 'a=sendonly', 'm=audio 4000 RTP/AVP 0', 'a=recvonly']);
    expect(parseSdpAnswer(sdp2, ['PCMU']).direction).toBe('recvonly');
    // c=0.0.0.0 is the old way to put a call on hold
    expect(parseSdpAnswer(crlf(['v=0', 'c=IN IP4 0.0.0.0', 'm=audio 4000 RTP/AVP 0']), ['PCMU']).direction).toBe('inactive');
  });

  it('collects every telephone-event payload type of the answer', () => {
    const sdp = crlf(['v=0', 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 0 96 101', 'a=rtpmap:96 telephone-event/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:102 telephone-event/8000']);
    // 102 is mapped but not listed on the m= line: not part of the stream
    expect(parseSdpAnswer(sdp, ['PCMU'])).toMatchObject({ telephoneEventPt: 96, telephoneEventPts: [96, 101] });
  });

  it('rejects answers we cannot use, with a clear reason', () => {
    const ok = ['v=0', 'c=IN IP4 10.0.0.1', 't=0 0'];
    expect(() => parseSdpAnswer(crlf([...ok, 'm=audio 4000 RTP/AVP 18', 'a=rtpmap:18 G729/8000']), ['PCMU', 'PCMA'])).toThrow(/no common codec/);
    expect(() => parseSdpAnswer(crlf([...ok, 'm=audio 4000 RTP/AVP 0']), ['PCMA'])).toThrow(/no common codec/);
    expect(() => parseSdpAnswer(crlf([...ok, 'm=audio 0 RTP/AVP 0']), ['PCMU'])).toThrow(/rejected/);
    expect(() => parseSdpAnswer(crlf(['v=0', 't=0 0', 'm=audio 4000 RTP/AVP 0']), ['PCMU'])).toThrow(/c= connection/);
    expect(() => parseSdpAnswer(crlf([...ok, 'm=audio 4000 RTP/SAVP 0']), ['PCMU'])).toThrow(/transport/);
    expect(() => parseSdpAnswer(crlf([...ok, 'm=video 4000 RTP/AVP 31']), ['PCMU'])).toThrow(/not audio/);
    expect(() => parseSdpAnswer(crlf(ok), ['PCMU'])).toThrow(/no m= line/);
    expect(() => parseSdpAnswer(crlf([...ok, 'm=audio port RTP/AVP 0']), ['PCMU'])).toThrow(/m= port/);
    expect(() => parseSdpAnswer(crlf([...ok, 'm=audio 4000 RTP/AVP 0', 'garbage']), ['PCMU'])).toThrow(/malformed line/);
    expect(() => parseSdpAnswer(crlf(['v=0', 'c=IN IP4 pbx.example.com', 'm=audio 4000 RTP/AVP 0']), ['PCMU'])).toThrow(/IP literal/);
    expect(() => parseSdpAnswer(crlf(['v=0', 'c=IN IP4 2001:db8::1', 'm=audio 4000 RTP/AVP 0']), ['PCMU'])).toThrow(/does not match/);
    expect(() => parseSdpAnswer('', ['PCMU'])).toThrow(/empty/);
    expect(() => parseSdpAnswer('HTTP/1.1 200 OK\r\n', ['PCMU'])).toThrow(/v=0/);
    expect(() => parseSdpAnswer('v=0\r\n' + 'a=x\r\n'.repeat(20000), ['PCMU'])).toThrow(/too large/);
  });

  it('throws only SdpError on mangled input', () => {
    const good = crlf(['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=rtcp:4001']);
    for (let i = 0; i < 3000; i++) {
      const chars = good.split('');
      for (let k = 0; k < 3; k++) chars[Math.floor(Math.random() * chars.length)] = String.fromCharCode(Math.floor(Math.random() * 128));
      try {
        parseSdpAnswer(chars.join(''), ['PCMU', 'PCMA']);
      } catch (err) {
        expect(err).toBeInstanceOf(SdpError);
      }
    }
  });
});

describe('SDP with SRTP (SDES, RFC 4568)', () => {
  const base = { sessionId: 1, sessionVersion: 1, address: '192.0.2.10', rtpPort: 10000, codecs: ['PCMU' as const], telephoneEventPt: 101 };
  const ours = newCryptoOffer();
  const theirKey = Buffer.alloc(30, 7).toString('base64');
  const answer = (proto: string, ...extra: string[]) =>
    crlf(['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', `m=audio 4000 ${proto} 0 101`, 'a=rtpmap:101 telephone-event/8000', ...extra]);

  it('required: offers RTP/SAVP with one a=crypto per suite', () => {
    const sdp = buildSdpOffer({ ...base, srtp: 'required', crypto: ours });
    expect(sdp).toContain('m=audio 10000 RTP/SAVP 0 101\r\n');
    expect(sdp).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.concat([ours[0]!.keys[0]!.key, ours[0]!.keys[0]!.salt]).toString('base64')}\r\n`);
    expect(sdp).toContain('a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:');
  });

  it('optional: offers RTP/AVP with a=crypto (opportunistic SRTP); off: no a=crypto', () => {
    const opt = buildSdpOffer({ ...base, srtp: 'optional', crypto: ours });
    expect(opt).toContain('m=audio 10000 RTP/AVP 0 101\r\n');
    expect(opt.match(/^a=crypto:/gm)).toHaveLength(2);
    const off = buildSdpOffer({ ...base, srtp: 'off', crypto: ours });
    expect(off).not.toContain('a=crypto');
    expect(off).toBe(buildSdpOffer(base));
    expect(() => buildSdpOffer({ ...base, srtp: 'required' })).toThrow(/a=crypto key/);
  });

  it('takes the answer\'s key for the tag it accepted, and keeps ours for sending', () => {
    const a = parseSdpAnswer(answer('RTP/SAVP', `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${theirKey}`), ['PCMU'], { mode: 'required', crypto: ours });
    expect(a.srtp?.suite).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(a.srtp?.tag).toBe(2);
    expect(a.srtp?.local).toBe(ours[1]);
    expect(a.srtp?.remote.keys[0]!.key.equals(Buffer.alloc(16, 7))).toBe(true);
  });

  it('required: refuses an answer without usable crypto, or in RTP/AVP', () => {
    const req = { mode: 'required' as const, crypto: ours };
    expect(() => parseSdpAnswer(answer('RTP/SAVP'), ['PCMU'], req)).toThrow(/SRTP is required/);
    expect(() => parseSdpAnswer(answer('RTP/AVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}`), ['PCMU'], req)).toThrow(/RTP\/AVP/);
    // a tag we never offered, or our tag with another suite, does not count
    expect(() => parseSdpAnswer(answer('RTP/SAVP', `a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}`), ['PCMU'], req)).toThrow(/SRTP is required/);
    expect(() => parseSdpAnswer(answer('RTP/SAVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${theirKey}`), ['PCMU'], req)).toThrow(/SRTP is required/);
    // an unknown suite is ignored, not an error
    expect(() => parseSdpAnswer(answer('RTP/SAVP', 'a=crypto:1 AEAD_AES_128_GCM inline:abc'), ['PCMU'], req)).toThrow(/SRTP is required/);
  });

  it('optional: SRTP when the answer carries crypto, plain RTP when it does not', () => {
    const opt = { mode: 'optional' as const, crypto: ours };
    expect(parseSdpAnswer(answer('RTP/AVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}`), ['PCMU'], opt).srtp?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(parseSdpAnswer(answer('RTP/SAVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}`), ['PCMU'], opt).srtp?.tag).toBe(1);
    expect(parseSdpAnswer(answer('RTP/AVP'), ['PCMU'], opt).srtp).toBeUndefined();
    expect(() => parseSdpAnswer(answer('RTP/SAVP'), ['PCMU'], opt)).toThrow(/no a=crypto/);
  });

  it('off: RTP/SAVP is refused and a=crypto ignored', () => {
    expect(parseSdpAnswer(answer('RTP/AVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}`), ['PCMU']).srtp).toBeUndefined();
    expect(() => parseSdpAnswer(answer('RTP/SAVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}`), ['PCMU'])).toThrow(/transport/);
  });

  it('a malformed a=crypto is an SdpError that does not echo the key', () => {
    const bad = answer('RTP/SAVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}xyz`);
    let err: unknown;
    try {
      parseSdpAnswer(bad, ['PCMU'], { mode: 'required', crypto: ours });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SdpError);
    expect((err as Error).message).toMatch(/bad a=crypto/);
    expect((err as Error).message).not.toContain(theirKey.slice(0, 10));
    let err2: unknown;
    try {
      parseSdpAnswer(answer('RTP/SAVP', `A=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}`), ['PCMU'], { mode: 'required', crypto: ours });
    } catch (e) {
      err2 = e;
    }
    expect((err2 as Error).message).toMatch(/malformed line/);
    expect((err2 as Error).message).not.toContain(theirKey.slice(0, 10));
  });

  it('still parses blank-padded lines after the linear-scan rewrite', () => {
    const a = parseSdpAnswer(
      'v=0 \r\nc=IN  IP4\t10.0.0.1  \r\nt=0 0\r\nm=audio  4000 RTP/AVP  8  101 \r\na=rtpmap:8  PCMA/8000/1\r\na=rtpmap:101 telephone-event/8000 \r\na=rtcp:4001 IN IP4 10.0.0.1\n',
      ['PCMU', 'PCMA'],
    );
    expect(a).toMatchObject({ address: '10.0.0.1', port: 4000, rtcpPort: 4001, codec: 'PCMA', payloadType: 8, telephoneEventPt: 101 });
    expect(() => parseSdpAnswer(crlf(['v=0', 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/x']), ['PCMU'])).toThrow(/rtpmap/);
    expect(() => parseSdpAnswer(crlf(['v=0', 'c=IN IP4 10.0.0.1', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU']), ['PCMU'])).toThrow(/rtpmap/);
  });

  it('throws only SdpError on mangled SRTP answers', () => {
    const good = answer('RTP/SAVP', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${theirKey}|2^20|1:4`);
    for (let i = 0; i < 3000; i++) {
      const chars = good.split('');
      for (let k = 0; k < 3; k++) chars[Math.floor(Math.random() * chars.length)] = String.fromCharCode(Math.floor(Math.random() * 128));
      try {
        parseSdpAnswer(chars.join(''), ['PCMU'], { mode: 'optional', crypto: ours });
      } catch (err) {
        expect(err).toBeInstanceOf(SdpError);
      }
    }
  });
});
