/**
 * Turning a received mail into an alert: decoded subject and text (mailparser handles RFC 2047,
 * base64/quoted-printable, charsets, multipart; HTML becomes text when it is the only part), and
 * the fields monitors put in it (Zabbix Host/Severity/Original problem ID and In-Reply-To event id,
 * Alertmanager labels, Nagios Host/State), and the kind: problem, resolved or update.
 */
import { simpleParser, type AddressObject } from 'mailparser';
import type { ParsedAlert } from '../core/model.js';
import { alertKind, normalizeSubject } from '../core/subject.js';

export type { ParsedAlert };
export { alertKind, normalizeSubject };

const MAX_TEXT = 64 * 1024;

/** Zabbix In-Reply-To: <eventid.md5(sendto).mediatypeid.instanceid@zabbix.com> */
export function zabbixEventIdFromReference(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const m = /<?(\d+)\.[0-9a-f]{32}\.\d+\.[0-9a-z]+@zabbix\.com>?/i.exec(ref);
  return m?.[1];
}

function field(text: string, names: string[]): string | undefined {
  for (const name of names) {
    const re = new RegExp(`^[ \\t-]*${name}[ \\t]*[:=][ \\t]*(.+?)[ \\t]*$`, 'im');
    const m = re.exec(text);
    if (m && m[1]) return m[1].slice(0, 200);
  }
  return undefined;
}

function firstAddress(a: AddressObject | AddressObject[] | undefined): string | undefined {
  const o = Array.isArray(a) ? a[0] : a;
  return o?.value?.[0]?.address || undefined;
}

export async function parseAlertMail(raw: Buffer): Promise<ParsedAlert> {
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, maxHtmlLengthToParse: 512 * 1024 });
  const subject = (mail.subject ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim() || '(no subject)';
  let text = (mail.text ?? '').replace(/\r\n?/g, '\n');
  if (!text.trim() && typeof mail.html === 'string') text = htmlToText(mail.html);
  text = text.replace(/\u0000/g, '').slice(0, MAX_TEXT).trim();

  const inReplyTo = typeof mail.inReplyTo === 'string' ? mail.inReplyTo : undefined;
  const refs = Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [];
  const eventId =
    field(text, ['Original problem ID', 'Original event ID', 'Event ID']) ??
    zabbixEventIdFromReference(inReplyTo) ??
    refs.map(zabbixEventIdFromReference).find(Boolean);
  const host = field(text, ['Host', 'Hostname', 'instance']);
  const severity = field(text, ['Severity', 'severity', 'State']);
  const kind = alertKind(subject);
  const problemKey = eventId && /^\d+$/.test(eventId)
    ? `event:${eventId}`
    : `subject:${normalizeSubject(subject)}|${(host ?? '').toLowerCase()}`;
  return {
    kind, subject, text, problemKey,
    ...(host ? { host } : {}),
    ...(severity ? { severity } : {}),
    ...(eventId ? { eventId } : {}),
    ...(firstAddress(mail.from) ? { from: firstAddress(mail.from) } : {}),
    ...(mail.messageId ? { messageId: mail.messageId } : {}),
  };
}

/** Minimal HTML to text for HTML-only alerts: drops tags, scripts and styles, decodes entities. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<\/t[dh]>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n')
    .trim();
}
