/**
 * Via (RFC 3261 §20.42, §18.2.1; rport from RFC 3581):
 * `SIP / 2.0 / transport sent-by *( ; via-params )`, with LWS allowed around the slashes.
 */
import { SipParseError } from './errors.js';
import { formatParams, isToken, isWsp, parseParams, skipWsp, type Params } from './lexer.js';
import { clip, parseHostPort } from './uri.js';

export interface Via {
  /** Upper-case transport: UDP, TCP, TLS, SCTP, WS, or an extension token. */
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

/** Every branch we create starts with the RFC 3261 magic cookie. */
export const BRANCH_COOKIE = 'z9hG4bK';

/**
 * One via-parm, scanned left to right (each character looked at a bounded number of times):
 * `SIP LWS? / LWS? 2.0 LWS? / LWS? transport LWS sent-by [LWS? : LWS? port] LWS? [; params]`.
 */
export function parseVia(value: string): Via {
  const v = value.trim();
  const bad = (what = 'malformed Via'): SipParseError => new SipParseError(`${what}: ${clip(v)}`);
  let i = 0;
  const expect = (lit: string): void => {
    i = skipWsp(v, i);
    if (v.slice(i, i + lit.length).toUpperCase() !== lit) throw bad();
    i += lit.length;
  };
  expect('SIP');
  expect('/');
  expect('2.0');
  expect('/');
  i = skipWsp(v, i);
  const tStart = i;
  while (i < v.length && !isWsp(v[i]) && v[i] !== ';' && v[i] !== '/') i++;
  if (i === tStart) throw bad();
  const transport = v.slice(tStart, i).toUpperCase();
  if (!isToken(transport)) throw bad('bad Via transport');
  if (!isWsp(v[i])) throw bad();
  i = skipWsp(v, i);
  // sent-by: host (a name, IPv4, or [IPv6]) and an optional port, blanks allowed around ":".
  const hStart = i;
  if (v[i] === '[') {
    const close = v.indexOf(']', i);
    if (close < 0) throw bad('bad IPv6 reference in Via');
    i = close + 1;
  } else {
    while (i < v.length && !isWsp(v[i]) && v[i] !== ':' && v[i] !== ';') i++;
  }
  let sentBy = v.slice(hStart, i);
  i = skipWsp(v, i);
  if (v[i] === ':') {
    i = skipWsp(v, i + 1);
    const pStart = i;
    while (i < v.length && !isWsp(v[i]) && v[i] !== ';') i++;
    sentBy += ':' + v.slice(pStart, i);
    i = skipWsp(v, i);
  }
  if (i < v.length && v[i] !== ';') throw bad();
  const { host, port } = parseHostPort(sentBy);
  const params = i < v.length ? parseParams(v.slice(i + 1)) : new Map<string, string | null>();
  for (const k of ['ttl', 'rport']) {
    const p = params.get(k);
    if (p !== undefined && p !== null && !/^\d{1,5}$/.test(p)) throw bad(`bad Via ${k}`);
  }
  const via: Via = { transport, host, params };
  if (port !== undefined) via.port = port;
  return via;
}

export function formatVia(via: Via): string {
  return `SIP/2.0/${via.transport} ${via.host}${via.port !== undefined ? ':' + via.port : ''}${formatParams(via.params)}`;
}

export function viaBranch(via: Via): string | undefined {
  return via.params.get('branch') ?? undefined;
}
