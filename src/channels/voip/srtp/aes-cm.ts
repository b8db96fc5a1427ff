/**
 * AES in Counter Mode as SRTP uses it (RFC 3711 §4.1.1), and the default key derivation
 * (§4.3, PRF = AES-CM keyed by the master key, key_derivation_rate 0). Pure: values in, values out.
 *
 * The SRTP counter is a 128-bit block whose low 16 bits count the blocks of one packet; the IV
 * always has those 16 bits zero and a packet (or derived key) needs far fewer than 2^16 blocks,
 * so OpenSSL's full-width big-endian counter ('aes-128-ctr') produces exactly the RFC keystream.
 */
import { createCipheriv } from 'node:crypto';

export const AES_BLOCK = 16;
/** Longest keystream one IV may produce: 2^16 blocks (the 16-bit block counter, RFC 3711 §4.1.1). */
export const MAX_KEYSTREAM = 0x10000 * AES_BLOCK;

/** SRTP/SRTCP key derivation labels (RFC 3711 §4.3.1 and §4.3.2). */
export const Label = {
  SrtpEncryption: 0x00,
  SrtpAuth: 0x01,
  SrtpSalt: 0x02,
  SrtcpEncryption: 0x03,
  SrtcpAuth: 0x04,
  SrtcpSalt: 0x05,
} as const;

function checkIv(iv: Uint8Array): void {
  if (iv.length !== AES_BLOCK) throw new RangeError(`AES-CM: IV must be 16 octets, got ${iv.length}`);
  if (iv[14] !== 0 || iv[15] !== 0) throw new RangeError('AES-CM: the low 16 bits of the IV are the block counter and must be zero');
}

/** XORs `data` with the AES-128-CM keystream for (key, iv); returns a new buffer. */
export function aesCmXor(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  if (key.length !== 16) throw new RangeError(`AES-CM: key must be 16 octets, got ${key.length}`);
  checkIv(iv);
  if (data.length > MAX_KEYSTREAM) throw new RangeError('AES-CM: more than 2^16 blocks under one IV');
  const c = createCipheriv('aes-128-ctr', key, iv);
  const out = c.update(data);
  c.final();
  return out;
}

/** The first `length` octets of the AES-128-CM keystream for (key, iv). */
export function aesCmKeystream(key: Uint8Array, iv: Uint8Array, length: number): Buffer {
  return aesCmXor(key, iv, Buffer.alloc(length));
}

/**
 * The session IV of RFC 3711 §4.1.1:
 *   IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)
 * with the 112-bit session salt k_s, the 32-bit SSRC and the 48-bit packet index i (for SRTCP:
 * the 31-bit SRTCP index).
 */
export function sessionIv(salt: Uint8Array, ssrc: number, index: number): Buffer {
  if (salt.length !== 14) throw new RangeError(`SRTP: session salt must be 14 octets, got ${salt.length}`);
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** 48) throw new RangeError(`SRTP: bad packet index ${index}`);
  const iv = Buffer.alloc(AES_BLOCK);
  Buffer.from(salt.buffer, salt.byteOffset, salt.length).copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const hi = Math.floor(index / 2 ** 32); // 16 bits
  const lo = index >>> 0;
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ hi, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ lo) >>> 0, 10);
  return iv;
}

/**
 * The key derivation function of RFC 3711 §4.3.1 with key_derivation_rate 0 (so "index DIV kdr"
 * is 0): x = (label || 0^48) XOR master_salt, then the first `length` octets of AES-CM under the
 * master key with IV x * 2^16.
 */
export function deriveKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number): Buffer {
  if (masterKey.length !== 16) throw new RangeError(`SRTP: master key must be 16 octets, got ${masterKey.length}`);
  if (masterSalt.length !== 14) throw new RangeError(`SRTP: master salt must be 14 octets, got ${masterSalt.length}`);
  if (!Number.isInteger(label) || label < 0 || label > 0xff) throw new RangeError(`SRTP: bad label ${label}`);
  const iv = Buffer.alloc(AES_BLOCK);
  Buffer.from(masterSalt.buffer, masterSalt.byteOffset, masterSalt.length).copy(iv, 0);
  // key_id = label (1 octet) || r (6 octets), right-aligned against the 14-octet salt: the label
  // lands on octet 7; r = 0 leaves octets 8..13 as they are.
  iv[7]! ^= label;
  return aesCmKeystream(masterKey, iv, length);
}

export interface SessionKeys {
  /** Session encryption key k_e (16 octets). */
  encryption: Buffer;
  /** Session authentication key k_a (20 octets for HMAC-SHA1). */
  auth: Buffer;
  /** Session salt k_s (14 octets). */
  salt: Buffer;
}

/** SRTP session keys (labels 0, 1, 2). */
export function deriveSrtpKeys(masterKey: Uint8Array, masterSalt: Uint8Array, authKeyLength = 20): SessionKeys {
  return {
    encryption: deriveKey(masterKey, masterSalt, Label.SrtpEncryption, 16),
    auth: deriveKey(masterKey, masterSalt, Label.SrtpAuth, authKeyLength),
    salt: deriveKey(masterKey, masterSalt, Label.SrtpSalt, 14),
  };
}

/** SRTCP session keys (labels 3, 4, 5). */
export function deriveSrtcpKeys(masterKey: Uint8Array, masterSalt: Uint8Array, authKeyLength = 20): SessionKeys {
  return {
    encryption: deriveKey(masterKey, masterSalt, Label.SrtcpEncryption, 16),
    auth: deriveKey(masterKey, masterSalt, Label.SrtcpAuth, authKeyLength),
    salt: deriveKey(masterKey, masterSalt, Label.SrtcpSalt, 14),
  };
}
