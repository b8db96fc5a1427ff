/**
 * Parses one SIP message from bytes (RFC 3261 §7, §25). Pure: bytes in, message out, or a
 * SipParseError saying what is wrong. Header folding is unfolded, names are case-insensitive,
 * compact forms are expanded, and the body is bounded by Content-Length.
 */
import { SipParseError } from './errors.js';
import { isToken, isWsp, trimWsp } from './lexer.js';
import { Headers, parseCSeq, type SipMessage } from './message.js';
import { parseNameAddr } from './name-addr.js';
import { clip, isSipUri, parseUri } from './uri.js';
import { parseVia } from './via.js';

/** A UDP datagram holds at most 65 535 bytes; a stream's header section gets the same bound. */
export const MAX_HEADER_BYTES = 65_536;
export const MAX_HEADER_FIELDS = 256;
/** One header field after unfolding (and the start line): far above any real one (RFC 4475 longreq ≈ 1 KB). */
export const MAX_FIELD_CHARS = 16_384;
export const MAX_BODY_BYTES = 1_048_576;

export interface ParseOptions {
  /**
   * Stream transports (TCP) frame messages by Content-Length, so it is mandatory there. On a
   * datagram transport a missing Content-Length means "the rest of the datagram" and octets
   * beyond Content-Length are discarded (§18.3).
   */
  stream?: boolean;
}

/** Index just after the blank line ending the header section, or -1 if not (yet) present. */
export function findHeaderEnd(data: Buffer, from = 0): { headerEnd: number; bodyStart: number } | null {
  const crlf = data.indexOf('\r\n\r\n', from, 'latin1');
  const lf = data.indexOf('\n\n', from, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerEnd: lf, bodyStart: lf + 2 };
  return null;
}

/** Strips SIP linear white space (SP, HTAB) only; String.trim would also eat a U+FEFF in a value. */
const trimLws = trimWsp;

/** Header lines, split on LF with an optional CR before it; any other CR is a bare CR (§7.3: not allowed). */
function headerLines(text: string): string[] {
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    let line = lines[k]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.includes('\r')) throw new SipParseError('bare CR in the header section');
    if (line.length > MAX_FIELD_CHARS) throw new SipParseError(`header line longer than ${MAX_FIELD_CHARS} characters`);
    lines[k] = line;
  }
  return lines;
}

export function parseMessage(data: Buffer, opts: ParseOptions = {}): SipMessage {
  let start = 0;
  // §7.5: CRLFs before the start line are ignored (keep-alives).
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
  if (start >= data.length) throw new SipParseError('empty message');
  const end = findHeaderEnd(data, start);
  if (!end) {
    if (data.length - start > MAX_HEADER_BYTES) throw new SipParseError('header section too large');
    throw new SipParseError('no blank line after the header section');
  }
  if (end.headerEnd - start > MAX_HEADER_BYTES) throw new SipParseError('header section too large');
  const lines = headerLines(data.toString('utf8', start, end.headerEnd));
  const startLine = lines.shift()!;

  const headers = new Headers();
  let current: string[] | null = null;
  let length = 0;
  let count = 0;
  const flush = () => {
    if (current === null) return;
    const field = current.length === 1 ? current[0]! : current.join(' ');
    current = null;
    const colon = field.indexOf(':');
    const name = colon < 0 ? '' : trimLws(field.slice(0, colon));
    if (colon < 0 || name !== field.slice(0, name.length) || !isToken(name)) {
      throw new SipParseError(`malformed header line: ${clip(field)}`);
    }
    if (++count > MAX_HEADER_FIELDS) throw new SipParseError('too many header fields');
    headers.add(name, trimLws(field.slice(colon + 1)));
  };
  for (const line of lines) {
    if (isWsp(line[0])) {
      if (current === null) throw new SipParseError('continuation line before any header');
      // LWS folding: CRLF + WSP is equivalent to one SP
      const piece = trimLws(line);
      length += piece.length + 1;
      if (length > MAX_FIELD_CHARS) throw new SipParseError(`header field longer than ${MAX_FIELD_CHARS} characters`);
      current.push(piece);
    } else {
      flush();
      current = [line];
      length = line.length;
    }
  }
  flush();

  const msg = parseStartLine(startLine, headers);
  validate(msg);
  // Body, bounded by Content-Length.
  const clValues = headers.getAll('Content-Length').map((v) => v.trim());
  let body: Buffer;
  if (clValues.length > 0) {
    if (clValues.some((v) => v !== clValues[0])) throw new SipParseError('conflicting Content-Length values');
    const cl = clValues[0]!;
    if (!/^\d{1,10}$/.test(cl)) throw new SipParseError(`bad Content-Length: ${clip(cl)}`);
    const n = Number(cl);
    if (n > MAX_BODY_BYTES) throw new SipParseError(`Content-Length ${n} too large`, 413);
    const available = data.length - end.bodyStart;
    if (available < n) throw new SipParseError(`body shorter than Content-Length (${available} < ${n})`);
    body = Buffer.from(data.subarray(end.bodyStart, end.bodyStart + n));
  } else {
    if (opts.stream) throw new SipParseError('Content-Length is required on a stream transport');
    body = Buffer.from(data.subarray(end.bodyStart));
  }
  msg.body = body;
  return msg;
}

