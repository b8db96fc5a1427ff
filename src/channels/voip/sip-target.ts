/**
 * The SIP URI to call for a recipient's `sip` field: an extension ("201" → sip:201@<domain>),
 * "user@host" (→ sip:user@host), or a full sip:/sips: URI. Anything that could smuggle header
 * text into a request (spaces, CR/LF, <, >, quotes) is refused.
 */
import { SipParseError } from './sip/syntax/errors.js';
import { parseSipUriText } from './sip/syntax/uri.js';

export function sipTarget(sip: string, domain: string): string {
  const s = sip.trim();
  if (s === '' || s.length > 256) throw new SipParseError('empty or overlong SIP address');
  if (/[\s<>"\x00-\x1f\x7f]/.test(s)) throw new SipParseError('SIP address contains spaces or control characters');
  let uri: string;
  if (/^sips?:/i.test(s)) uri = s;
  else if (s.includes('@')) uri = `sip:${s}`;
  else {
    if (!/^[A-Za-z0-9+*#._\-]+$/.test(s)) throw new SipParseError(`bad extension "${s}"`);
    uri = `sip:${s.replace(/#/g, '%23')}@${domain}`;
  }
  const parsed = parseSipUriText(uri);
  if (parsed.headers !== undefined) throw new SipParseError('SIP address must not carry ?headers');
  return uri;
}

/**
 * RFC 3261 §26.2: a sips: URI must be reached over TLS on every hop. Returns why the address
 * cannot be used on this transport, or null when it can.
 */
export function insecureForSips(uri: string, transport: string): string | null {
  if (!/^sips:/i.test(uri)) return null;
  return transport.toLowerCase() === 'tls' ? null : `${uri} is a sips: address: it needs voip.transport tls (it is ${transport})`;
}

/**
 * A SIP address in a form to compare by: "201" (with the domain), "bob@host", "sip:bob@host",
 * "sips:bob@host:5061;transport=tls" all become "bob@host" (user as written, host lower-case;
 * scheme, port and parameters dropped). What a user's `sip` field and the From of a MESSAGE they
 * sent are matched by. Null when it is no usable SIP address.
 */
export function sipAddressKey(sip: string, domain: string): string | null {
  try {
    const u = parseSipUriText(sipTarget(sip, domain));
    return u.user === undefined ? null : `${u.user}@${u.host.toLowerCase()}`;
  } catch {
    return null;
  }
}
