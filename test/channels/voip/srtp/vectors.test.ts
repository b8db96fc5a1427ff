/**
 * SRTP primitives checked byte for byte against published test vectors:
 * - RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation), hex copied from the RFC;
 * - the reference packets of libsrtp's test/srtp_driver.c ("srtp_validate"), which SRTP stacks
 *   (libsrtp, used by baresip and Asterisk) interoperate with: AES_CM_128_HMAC_SHA1_80 with the
 *   RFC 3711 B.3 master key, SSRC 0xcafebabe, seq 0x1234, and an SRTCP packet with index 1.
 */
import { describe, expect, it } from 'vitest';
import { aesCmKeystream, deriveKey, deriveSrtcpKeys, deriveSrtpKeys, Label, sessionIv } from '../../../../src/channels/voip/srtp/aes-cm.js';
import { SrtpContext } from '../../../../src/channels/voip/srtp/srtp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RFC 3711 Appendix B.2: AES-CM keystream', () => {
  // Session Key 2B7E151628AED2A6ABF7158809CF4F3C, ROC 0, SEQ 0, SSRC 0,
  // session salt F0F1F2F3F4F5F6F7F8F9FAFBFCFD (shown "already shifted" as ...FCFD0000)
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const salt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');

  it('builds the IV from salt, SSRC and index as the RFC shows (offset F0F1...FCFD0000)', () => {
    expect(sessionIv(salt, 0, 0).toString('hex').toUpperCase()).toBe('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  });

  it('produces the keystream blocks of the 1044512-octet segment (65282 blocks)', () => {
    const ks = aesCmKeystream(key, sessionIv(salt, 0, 0), 1044512);
    const block = (counter: number) => ks.subarray(16 * counter, 16 * counter + 16).toString('hex').toUpperCase();
    // Counter F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000 .. 0002
    expect(block(0x0000)).toBe('E03EAD0935C95E80E166B16DD92B4EB4');
    expect(block(0x0001)).toBe('D23513162B02D0F72A43A2FE4A5F97AB');
    expect(block(0x0002)).toBe('41E95B3BB0A2E8DD477901E4FCA894C0');
    // Counter ...FEFF, ...FF00, ...FF01 (the last three blocks of the segment)
    expect(block(0xfeff)).toBe('EC8CDF7398607CB0F2D21675EA9EA1E4');
    expect(block(0xff00)).toBe('362B7C3C6773516318A077D7FC5073AE');
    expect(block(0xff01)).toBe('6A2CC3787889374FBEB4C81B17BA6C44');
    expect(ks.length / 16).toBe(65282);
  });

  it('refuses an IV whose block counter bits are not zero', () => {
    expect(() => aesCmKeystream(key, hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0001'), 16)).toThrow(/block counter/);
  });
});

describe('RFC 3711 Appendix B.3: key derivation', () => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');

  it('derives the cipher key (label 0x00)', () => {
    expect(deriveKey(masterKey, masterSalt, Label.SrtpEncryption, 16).toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
  });

  it('derives the cipher salt (label 0x02)', () => {
    expect(deriveKey(masterKey, masterSalt, Label.SrtpSalt, 14).toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
  });

  it('derives the 94-octet auth key (label 0x01), block by block', () => {
    const authKey = deriveKey(masterKey, masterSalt, Label.SrtpAuth, 94).toString('hex').toUpperCase();
    expect(authKey).toBe(
      [
        'CEBE321F6FF7716B6FD4AB49AF256A15',
        '6D38BAA48F0A0ACF3C34E2359E6CDBCE',
        'E049646C43D9327AD175578EF7227098',
        '6371C10C9A369AC2F94A8C5FBCDDDC25',
        '6D6E919A48B610EF17C2041E47403576',
        '6B68642C59BBFC2F34DB60DBDFB2',
      ].join(''),
    );
  });

  it('gives HMAC-SHA1 its 20-octet prefix of that auth key', () => {
    const k = deriveSrtpKeys(masterKey, masterSalt);
    expect(k.encryption.toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(k.salt.toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(k.auth.toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
    // SRTCP uses labels 3..5, so its keys differ from SRTP's
    const c = deriveSrtcpKeys(masterKey, masterSalt);
    expect(c.encryption.equals(k.encryption)).toBe(false);
    expect(c.auth.equals(k.auth)).toBe(false);
    expect(c.salt.equals(k.salt)).toBe(false);
  });
});

describe('libsrtp srtp_driver reference packets (AES_CM_128_HMAC_SHA1_80)', () => {
  const policy = () => new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', keys: [{ key: hex('e1f97a0d3e018be0d64fa32c06de4139'), salt: hex('0ec675ad498afeebb6960b3aabe6') }] });
  const rtpPlain = hex('800f1234decafbad cafebabe abababab abababababababab abababab');
  const srtp = hex('800f1234decafbad cafebabe 4e55dc4c e79978d88ca4d215 949d2402 b78d6acc99ea179b8dbb');
  const rtcpPlain = hex('81c8000bcafebabe abababababababab abababababababab');
  const srtcp = hex('81c8000bcafebabe 7128035be487b9bd bef89041f977a5a8 80000001 993e08cd54d6c1230798');

  it('protects the RTP packet to the reference SRTP bytes and back', () => {
    expect(policy().protectRtp(rtpPlain).toString('hex')).toBe(srtp.toString('hex'));
    const r = policy().unprotectRtp(srtp);
    expect(r.ok && r.packet.toString('hex')).toBe(rtpPlain.toString('hex'));
  });

  it('protects the second RTCP packet (SRTCP index 1, E set) to the reference SRTCP bytes and back', () => {
    const tx = policy();
    const first = tx.protectRtcp(rtcpPlain);
    expect(first.readUInt32BE(first.length - 14)).toBe(0x80000000); // RFC 3711 §3.4: the first index is 0
    expect(tx.protectRtcp(rtcpPlain).toString('hex')).toBe(srtcp.toString('hex'));
    const r = policy().unprotectRtcp(srtcp);
    expect(r.ok && r.packet.toString('hex')).toBe(rtcpPlain.toString('hex'));
  });

  it('refuses every truncation of the reference packets', () => {
    for (let len = srtp.length - 1; len > 0; len--) expect(policy().unprotectRtp(srtp.subarray(0, len)).ok).toBe(false);
    for (let len = srtcp.length - 1; len > 0; len--) expect(policy().unprotectRtcp(srtcp.subarray(0, len)).ok).toBe(false);
  });
});
