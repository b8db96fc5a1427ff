/**
 * SIP-URI / SIPS-URI (RFC 3261 §19.1). Other schemes (tel:, urn:, http:) are kept opaque:
 * a UA must accept them in To/From/Contact even if it cannot route to them.
 */
import { SipParseError } from './errors.js';
import { formatParams, parseParams, type Params } from './lexer.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  /** userinfo before "@" without the password, still %-escaped; undefined if absent. */
  user?: string;
  password?: string;
  /** Host name, IPv4 address, or IPv6 reference written with brackets. */
  host: string;
  port?: number;
  params: Params;
  /** The "?" headers part, raw. */
  headers?: string;
}

export interface OpaqueUri {
  scheme: string;
  opaque: string;
}

const IPV6_RE = /^\[[0-9A-Fa-f:.]+\]$/;
const USER_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const PASSWORD_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ] with labels of letters, digits and inner
 * hyphens (IPv4 addresses fit the same shape). One pass over the characters.
 */
export function isHostname(h: string): boolean {
  const end = h.endsWith('.') ? h.length - 1 : h.length;
  if (end === 0) return false;
  let labelStart = 0;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? h.charCodeAt(i) : 46;
    if (c === 46) {
      if (i === labelStart || !isAlnum(h.charCodeAt(i - 1))) return false; // empty label or trailing "-"
      labelStart = i + 1;
    } else if (i === labelStart ? !isAlnum(c) : !(isAlnum(c) || c === 45)) {
      return false;
    }
  }
  return true;
}

export function isSipUri(u: SipUri | OpaqueUri): u is SipUri {
  return u.scheme === 'sip' || u.scheme === 'sips';
}

/** Parses any absolute URI; sip/sips get the full structure, others stay opaque. */
export function parseUri(text: string): SipUri | OpaqueUri {
  const m = /^([A-Za-z][A-Za-z0-9+\-.]*):(.+)$/s.exec(text);
  if (!m) throw new SipParseError(`not an absolute URI: ${clip(text)}`);
  const scheme = m[1]!.toLowerCase();
  if (/[\s<>"]/.test(text)) throw new SipParseError(`URI contains white space or delimiters: ${clip(text)}`);
  if (scheme !== 'sip' && scheme !== 'sips') return { scheme, opaque: m[2]! };
  return parseSipUri(scheme, m[2]!);
}

/** Parses a URI that must be sip: or sips:. */
export function parseSipUriText(text: string): SipUri {
  const u = parseUri(text);
  if (!isSipUri(u)) throw new SipParseError(`not a SIP URI: ${clip(text)}`);
  return u;
}

function parseSipUri(scheme: 'sip' | 'sips', rest: string): SipUri {
  let userinfo: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let headers: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    headers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  const hostport = semi >= 0 ? rest.slice(0, semi) : rest;
  const params = semi >= 0 ? parseParams(rest.slice(semi + 1)) : new Map<string, string | null>();
  const { host, port } = parseHostPort(hostport);
  const uri: SipUri = { scheme, host, params };
  if (port !== undefined) uri.port = port;
  if (headers !== undefined) uri.headers = headers;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (!USER_RE.test(user)) throw new SipParseError(`bad user part in URI: ${clip(user)}`);
    uri.user = user;
    if (colon >= 0) {
      const pw = userinfo.slice(colon + 1);
      if (!PASSWORD_RE.test(pw)) throw new SipParseError('bad password part in URI');
      uri.password = pw;
    }
  }
  return uri;
}

/** hostport = host [ ":" port ] with host a name, IPv4 or [IPv6]. */
export function parseHostPort(text: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new SipParseError(`bad IPv6 reference: ${clip(text)}`);
    host = text.slice(0, close + 1);
    const after = text.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new SipParseError(`junk after host: ${clip(text)}`);
      portText = after.slice(1);
    }
    if (!IPV6_RE.test(host)) throw new SipParseError(`bad IPv6 reference: ${clip(text)}`);
  } else {
    const colon = text.indexOf(':');
    host = colon >= 0 ? text.slice(0, colon) : text;
    if (colon >= 0) portText = text.slice(colon + 1);
    if (!isHostname(host)) throw new SipParseError(`bad host: ${clip(text)}`);
  }
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new SipParseError(`bad port: ${clip(text)}`);
  }
  return { host, port: Number(portText) };
}

export function formatUri(u: SipUri | OpaqueUri): string {
  if (!isSipUri(u)) return `${u.scheme}:${u.opaque}`;
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.user + (u.password !== undefined ? `:${u.password}` : '') + '@';
  s += u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  s += formatParams(u.params);
  if (u.headers !== undefined) s += `?${u.headers}`;
  return s;
}

/** Host without IPv6 brackets (what sockets want). */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function clip(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}
