/**
 * HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617, RFC 7616 for SHA-256).
 * Pure: challenges in, Authorization header values out. The random cnonce is injected.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SipParseError } from '../syntax/errors.js';
import { quote, readQuoted } from '../syntax/lexer.js';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** qop options offered by the server; empty means RFC 2069 compatibility (no qop). */
  qop: string[];
  stale: boolean;
  domain?: string;
}

/** Parses the value of WWW-Authenticate / Proxy-Authenticate: `Digest k=v, k="v", ...`. */
export function parseChallenge(value: string): DigestChallenge {
  let i = 0;
  while (i < value.length && isBlank(value[i]!)) i++;
  if (value.slice(i, i + 6).toLowerCase() !== 'digest' || !isBlank(value[i + 6] ?? '')) throw new SipParseError('not a Digest challenge');
  const params = parseAuthParams(value.slice(i + 7));
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) throw new SipParseError('Digest challenge without realm or nonce');
  const alg = (params.get('algorithm') ?? 'MD5').toUpperCase();
  const algorithm = ({ MD5: 'MD5', 'MD5-SESS': 'MD5-sess', 'SHA-256': 'SHA-256', 'SHA-256-SESS': 'SHA-256-sess' } as const)[alg as 'MD5'];
  if (!algorithm) throw new SipParseError(`unsupported digest algorithm ${alg.slice(0, 20)}`);
  const ch: DigestChallenge = {
    realm,
    nonce,
    algorithm,
    qop: (params.get('qop') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
  const opaque = params.get('opaque');
  if (opaque !== undefined) ch.opaque = opaque;
  const domain = params.get('domain');
  if (domain !== undefined) ch.domain = domain;
  return ch;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const TOKEN_CHARS = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!%*+`'~");

/** auth-param list: name=token or name="quoted", comma separated. One left-to-right scan. */
export function parseAuthParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const s = text;
  const skipBlanks = () => {
    while (i < s.length && isBlank(s[i]!)) i++;
  };
  while (i < s.length) {
    while (i < s.length && (isBlank(s[i]!) || s[i] === ',')) i++;
    if (i >= s.length) break;
    const nameStart = i;
    while (i < s.length && TOKEN_CHARS.has(s[i]!)) i++;
    if (i === nameStart) throw new SipParseError('malformed auth parameter');
    const name = s.slice(nameStart, i).toLowerCase();
    skipBlanks();
    if (s[i] !== '=') throw new SipParseError(`auth parameter ${name.slice(0, 40)} without value`);
    i++;
    skipBlanks();
    let value: string;
    if (s[i] === '"') {
      const q = readQuoted(s, i);
      value = q.text;
      i = q.end;
    } else {
      const valueStart = i;
      while (i < s.length && !isBlank(s[i]!) && s[i] !== ',') i++;
      value = s.slice(valueStart, i);
    }
    out.set(name, value);
  }
  return out;
}

function hashOf(alg: DigestAlgorithm): 'md5' | 'sha256' {
  return alg.startsWith('SHA-256') ? 'sha256' : 'md5';
}

function h(alg: DigestAlgorithm, s: string): string {
  return createHash(hashOf(alg)).update(s, 'utf8').digest('hex');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  /** "auth" or undefined (no qop). auth-int is not offered by SIP servers in practice. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

/** The request-digest (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1). */
export function digestResponse(d: DigestInput): string {
  let ha1 = h(d.algorithm, `${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) ha1 = h(d.algorithm, `${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = h(d.algorithm, `${d.method}:${d.uri}`);
  if (d.qop) return h(d.algorithm, `${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
  return h(d.algorithm, `${ha1}:${d.nonce}:${ha2}`);
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Answers challenges for one peer, keeping the nonce-count per nonce (RFC 2617 §3.2.2: nc
 * counts requests sent with the same nonce, so a reused nonce gets 00000002, ...).
 */
export class DigestClient {
  private counts = new Map<string, number>();

  constructor(
    private readonly creds: Credentials,
    private readonly cnonce: () => string = () => randomBytes(12).toString('hex'),
  ) {}

  /** Authorization / Proxy-Authorization value for this request. */
  authorize(ch: DigestChallenge, method: string, uri: string): string {
    const useQop = ch.qop.includes('auth') ? ('auth' as const) : undefined;
    if (ch.qop.length > 0 && !useQop) throw new Error(`server requires qop ${ch.qop.join(',')}, only auth is supported`);
    const parts: string[] = [
      `username=${quote(this.creds.username)}`,
      `realm=${quote(ch.realm)}`,
      `nonce=${quote(ch.nonce)}`,
      `uri=${quote(uri)}`,
    ];
    let nc: string | undefined;
    let cnonce: string | undefined;
    if (useQop || ch.algorithm.endsWith('-sess')) cnonce = this.cnonce();
    if (useQop) {
      const n = (this.counts.get(ch.nonce) ?? 0) + 1;
      this.counts.set(ch.nonce, n);
      if (this.counts.size > 64) this.counts.delete(this.counts.keys().next().value!);
      nc = n.toString(16).padStart(8, '0');
    }
    const input: DigestInput = { algorithm: ch.algorithm, username: this.creds.username, password: this.creds.password, realm: ch.realm, nonce: ch.nonce, method, uri };
    if (useQop) input.qop = useQop;
    if (nc !== undefined) input.nc = nc;
    if (cnonce !== undefined) input.cnonce = cnonce;
    parts.push(`response=${quote(digestResponse(input))}`, `algorithm=${ch.algorithm}`);
    if (cnonce !== undefined) parts.push(`cnonce=${quote(cnonce)}`);
    if (ch.opaque !== undefined) parts.push(`opaque=${quote(ch.opaque)}`);
    if (useQop) parts.push(`qop=auth`, `nc=${nc}`);
    return 'Digest ' + parts.join(', ');
  }
}
