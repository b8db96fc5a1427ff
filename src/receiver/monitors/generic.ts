/**
 * Any other sender: the fields most monitors and scripts write (Host/Hostname/instance,
 * Severity/State, an event id), the kind from the subject grammar, and an identity from the
 * event id when there is one, else from the subject without its state words plus the host.
 */
import { alertKind, cleanSubject, normalizeSubject } from '../../core/subject.js';
import type { MailView, Recognised, Recogniser } from './types.js';
import { levelOf } from './text.js';

/** Identity for mails that carry no better one: normalised subject + host. */
export function subjectKey(subject: string, host: string | undefined): string {
  return `subject:${normalizeSubject(subject)}|${(host ?? '').toLowerCase()}`;
}

/** A decimal event id (at most 20 digits), or undefined. */
export function digits(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (!t || t.length > 20) return undefined;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return t;
}

export const generic: Recogniser = {
  name: 'generic',
  detect: () => true,
  parse(m: MailView): Recognised {
    const eventId = digits(m.fields.get('original problem id', 'original event id', 'event id'));
    const host = m.fields.get('host', 'hostname', 'instance');
    const severity = m.fields.get('severity', 'state');
    return {
      kind: alertKind(m.subject),
      problemKey: eventId ? `event:${eventId}` : subjectKey(m.subject, host),
      ...(host ? { host } : {}),
      ...(severity ? { severity, level: levelOf(severity) } : {}),
      ...(eventId ? { eventId } : {}),
      sentence: cleanSubject(m.subject),
    };
  },
};
