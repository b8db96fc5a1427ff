/**
 * An alert that came over HTTP has no mail; the mail channel relays the "original message", so
 * one is written here: a plain RFC 5322 message with the subject and the text (UTF-8, base64).
 * Pure: values in, bytes out.
 */

function encodeWords(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  // RFC 2047: encoded words of at most 75 characters, split on character boundaries.
  const words: string[] = [];
  let chunk = '';
  for (const ch of s) {
    if (Buffer.byteLength(chunk + ch) > 45) { words.push(chunk); chunk = ''; }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

function headerValue(s: string, max = 900): string {
  return s.replace(/[\r\n\u0000-\u001f\u007f]+/g, ' ').slice(0, max).trim();
}

export function syntheticMail(opts: { from: string; subject: string; text: string; date: number; messageId: string; headers?: Record<string, string> }): Buffer {
  const body = Buffer.from(opts.text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  const lines = [
    `From: ${headerValue(opts.from, 200)}`,
    `Subject: ${encodeWords(headerValue(opts.subject))}`,
    `Date: ${new Date(opts.date).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${headerValue(opts.messageId, 200).replace(/[<>\s]/g, '')}>`,
    ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${encodeWords(headerValue(v))}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}\r\n`, 'latin1');
}
