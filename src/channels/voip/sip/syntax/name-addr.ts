/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1): the value of To, From,
 * Contact, Route, Record-Route. In the addr-spec form (no <>) any ";" starts a header parameter,
 * so a URI containing ";", "," or "?" must be in angle brackets (§20).
 */
import { SipParseError } from './errors.js';
import { formatParams, isToken, isWsp, parseParams, quote, readQuoted, type Params } from './lexer.js';
import { clip, parseUri } from './uri.js';

export interface NameAddr {
  displayName?: string;
  /** The URI text exactly as written (validated). */
  uri: string;
  params: Params;
}

export function parseNameAddr(value: string): NameAddr {
  const v = value.trim();
  if (v === '') throw new SipParseError('empty address');
  let i = 0;
  let displayName: string | undefined;
  if (v[0] === '"') {
    const q = readQuoted(v, 0);
    displayName = q.text;
    i = q.end;
    while (isWsp(v[i])) i++;
    if (v[i] !== '<') throw new SipParseError(`expected "<" after display name in ${clip(v)}`);
  } else {
    const lt = v.indexOf('<');
    if (lt >= 0) {
      const words = v.slice(0, lt).trim();
      if (words !== '') {
        for (const w of words.split(/[ \t]+/)) {
          if (!isToken(w)) throw new SipParseError(`display name must be tokens or quoted: ${clip(v)}`);
        }
        displayName = words;
      }
      i = lt;
    }
  }
  if (v[i] === '<') {
    const gt = v.indexOf('>', i);
    if (gt < 0) throw new SipParseError(`unterminated <URI> in ${clip(v)}`);
    const uri = v.slice(i + 1, gt);
    if (/\s/.test(uri)) throw new SipParseError(`white space inside <URI> in ${clip(v)}`);
    parseUri(uri);
    const rest = v.slice(gt + 1).trim();
    let params: Params = new Map();
    if (rest !== '') {
      if (rest[0] !== ';') throw new SipParseError(`junk after <URI> in ${clip(v)}`);
      params = parseParams(rest.slice(1));
    }
    const na: NameAddr = { uri, params };
    if (displayName !== undefined) na.displayName = displayName;
    return na;
  }
  // addr-spec form
  const semi = v.indexOf(';');
  const uri = (semi >= 0 ? v.slice(0, semi) : v).trim();
  if (/[\s,?]/.test(uri)) throw new SipParseError(`URI with "," "?" or spaces must be in <>: ${clip(v)}`);
  parseUri(uri);
  const params = semi >= 0 ? parseParams(v.slice(semi + 1)) : new Map<string, string | null>();
  return { uri, params };
}

export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName !== undefined && na.displayName !== '' ? quote(na.displayName) + ' ' : '';
  return `${dn}<${na.uri}>${formatParams(na.params)}`;
}
