/** A SIP message (or one of its header fields) that does not follow RFC 3261's grammar. */
export class SipParseError extends Error {
  /** Status a UAS should answer with when the message was a request (400 unless stated). */
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'SipParseError';
    this.status = status;
  }
}
