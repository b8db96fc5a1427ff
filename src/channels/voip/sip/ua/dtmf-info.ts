/**
 * Keypresses sent as SIP INFO: application/dtmf-relay (`Signal=1\r\nDuration=160`, the Cisco
 * format Asterisk and most phones use) and application/dtmf (the digit alone).
 */
export function parseDtmfInfo(contentType: string | undefined, body: Buffer): string | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8').slice(0, 512);
  let digit: string | undefined;
  if (type === 'application/dtmf-relay') {
    digit = /(?:^|[\r\n])\s*signal\s*=\s*([0-9A-Da-d*#])\s*(?:$|[\r\n])/i.exec(text)?.[1];
  } else if (type === 'application/dtmf') {
    digit = /^\s*([0-9A-Da-d*#])\s*$/.exec(text)?.[1];
  }
  return digit ? digit.toUpperCase() : null;
}
