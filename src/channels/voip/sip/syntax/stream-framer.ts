/**
 * Splits a byte stream (TCP) into SIP messages using Content-Length (RFC 3261 §18.3).
 * Pure state machine: push bytes, get complete message buffers back. CRLF keep-alives
 * (RFC 5626 §3.5.1 "double CRLF") between messages are skipped.
 *
 * Linear in the bytes pushed, however they are chunked: bytes are appended to a buffer that
 * grows by doubling, and the search for the blank line resumes where the last one stopped.
 */
import { SipParseError } from './errors.js';
import { findHeaderEnd, MAX_BODY_BYTES, MAX_HEADER_BYTES } from './parse.js';

export class StreamFramer {
  private store: Buffer = Buffer.alloc(0);
  /** Unconsumed bytes are store[start, end). */
  private start = 0;
  private end = 0;
  /** Offset (from start) up to which no header end was found. */
  private scanned = 0;

  /** `maxBodyBytes` bounds what one connection can make us hold (header section ≤ MAX_HEADER_BYTES). */
  constructor(private readonly maxBodyBytes = MAX_BODY_BYTES) {}

  /** Returns every complete message now available; throws SipParseError if the stream is unusable. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      while (this.start < this.end && (this.store[this.start] === 0x0d || this.store[this.start] === 0x0a)) {
        this.start++;
        this.scanned = 0;
      }
      if (this.start === this.end) break;
      const view = this.store.subarray(this.start, this.end);
      const end = findHeaderEnd(view, Math.max(0, this.scanned - 3));
      if (!end) {
        this.scanned = view.length;
        if (view.length > MAX_HEADER_BYTES) throw new SipParseError('header section too large on stream');
        break;
      }
      if (end.headerEnd > MAX_HEADER_BYTES) throw new SipParseError('header section too large on stream');
      const len = contentLength(view.toString('latin1', 0, end.headerEnd));
      if (len > this.maxBodyBytes) throw new SipParseError(`Content-Length ${len} too large`);
      const total = end.bodyStart + len;
      if (view.length < total) {
        this.scanned = end.headerEnd; // found again next time at once
        break;
      }
      out.push(Buffer.from(view.subarray(0, total)));
      this.start += total;
      this.scanned = 0;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }

  get buffered(): number {
    return this.end - this.start;
  }

  private append(chunk: Buffer): void {
    const live = this.end - this.start;
    if (this.end + chunk.length > this.store.length) {
      const need = live + chunk.length;
      if (need <= this.store.length && this.start >= live) {
        this.store.copy(this.store, 0, this.start, this.end); // compact in place
      } else {
        const grown = Buffer.allocUnsafe(Math.max(need, this.store.length * 2, 4096));
        this.store.copy(grown, 0, this.start, this.end);
        this.store = grown;
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
  }
}

/** The Content-Length (or compact "l") of a header section, scanned line by line. */
function contentLength(head: string): number {
  let value: string | undefined;
  let inCl = false;
  for (const raw of head.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (inCl) value = `${value ?? ''} ${line}`; // folded value
      continue;
    }
    inCl = false;
    if (value !== undefined) continue; // the first one counts; the parser checks the rest agree
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'content-length' || name === 'l') {
      inCl = true;
      value = line.slice(colon + 1);
    }
  }
  if (value === undefined) throw new SipParseError('Content-Length is required on a stream transport');
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v)) throw new SipParseError(`bad Content-Length: ${v.slice(0, 20)}`);
  return Number(v);
}
