/**
 * What a sipmsg MESSAGE says, and how a MESSAGE that arrives is read. Pure.
 *
 * Out: the alert's short text and the core's acknowledgement hint, as text/plain UTF-8. RFC 3428
 * §8 keeps a MESSAGE sent without congestion control under 1300 bytes; the text is cut (on a
 * character boundary, with an ellipsis) well below that so the hint always survives.
 * In: only text/plain bodies (any charset parameter naming UTF-8 or US-ASCII), bounded in size.
 */
import type { AlertView } from '../../core/model.js';
import { ACK_HINT } from '../../core/replies.js';
import { shortText } from '../../compose/texts.js';
import { parseSipUriText } from '../voip/sip/syntax/uri.js';
import { parseNameAddr } from '../voip/sip/syntax/name-addr.js';

/** Largest body we send: far under RFC 3428's 1300-byte limit for the whole request. */
export const MAX_OUT_BODY_BYTES = 700;
/** Largest body we read: a reply is a few characters; anything beyond this is refused with 413. */
export const MAX_IN_BODY_BYTES = 2048;

export const TEXT_PLAIN = 'text/plain;charset=UTF-8';

/** The MESSAGE body for an alert: "PROBLEM #42 Disk full | db1 | High | 03:07\nReply 1 to ack". */
export function messageBody(alert: AlertView, lang: string): string {
  const hint = `\n${ACK_HINT}`;
  const text = shortText(alert, lang).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' ').trim();
  const room = MAX_OUT_BODY_BYTES - Buffer.byteLength(hint);
  if (Buffer.byteLength(text) <= room) return text + hint;
  let cut = '';
  let used = Buffer.byteLength('…');
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (used + n > room) break;
    cut += ch;
    used += n;
  }
  return `${cut.trimEnd()}…${hint}`;
}

export type ReadBody = { ok: true; text: string } | { ok: false; status: number; reason: string };

/** Reads an incoming MESSAGE body: text/plain only, UTF-8 or US-ASCII, at most MAX_IN_BODY_BYTES. */
export function readBody(contentType: string | undefined, body: Buffer): ReadBody {
  const ct = (contentType ?? '').slice(0, 200).toLowerCase();
  const [type = '', ...params] = ct.split(';').map((p) => p.trim());
  if (type !== 'text/plain') return { ok: false, status: 415, reason: 'Unsupported Media Type' };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim() !== 'charset') continue;
    const cs = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    if (cs !== 'utf-8' && cs !== 'us-ascii' && cs !== 'utf8') return { ok: false, status: 415, reason: 'Unsupported Media Type' };
  }
  if (body.length > MAX_IN_BODY_BYTES) return { ok: false, status: 413, reason: 'Request Entity Too Large' };
  return { ok: true, text: body.toString('utf8').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' ') };
}

/**
 * The sender's address from a From header, as `sip:user@host` (port kept; parameters, headers and
 * display name dropped), or null when it is not a SIP URI.
 */
export function senderAddress(from: string | undefined): string | null {
  if (!from) return null;
  try {
    const uri = parseSipUriText(parseNameAddr(from).uri);
    if (uri.user === undefined) return null;
    return `${uri.scheme}:${uri.user}@${uri.host}${uri.port !== undefined ? `:${uri.port}` : ''}`;
  } catch {
    return null;
  }
}
