/**
 * Keypresses sent as SIP INFO: application/dtmf-relay (`Signal=1\r\nDuration=160`, the Cisco
 * format Asterisk and most phones use) and application/dtmf (the digit alone). Scanned line by
 * line over at most 512 characters of body.
 */
const DIGITS = new Set('0123456789ABCDabcd*#');

export function parseDtmfInfo(contentType: string | undefined, body: Buffer): string | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8').slice(0, 512);
  let digit: string | undefined;
  if (type === 'application/dtmf-relay') {
    for (const line of text.split(/\r\n|\r|\n/)) {
      const eq = line.indexOf('=');
      if (eq < 0 || line.slice(0, eq).trim().toLowerCase() !== 'signal') continue;
      digit = line.slice(eq + 1).trim();
      break;
    }
  } else if (type === 'application/dtmf') {
    digit = text.trim();
  }
  return digit !== undefined && digit.length === 1 && DIGITS.has(digit) ? digit.toUpperCase() : null;
}
