/** The read-only view of a stored alert that channels and compose get. */
import type { AlertRow } from '../store/rows.js';
import { SEVERITY_LEVELS, type AlertView, type SeverityLevel } from './model.js';

export function alertView(a: AlertRow, raw: Buffer): AlertView {
  return {
    id: a.id, kind: a.kind, subject: a.subject, text: a.text, receivedAt: a.received_at, raw,
    ...(a.host ? { host: a.host } : {}), ...(a.severity ? { severity: a.severity } : {}),
    ...(a.level && (SEVERITY_LEVELS as readonly string[]).includes(a.level) ? { level: a.level as SeverityLevel } : {}),
    ...(a.sentence ? { sentence: a.sentence } : {}),
    ...(a.event_id ? { eventId: a.event_id } : {}), ...(a.mail_from ? { from: a.mail_from } : {}),
  };
}
