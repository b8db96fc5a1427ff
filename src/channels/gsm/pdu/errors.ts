/**
 * The one error type the PDU codec throws. Every malformed input (bad hex, truncated PDU,
 * invalid phone number, out-of-range option) ends up here with a message that says what was
 * wrong and where, so callers can log it and move on.
 */
export class PduError extends Error {
  override readonly name = 'PduError';
  constructor(message: string) {
    super(message);
  }
}

/** A short, printable rendering of untrusted input for error messages (no control bytes). */
export function describeInput(value: string, max = 40): string {
  const cut = value.length > max ? value.slice(0, max) + '…' : value;
  return JSON.stringify(cut);
}
