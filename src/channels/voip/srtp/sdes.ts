/**
 * SDP Security Descriptions (RFC 4568) for SRTP: the `a=crypto` attribute.
 *
 *   a=crypto:<tag> <crypto-suite> <key-params> [<session-param> ...]
 *   key-params = key-param *(";" key-param)
 *   key-param  = "inline:" base64(master key || master salt) ["|" lifetime] ["|" mki-value ":" mki-length]
 *   lifetime   = ["2^"] 1*DIGIT
 *
 * Pure, apart from newCryptoOffer() which draws fresh keys from crypto.randomBytes. Every field is
 * bounded before it is examined and matched by scanning or by anchored patterns without nested
 * quantifiers, so a hostile line costs time linear in its length. Error messages never contain
 * key material.
 */
import { randomBytes } from 'node:crypto';
import { isSrtpSuite, SRTP_MAX_PACKETS, SRTP_SUITES, type MasterKey, type SrtpKeying, type SrtpPolicy, type SrtpSuite } from './srtp.js';

export interface SdesKeyParam {
  /** Master key (16 octets for the AES_CM_128 suites). */
  key: Buffer;
  /** Master salt (14 octets). */
  salt: Buffer;
  /** Packets this key may protect, when the line gives a lifetime. */
  lifetime?: number;
  /** MKI value and its length in octets, when the line gives one. */
  mki?: { value: bigint; length: number };
}

export interface SdesCrypto {
  /** 1..999999999; the answer repeats the tag of the offered line it accepts. */
  tag: number;
  suite: SrtpSuite;
  keys: SdesKeyParam[];
  /** Session parameters we accept (WSH=…, FEC_ORDER=FEC_SRTP), as written. */
  sessionParams: string[];
}

/** A well-formed line we cannot use (unknown suite, key method or session parameter). */
export interface SdesUnusable {
  tag: number;
  suite: string;
  reason: string;
}

export type ParsedCrypto = { usable: true; crypto: SdesCrypto } | { usable: false; unusable: SdesUnusable };

export class SdesError extends Error {
  constructor(message: string) {
    super(`SDES: ${message}`);
    this.name = 'SdesError';
  }
}

/** Longest a=crypto value we look at (RFC 4568 sets no limit; real lines are under 200 characters). */
export const MAX_CRYPTO_VALUE = 2048;
const MAX_KEY_PARAMS = 16;
const MAX_SESSION_PARAMS = 16;

const DIGITS = /^[0-9]+$/;
const SUITE_TOKEN = /^[A-Za-z0-9_]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function splitWs(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    const ws = c === 32 || c === 9;
    if (ws && start >= 0) {
      out.push(s.slice(start, i));
      start = -1;
    } else if (!ws && start < 0) {
      start = i;
    }
  }
  return out;
}

function parseLifetime(s: string): number {
  let n: number;
  if (s.startsWith('2^')) {
    const e = s.slice(2);
    if (e.length === 0 || e.length > 2 || !DIGITS.test(e)) throw new SdesError(`bad lifetime ${JSON.stringify(s)}`);
    n = 2 ** Number(e);
  } else {
    if (s.length === 0 || s.length > 16 || !DIGITS.test(s)) throw new SdesError(`bad lifetime ${JSON.stringify(s.slice(0, 20))}`);
    n = Number(s);
  }
  if (n < 1) throw new SdesError('lifetime must be at least 1 packet');
  return Math.min(n, SRTP_MAX_PACKETS); // the suite's maximum bounds any larger value
}

function parseMki(s: string): { value: bigint; length: number } {
  const colon = s.indexOf(':');
  const v = s.slice(0, colon);
  const l = s.slice(colon + 1);
  if (colon <= 0 || v.length > 40 || !DIGITS.test(v) || l.length === 0 || l.length > 3 || !DIGITS.test(l)) {
    throw new SdesError(`bad MKI ${JSON.stringify(s.slice(0, 50))}`);
  }
  const length = Number(l);
  if (length < 1 || length > 128) throw new SdesError(`MKI length ${length} out of range 1..128`);
  const value = BigInt(v);
  if (length < 17 && value >= 1n << BigInt(8 * length)) throw new SdesError(`MKI value does not fit in ${length} octets`);
  return { value, length };
}