function parseStartLine(line: string, headers: Headers): SipMessage {
  const body = Buffer.alloc(0);
  if (line.startsWith('SIP/')) {
    const m = /^SIP\/(\d+\.\d+) (\d{3}) ([^\r\n]*)$/.exec(line) ?? /^SIP\/(\d+\.\d+) (\d{3})()$/.exec(line);
    if (!m) throw new SipParseError(`malformed status line: ${clip(line)}`);
    if (m[1] !== '2.0') throw new SipParseError(`unsupported SIP version SIP/${m[1]}`, 505);
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw new SipParseError(`status code out of range: ${status}`);
    return { type: 'response', status, reason: m[3]!, headers, body };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (exactly one SP each, nothing after)
  const parts = line.split(' ');
  if (parts.length !== 3) throw new SipParseError(`malformed request line: ${clip(line)}`);
  const [method, uri, version] = parts as [string, string, string];
  if (!isToken(method)) throw new SipParseError(`bad method: ${clip(method)}`);
  const v = /^SIP\/(\d+\.\d+)$/.exec(version);
  if (!v) throw new SipParseError(`malformed request line: ${clip(line)}`);
  if (v[1] !== '2.0') throw new SipParseError(`unsupported SIP version ${version}`, 505);
  if (uri.startsWith('<')) throw new SipParseError('Request-URI must not be enclosed in <>');
  const u = parseUri(uri);
  if (isSipUri(u) && u.headers !== undefined) throw new SipParseError('Request-URI must not carry headers');
  return { type: 'request', method, uri, headers, body };
}

const RFC1123_GMT = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?:0[1-9]|[12]\d|3[01]) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d GMT$/;

/** §8.1.1 mandatory fields, each parsed so later accessors cannot fail on them. */
function validate(msg: SipMessage): void {
  const h = msg.headers;
  for (const name of ['Call-ID', 'CSeq', 'From', 'To']) {
    const all = h.getAll(name);
    if (all.length === 0) throw new SipParseError(`missing ${name}`);
    if (all.length > 1) throw new SipParseError(`more than one ${name}`);
  }
  if (h.get('Call-ID')!.trim() === '' || /\s/.test(h.get('Call-ID')!.trim())) throw new SipParseError('bad Call-ID');
  const vias = h.list('Via');
  if (vias.length === 0) throw new SipParseError('missing Via');
  for (const v of vias) parseVia(v);
  const cseq = parseCSeq(h.get('CSeq')!);
  if (msg.type === 'request' && cseq.method !== msg.method) {
    throw new SipParseError(`CSeq method ${cseq.method} does not match request method ${msg.method}`);
  }
  parseNameAddr(h.get('From')!);
  parseNameAddr(h.get('To')!);
  const contacts = h.list('Contact');
  if (!(contacts.length === 1 && contacts[0] === '*')) for (const c of contacts) parseNameAddr(c);
  for (const name of ['Route', 'Record-Route']) for (const r of h.list(name)) parseNameAddr(r);
  const mf = h.get('Max-Forwards');
  if (mf !== undefined && (!/^\d{1,10}$/.test(mf.trim()) || Number(mf) > 255)) throw new SipParseError(`bad Max-Forwards: ${clip(mf)}`);
  for (const name of ['Expires', 'Min-Expires']) {
    const e = h.get(name);
    if (e !== undefined && !/^\d+$/.test(e.trim())) throw new SipParseError(`bad ${name}: ${clip(e)}`);
  }
  const date = h.get('Date');
  if (date !== undefined && !RFC1123_GMT.test(date.trim())) throw new SipParseError(`bad Date (must be RFC 1123 in GMT): ${clip(date)}`);
  const ct = h.get('Content-Type');
  if (ct !== undefined && !/^[^\s/;]+\/[^\s/;]+/.test(ct.trim())) throw new SipParseError(`bad Content-Type: ${clip(ct)}`);
}

/** delta-seconds: values beyond 2^32-1 are taken as 2^32-1 (§20.19). */
export function parseDeltaSeconds(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new SipParseError(`bad delta-seconds: ${clip(v)}`);
  const n = Number(v.trim());
  return Math.min(n, 2 ** 32 - 1);
}
