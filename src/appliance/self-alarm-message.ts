/**
 * A self-alarm as an alert message: the ParsedAlert admission stores, and a small RFC 5322 message
 * as its raw form, so the mail relay forwards it like any alert mail. Pure.
 */
import type { ParsedAlert } from '../core/model.js';

/** One header value: no CR/LF or other controls (nothing in a channel's words can add a header), bounded, RFC 2047 when not ASCII. */
export function headerValue(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  let v = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (v.length > max) v = `${v.slice(0, max - 1)}…`;
  // eslint-disable-next-line no-control-regex
  if (/^[\u0020-\u007e]*$/.test(v)) return v;
  // Encoded words of at most 75 characters: base64 of ≤ 45 bytes each, split on character boundaries.
  const words: string[] = [];
  let chunk = '';
  for (const ch of v) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

export interface SelfAlarmMail {
  kind: 'problem' | 'resolved';
  key: string;
  summary: string;
  detail: string;
  hostname: string;
  to: string[];
  at: number;
}

/** Body lines are plain UTF-8 text, CRLF, no line over ~990 octets. */
function body(text: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ').split('\n');
  return lines.map((l) => (l.length > 900 ? `${l.slice(0, 899)}…` : l)).join('\r\n');
}

export function selfAlarmRaw(m: SelfAlarmMail): Buffer {
  const host = m.hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'alertline';
  const subject = m.kind === 'resolved' ? `Resolved: ${m.summary}` : m.summary;
  const id = `${m.kind}.${m.key.replace(/[^A-Za-z0-9.-]/g, '.')}.${m.at}@${host}`;
  const headers = [
    `From: Alertline <alertline@${host}>`,
    `To: ${m.to.length ? m.to.map((a) => headerValue(a, 254)).join(', ') : 'undisclosed-recipients:;'}`,
    `Subject: ${headerValue(subject)}`,
    `Date: ${rfc5322Date(m.at)}`,
    `Message-ID: <${id}>`,
    `X-Alertline-Problem: ${headerValue(m.key)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  const text = m.kind === 'resolved' ? `Resolved: the condition is over.\r\n\r\n${body(m.detail)}` : body(m.detail);
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${text}\r\n`, 'utf8');
}

export function selfAlarmParsed(m: SelfAlarmMail): ParsedAlert {
  const subject = (m.kind === 'resolved' ? `Resolved: ${m.summary}` : m.summary).replace(/\s+/g, ' ').slice(0, 300);
  return {
    kind: m.kind,
    subject,
    text: m.detail,
    host: m.hostname,
    severity: 'High',
    level: 'high',
    problemKey: m.key,
    sentence: subject,
    monitor: 'alertline',
    from: `alertline@${m.hostname}`,
  };
}
