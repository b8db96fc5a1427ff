/**
 * The one place requests and responses are put together (RFC 3261 §8.1.1, §8.2.6): every
 * request the UA sends (REGISTER, INVITE, the ACK for a 2xx, CANCEL, the ACK for a non-2xx,
 * BYE) and every response it gives goes through here, so header order and the constant
 * headers (Max-Forwards, User-Agent/Server, Allow) are the same everywhere. Pure.
 */
import { ALLOW, MAX_FORWARDS, USER_AGENT } from '../constants.js';
import { Headers, tagOf, toOf, type SipRequest, type SipResponse } from './message.js';

export interface RequestSpec {
  method: string;
  uri: string;
  /** Top (and only) Via: fresh for a new transaction, the INVITE's own for its CANCEL and non-2xx ACK. */
  via: string;
  routes?: readonly string[];
  from: string;
  to: string;
  callId: string;
  /** Sequence number; the method is appended (§8.1.1.5). */
  cseq: number;
  /** Contact header value, e.g. `<sip:200@192.0.2.1:5060>`. */
  contact?: string;
  /** Adds `Allow` with the methods we accept (dialog-creating requests and REGISTER). */
  allow?: boolean;
  /** Expires in seconds (REGISTER). */
  expires?: number;
  /** Authorization / Proxy-Authorization fields answering a challenge. */
  auth?: readonly (readonly [string, string])[];
  extra?: readonly (readonly [string, string])[];
  body?: Buffer;
  contentType?: string;
}

export function buildRequest(r: RequestSpec): SipRequest {
  const h = new Headers();
  h.add('Via', r.via);
  for (const route of r.routes ?? []) h.add('Route', route);
  h.add('Max-Forwards', String(MAX_FORWARDS));
  h.add('From', r.from);
  h.add('To', r.to);
  h.add('Call-ID', r.callId);
  h.add('CSeq', `${r.cseq} ${r.method}`);
  if (r.contact !== undefined) h.add('Contact', r.contact);
  h.add('User-Agent', USER_AGENT);
  if (r.expires !== undefined) h.add('Expires', String(r.expires));
  if (r.allow) h.add('Allow', ALLOW);
  for (const [n, v] of r.auth ?? []) h.add(n, v);
  for (const [n, v] of r.extra ?? []) h.add(n, v);
  const body = r.body ?? Buffer.alloc(0);
  if (body.length > 0 && r.contentType) h.add('Content-Type', r.contentType);
  return { type: 'request', method: r.method, uri: r.uri, headers: h, body };
}

export interface ResponseSpec {
  status: number;
  reason: string;
  /** The request's top Via as it goes back (with received/rport stamped). */
  topVia: string;
  /** Our To tag, added when the request's To has none and the response is not a 100. */
  toTag: string;
  /** Adds `Allow` (OPTIONS answers, 405, 501, 488). */
  allow?: boolean;
  extra?: readonly (readonly [string, string])[];
  body?: Buffer;
  contentType?: string;
}

/** §8.2.6: copies Via, From, To, Call-ID and CSeq from the request. */
export function buildResponse(req: SipRequest, r: ResponseSpec): SipResponse {
  const h = new Headers();
  req.headers.list('Via').forEach((v, i) => h.add('Via', i === 0 ? r.topVia : v));
  h.add('From', req.headers.get('From')!);
  let to = req.headers.get('To')!;
  if (r.status > 100 && tagOf(toOf(req)) === undefined) to += `;tag=${r.toTag}`;
  h.add('To', to);
  h.add('Call-ID', req.headers.get('Call-ID')!);
  h.add('CSeq', req.headers.get('CSeq')!);
  h.add('Server', USER_AGENT);
  if (r.allow) h.add('Allow', ALLOW);
  for (const [n, v] of r.extra ?? []) h.add(n, v);
  const body = r.body ?? Buffer.alloc(0);
  if (body.length > 0 && r.contentType) h.add('Content-Type', r.contentType);
  return { type: 'response', status: r.status, reason: r.reason, headers: h, body };
}
