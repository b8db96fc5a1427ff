import { describe, expect, it } from 'vitest';
import { DigestClient, digestResponse, parseAuthParams, parseChallenge } from '../../../../src/channels/voip/sip/auth/digest.js';
import { ChallengeRound } from '../../../../src/channels/voip/sip/ua/challenge.js';
import { Headers, type SipResponse } from '../../../../src/channels/voip/sip/syntax/message.js';

describe('digest vectors', () => {
  it('RFC 2617 §3.5 example', () => {
    const ch = parseChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    expect(ch).toMatchObject({ realm: 'testrealm@host.com', algorithm: 'MD5', qop: ['auth', 'auth-int'], opaque: '5ccc069c403ebaf9f0171e9517f40e41' });
    const client = new DigestClient({ username: 'Mufasa', password: 'Circle Of Life' }, () => '0a4f113b');
    const header = client.authorize(ch, 'GET', '/dir/index.html');
    const p = parseAuthParams(header.replace(/^Digest /, ''));
    expect(p.get('response')).toBe('6629fae49393a05397450978507c4ef1');
    expect(p.get('nc')).toBe('00000001');
    expect(p.get('cnonce')).toBe('0a4f113b');
    expect(p.get('qop')).toBe('auth');
    expect(p.get('opaque')).toBe('5ccc069c403ebaf9f0171e9517f40e41');
    expect(p.get('uri')).toBe('/dir/index.html');
  });

  const rfc7616 = {
    username: 'Mufasa',
    password: 'Circle of Life',
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it('RFC 7616 §3.9.1 MD5', () => {
    expect(digestResponse({ ...rfc7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('RFC 7616 §3.9.1 SHA-256, through the challenge parser and client', () => {
    const ch = parseChallenge(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    expect(ch.algorithm).toBe('SHA-256');
    const header = new DigestClient({ username: 'Mufasa', password: 'Circle of Life' }, () => rfc7616.cnonce).authorize(ch, 'GET', '/dir/index.html');
    const p = parseAuthParams(header.replace(/^Digest /, ''));
    expect(p.get('response')).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    expect(p.get('algorithm')).toBe('SHA-256');
    expect(p.get('opaque')).toBe('FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
  });

  it('no qop (RFC 2069 compatibility): no nc/cnonce', () => {
    const ch = parseChallenge('Digest realm="asterisk",nonce="1234abcd"');
    const header = new DigestClient({ username: '200', password: 'pw' }).authorize(ch, 'REGISTER', 'sip:pbx');
    expect(header).not.toMatch(/nc=|cnonce=|qop=/);
    const p = parseAuthParams(header.slice(7));
    expect(p.get('response')).toBe(digestResponse({ algorithm: 'MD5', username: '200', password: 'pw', realm: 'asterisk', nonce: '1234abcd', method: 'REGISTER', uri: 'sip:pbx' }));
  });

  it('nc counts per nonce and restarts for a new nonce', () => {
    const client = new DigestClient({ username: 'u', password: 'p' }, () => 'c');
    const a = parseChallenge('Digest realm="r", nonce="n1", qop="auth"');
    const b = parseChallenge('Digest realm="r", nonce="n2", qop="auth"');
    const nc = (h: string) => parseAuthParams(h.slice(7)).get('nc');
    expect(nc(client.authorize(a, 'REGISTER', 'sip:x'))).toBe('00000001');
    expect(nc(client.authorize(a, 'REGISTER', 'sip:x'))).toBe('00000002');
    expect(nc(client.authorize(b, 'REGISTER', 'sip:x'))).toBe('00000001');
    expect(nc(client.authorize(a, 'REGISTER', 'sip:x'))).toBe('00000003');
  });

  it('rejects hostile or unsupported challenges with a clear error', () => {
    expect(() => parseChallenge('Basic realm="x"')).toThrow(/not a Digest/);
    expect(() => parseChallenge('Digest realm="x"')).toThrow(/nonce/);
    expect(() => parseChallenge('Digest realm="x", nonce="y", algorithm=SHA-512-256')).toThrow(/unsupported/);
    expect(() => parseChallenge('Digest realm="x, nonce="y"')).toThrow();
  });
});

describe('challenge rounds', () => {
  const challenge = (status: number, value: string): SipResponse => ({
    type: 'response',
    status,
    reason: status === 407 ? 'Proxy Authentication Required' : 'Unauthorized',
    headers: new Headers().add(status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate', value),
    body: Buffer.alloc(0),
  });

  it('answers the first challenge, fails on a second non-stale one, retries on stale=true', () => {
    const round = new ChallengeRound(new DigestClient({ username: 'u', password: 'p' }));
    const first = round.answer(challenge(401, 'Digest realm="r", nonce="a", qop="auth"'), 'REGISTER', 'sip:d');
    expect('headers' in first && first.headers[0]![0]).toBe('Authorization');
    const stale = round.answer(challenge(401, 'Digest realm="r", nonce="b", qop="auth", stale=true'), 'REGISTER', 'sip:d');
    expect('headers' in stale).toBe(true);
    const again = round.answer(challenge(401, 'Digest realm="r", nonce="c", qop="auth"'), 'REGISTER', 'sip:d');
    expect('error' in again && again.error).toMatch(/credentials rejected/);
  });

  it('407 is answered with Proxy-Authorization; SHA-256 preferred when both are offered', () => {
    const round = new ChallengeRound(new DigestClient({ username: 'u', password: 'p' }));
    const res = challenge(407, 'Digest realm="r", nonce="a", qop="auth", algorithm=MD5');
    res.headers.add('Proxy-Authenticate', 'Digest realm="r", nonce="a2", qop="auth", algorithm=SHA-256');
    const a = round.answer(res, 'INVITE', 'sip:201@d');
    expect('headers' in a).toBe(true);
    if ('headers' in a) {
      expect(a.headers).toHaveLength(1);
      expect(a.headers[0]![0]).toBe('Proxy-Authorization');
      expect(a.headers[0]![1]).toMatch(/algorithm=SHA-256/);
    }
  });
});
