/**
 * Splits a byte stream (TCP) into SIP messages using Content-Length (RFC 3261 §18.3).
 * Pure state machine: push bytes, get complete message buffers back. CRLF keep-alives
 * (RFC 5626 §3.5.1 "double CRLF") between messages are skipped.
 */
import { SipParseError } from './errors.js';
import { findHeaderEnd, MAX_BODY_BYTES, MAX_HEADER_BYTES } from './parse.js';

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  /** Returns every complete message now available; throws SipParseError if the stream is unusable. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      let i = 0;
      while (i < this.buf.length && (this.buf[i] === 0x0d || this.buf[i] === 0x0a)) i++;
      if (i > 0) this.buf = this.buf.subarray(i);
      if (this.buf.length === 0) break;
      const end = findHeaderEnd(this.buf);
      if (!end) {
        if (this.buf.length > MAX_HEADER_BYTES) throw new SipParseError('header section too large on stream');
        break;
      }
      const head = this.buf.toString('utf8', 0, end.headerEnd);
      const m = /(?:^|\n)(?:content-length|l)[ \t]*:[ \t]*(\S*)/i.exec(head);
      if (!m) throw new SipParseError('Content-Length is required on a stream transport');
      if (!/^\d{1,10}$/.test(m[1]!)) throw new SipParseError(`bad Content-Length: ${m[1]!.slice(0, 20)}`);
      const len = Number(m[1]);
      if (len > MAX_BODY_BYTES) throw new SipParseError(`Content-Length ${len} too large`);
      const total = end.bodyStart + len;
      if (this.buf.length < total) break;
      out.push(Buffer.from(this.buf.subarray(0, total)));
      this.buf = this.buf.subarray(total);
    }
    return out;
  }

  get buffered(): number {
    return this.buf.length;
  }
}
