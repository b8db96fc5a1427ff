/**
 * What a per-monitor recogniser sees (the decoded mail, already sanitised and cut into bounded
 * lines) and what it returns (the monitor's meaning: kind, host, severity, identity, sentence).
 */
import type { AlertKind, MonitorName, SeverityLevel } from '../../core/model.js';
import type { FieldIndex } from './text.js';

export interface MailView {
  /** Decoded subject, one line, no control characters. */
  subject: string;
  /** Plain text (text/plain, or the HTML part rendered), no control characters but \n and \t. */
  text: string;
  /** The text's lines, trimmed and each cut to MAX_LINE characters. */
  lines: readonly string[];
  /** First "name: value" / "name = value" per lower-cased name. */
  fields: FieldIndex;
  /** The raw HTML part, when there is one (cut to MAX_HTML). */
  html?: string;
  /** True when `text` was rendered from HTML (no usable text/plain part). */
  fromHtml: boolean;
  from?: string;
  inReplyTo?: string;
  references: readonly string[];
}

export interface Recognised {
  kind: AlertKind;
  problemKey: string;
  host?: string;
  severity?: string;
  level?: SeverityLevel;
  eventId?: string;
  sentence?: string;
  ackBy?: string;
  firing?: number;
}

export interface Recogniser {
  name: MonitorName;
  /** Whether this mail is this monitor's (cheap, linear). */
  detect(m: MailView): boolean;
  parse(m: MailView): Recognised;
}
