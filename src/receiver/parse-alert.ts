/**
 * Turning a received mail into an alert. mailparser decodes it (RFC 2047, base64/quoted-printable,
 * charsets, multipart); an HTML-only mail is rendered to text with its structure kept
 * (monitors/html.ts); control characters and terminal escapes are stripped; the text is cut into
 * bounded lines; and the recogniser of the monitor that wrote it (monitors/index.ts: Zabbix,
 * Grafana, Alertmanager, Nagios, else generic) says what it means: kind, host, severity and its
 * level, the problem's stable identity, the sentence to speak, who acknowledged.
 *
 * Everything after mailparser is synchronous, pure and linear in the input (alertFromMail).
 */
import { simpleParser, type AddressObject } from 'mailparser';
import type { ParsedAlert } from '../core/model.js';
import { alertKind, cleanSubject, normalizeSubject } from '../core/subject.js';
import { recogniserFor, zabbixEventIdFromReference, type MailView } from './monitors/index.js';
import { htmlToText, MAX_HTML } from './monitors/html.js';
import { FieldIndex, boundedLines, levelOf, oneLine, stripControls } from './monitors/text.js';

export type { ParsedAlert };
export { alertKind, normalizeSubject, zabbixEventIdFromReference, htmlToText };

const MAX_TEXT = 64 * 1024;
const MAX_SUBJECT = 1000;
const MAX_KEY = 512;

/** The decoded parts of a mail that an alert is made from. */
export interface MailParts {
  subject?: string;
  /** text/plain content, when there is a text part. */
  text?: string;
  /** text/html content, when there is an HTML part. */
  html?: string;
  from?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
}

function firstAddress(a: AddressObject | AddressObject[] | undefined): string | undefined {
  const o = Array.isArray(a) ? a[0] : a;
  return o?.value?.[0]?.address || undefined;
}

export async function parseAlertMail(raw: Buffer): Promise<ParsedAlert> {
  const mail = await simpleParser(raw, {
    skipHtmlToText: true, // rendered here, with the nesting guard and our line-break rules
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    maxHtmlLengthToParse: MAX_HTML,
  });
  const refs = Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [];
  return alertFromMail({
    ...(mail.subject !== undefined ? { subject: mail.subject } : {}),
    ...(mail.text !== undefined ? { text: mail.text } : {}),
    ...(typeof mail.html === 'string' ? { html: mail.html } : {}),
    ...(firstAddress(mail.from) ? { from: firstAddress(mail.from)! } : {}),
    ...(mail.messageId ? { messageId: mail.messageId } : {}),
    ...(typeof mail.inReplyTo === 'string' ? { inReplyTo: mail.inReplyTo } : {}),
    references: refs,
  });
}

function isBlankText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0xa0) return false;
  }
  return true;
}

/** Normalises line ends (CRLF, CR → LF) in one pass. */
function lf(s: string): string {
  return s.indexOf('\r') < 0 ? s : s.replace(/\r\n?/g, '\n');
}

/** The alert a decoded mail announces. Pure, synchronous, linear in the input. */
export function alertFromMail(p: MailParts): ParsedAlert {
  const subject = oneLine(p.subject ?? '', MAX_SUBJECT) ?? '(no subject)';
  const html = p.html !== undefined ? (p.html.length > MAX_HTML ? p.html.slice(0, MAX_HTML) : p.html) : undefined;
  let text = p.text !== undefined ? lf(p.text.length > MAX_TEXT * 2 ? p.text.slice(0, MAX_TEXT * 2) : p.text) : '';
  let fromHtml = false;
  if (isBlankText(text) && html !== undefined) {
    text = htmlToText(html);
    fromHtml = true;
  }
  text = stripControls(text, true).slice(0, MAX_TEXT).trim();
  const lines = boundedLines(text);
  const view: MailView = {
    subject,
    text,
    lines,
    fields: new FieldIndex(lines),
    ...(html !== undefined ? { html } : {}),
    fromHtml,
    ...(p.from ? { from: p.from } : {}),
    ...(p.inReplyTo ? { inReplyTo: p.inReplyTo } : {}),
    references: p.references ?? [],
  };
  const rec = recogniserFor(view);
  const r = rec.parse(view);
  const host = oneLine(r.host);
  const severity = oneLine(r.severity, 60);
  const level = r.level ?? levelOf(severity);
  const sentence = oneLine(r.sentence, 300) ?? oneLine(cleanSubject(subject), 300);
  const ackBy = oneLine(r.ackBy, 120);
  const problemKey = stripControls(r.problemKey).slice(0, MAX_KEY);
  return {
    kind: r.kind,
    subject,
    text,
    problemKey,
    monitor: rec.name,
    ...(host ? { host } : {}),
    ...(severity ? { severity } : {}),
    ...(level ? { level } : {}),
    ...(r.eventId ? { eventId: r.eventId } : {}),
    ...(sentence ? { sentence } : {}),
    ...(ackBy ? { ackBy } : {}),
    ...(r.firing !== undefined ? { firing: r.firing } : {}),
    ...(p.from ? { from: oneLine(p.from, 320)! } : {}),
    ...(p.messageId ? { messageId: oneLine(p.messageId, 998)! } : {}),
  };
}
