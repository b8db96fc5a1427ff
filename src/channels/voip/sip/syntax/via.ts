/**
 * Via (RFC 3261 §20.42, §18.2.1; rport from RFC 3581):
 * `SIP / 2.0 / transport sent-by *( ; via-params )`, with LWS allowed around the slashes.
 */
import { SipParseError } from './errors.js';
import { formatParams, isToken, parseParams, type Params } from './lexer.js';
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

export function parseVia(value: string): Via {
  const m = /^SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*([^ \t;/]+)[ \t]+([^;]*?)[ \t]*(?:;(.*))?$/is.exec(value.trim());
  if (!m) throw new SipParseError(`malformed Via: ${clip(value)}`);
  const transport = m[1]!.toUpperCase();
  if (!isToken(transport)) throw new SipParseError(`bad Via transport: ${clip(value)}`);
  const sentBy = m[2]!.replace(/[ \t]*:[ \t]*/, ':');
  const { host, port } = parseHostPort(sentBy);
  const params = m[3] !== undefined ? parseParams(m[3]) : new Map<string, string | null>();
  for (const k of ['ttl', 'rport']) {
    const p = params.get(k);
    if (p !== undefined && p !== null && !/^\d{1,5}$/.test(p)) throw new SipParseError(`bad Via ${k}: ${clip(value)}`);
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