function parseKeyParam(param: string, suite: SrtpSuite): SdesKeyParam | 'unknown-method' {
  const colon = param.indexOf(':');
  if (colon <= 0) throw new SdesError('key parameter without a key method');
  if (param.slice(0, colon).toLowerCase() !== 'inline') return 'unknown-method';
  const fields = param.slice(colon + 1).split('|');
  if (fields.length > 3) throw new SdesError('too many "|" fields in a key parameter');
  const keySalt = fields[0]!;
  const s = SRTP_SUITES[suite];
  const want = s.keyLength + s.saltLength;
  if (keySalt.length === 0 || keySalt.length > 4 * Math.ceil(want / 3) + 4 || !BASE64.test(keySalt)) {
    throw new SdesError(`the inline key of ${suite} is not base64 of ${want} octets`);
  }
  const raw = Buffer.from(keySalt, 'base64');
  if (raw.length !== want) throw new SdesError(`the inline key of ${suite} must be ${want} octets (key || salt), got ${raw.length}`);
  const out: SdesKeyParam = { key: raw.subarray(0, s.keyLength), salt: raw.subarray(s.keyLength) };
  const rest = fields.slice(1);
  if (rest.length === 2) {
    out.lifetime = parseLifetime(rest[0]!);
    out.mki = parseMki(rest[1]!);
  } else if (rest.length === 1) {
    if (rest[0]!.includes(':')) out.mki = parseMki(rest[0]!);
    else out.lifetime = parseLifetime(rest[0]!);
  }
  return out;
}

/**
 * Parses the value of one a=crypto attribute (the text after "a=crypto:"). Throws SdesError when
 * the line is malformed; returns `usable: false` for a well-formed line we cannot use (another
 * suite, key method or a session parameter that changes the transform, such as KDR or
 * UNENCRYPTED_SRTP), which the caller ignores.
 */
export function parseCrypto(value: string): ParsedCrypto {
  if (typeof value !== 'string') throw new SdesError('a=crypto value must be a string');
  if (value.length > MAX_CRYPTO_VALUE) throw new SdesError(`a=crypto line too long (${value.length} characters)`);
  const tokens = splitWs(value);
  if (tokens.length < 3) throw new SdesError('a=crypto needs a tag, a crypto suite and key parameters');
  if (tokens.length > 3 + MAX_SESSION_PARAMS) throw new SdesError('too many session parameters');
  const [tagText, suite, keyParams] = tokens as [string, string, string];
  if (tagText.length > 9 || !DIGITS.test(tagText)) throw new SdesError(`bad tag ${JSON.stringify(tagText.slice(0, 12))}`);
  const tag = Number(tagText);
  if (suite.length > 64 || !SUITE_TOKEN.test(suite)) throw new SdesError('bad crypto suite name');
  if (!isSrtpSuite(suite)) return { usable: false, unusable: { tag, suite, reason: `unsupported crypto suite ${suite}` } };

  const params = keyParams.split(';');
  if (params.length > MAX_KEY_PARAMS) throw new SdesError(`more than ${MAX_KEY_PARAMS} keys`);
  const keys: SdesKeyParam[] = [];
  for (const p of params) {
    const k = parseKeyParam(p, suite);
    if (k === 'unknown-method') return { usable: false, unusable: { tag, suite, reason: 'unsupported key method (only inline)' } };
    keys.push(k);
  }
  if (keys.length > 1) {
    // RFC 4568 §6.1: several keys need an MKI each, all of one length
    const len = keys[0]!.mki?.length;
    if (len === undefined || keys.some((k) => k.mki?.length !== len)) throw new SdesError('several keys need an MKI each, all of the same length');
    if (new Set(keys.map((k) => k.mki!.value)).size !== keys.length) throw new SdesError('two keys share one MKI');
  }

  const sessionParams: string[] = [];
  for (const sp of tokens.slice(3)) {
    const eq = sp.indexOf('=');
    const name = (eq < 0 ? sp : sp.slice(0, eq)).toUpperCase();
    const val = eq < 0 ? '' : sp.slice(eq + 1);
    if (name === 'WSH' && val.length > 0 && val.length <= 6 && DIGITS.test(val)) {
      sessionParams.push(sp); // window size hint: ours is at least as large as RFC 3711 asks
    } else if (name === 'FEC_ORDER' && val.toUpperCase() === 'FEC_SRTP') {
      sessionParams.push(sp); // the default order
    } else {
      // KDR, UNENCRYPTED_SRTP/SRTCP, UNAUTHENTICATED_SRTP, FEC_KEY, ...: a transform we do not implement
      return { usable: false, unusable: { tag, suite, reason: `unsupported session parameter ${name.slice(0, 32)}` } };
    }
  }
  return { usable: true, crypto: { tag, suite, keys, sessionParams } };
}

