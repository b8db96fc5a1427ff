import { describe, expect, it } from 'vitest';
import { buildSdpOffer, parseSdpAnswer, SdpError } from '../../../src/channels/voip/sdp.js';

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