function formatLifetime(n: number): string {
  const e = Math.log2(n);
  return Number.isInteger(e) ? `2^${e}` : String(n);
}

/** The value of an a=crypto attribute for `c` (without "a=crypto:"). */
export function formatCrypto(c: SdesCrypto): string {
  if (!Number.isInteger(c.tag) || c.tag < 1 || c.tag > 999_999_999) throw new SdesError(`bad tag ${c.tag}`);
  if (!isSrtpSuite(c.suite)) throw new SdesError(`unsupported crypto suite ${JSON.stringify(c.suite)}`);
  if (c.keys.length === 0) throw new SdesError('a=crypto needs a key');
  const s = SRTP_SUITES[c.suite];
  const params = c.keys.map((k) => {
    if (k.key.length !== s.keyLength || k.salt.length !== s.saltLength) throw new SdesError(`${c.suite} needs a ${s.keyLength}-octet key and a ${s.saltLength}-octet salt`);
    let p = `inline:${Buffer.concat([k.key, k.salt]).toString('base64')}`;
    if (k.lifetime !== undefined) {
      if (!Number.isSafeInteger(k.lifetime) || k.lifetime < 1) throw new SdesError('bad lifetime');
      p += `|${formatLifetime(k.lifetime)}`;
    }
    if (k.mki) {
      if (!Number.isInteger(k.mki.length) || k.mki.length < 1 || k.mki.length > 128) throw new SdesError('bad MKI length');
      p += `|${k.mki.value}:${k.mki.length}`;
    }
    return p;
  });
  for (const sp of c.sessionParams) if (!/^[\x21-\x7e]+$/.test(sp)) throw new SdesError('bad session parameter');
  return [String(c.tag), c.suite, params.join(';'), ...c.sessionParams].join(' ');
}

/** Our offer: one a=crypto per suite (tags 1, 2, ...), each with its own fresh master key and salt. */
export function newCryptoOffer(suites: SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']): SdesCrypto[] {
  return suites.map((suite, i) => {
    const s = SRTP_SUITES[suite];
    return { tag: i + 1, suite, keys: [{ key: randomBytes(s.keyLength), salt: randomBytes(s.saltLength) }], sessionParams: [] };
  });
}

function mkiBytes(m: { value: bigint; length: number }): Buffer {
  const b = Buffer.alloc(m.length);
  let v = m.value;
  for (let i = m.length - 1; i >= 0 && v > 0n; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/** The SRTP policy one side's a=crypto line describes (for protecting with it or unprotecting what it protects). */
export function policyFor(c: SdesCrypto): SrtpPolicy {
  const mkiLength = c.keys[0]?.mki?.length ?? 0;
  const keys: MasterKey[] = c.keys.map((k) => ({
    key: k.key,
    salt: k.salt,
    ...(k.mki ? { mki: mkiBytes(k.mki) } : {}),
    ...(k.lifetime !== undefined ? { lifetime: k.lifetime } : {}),
  }));
  return { suite: c.suite, keys, mkiLength };
}

/** Keying for a media stream from our accepted a=crypto line and the answer's (RFC 4568 §6.1: each side sends under its own key). */
export function keyingFor(local: SdesCrypto, remote: SdesCrypto): SrtpKeying {
  if (local.suite !== remote.suite) throw new SdesError('offer and answer name different crypto suites');
  return { send: policyFor(local), receive: policyFor(remote) };
}

/**
 * The SDP with every inline key replaced by "***", for logs. Scans once; anything after
 * "inline:" up to the next "|", ";", blank or line end is key material.
 */
export function maskSdp(sdp: string): string {
  if (typeof sdp !== 'string') return sdp;
  const lower = sdp.toLowerCase();
  let out = '';
  let pos = 0;
  for (;;) {
    const at = lower.indexOf('inline:', pos);
    if (at < 0) break;
    const start = at + 7;
    let end = start;
    while (end < sdp.length) {
      const c = sdp.charCodeAt(end);
      if (c === 0x7c || c === 0x3b || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
      end++;
    }
    out += sdp.slice(pos, start) + '***';
    pos = end;
  }
  return out + sdp.slice(pos);
}
