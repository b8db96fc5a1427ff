/**
 * The text each channel needs, derived from the stored alert: a sentence to speak, a compact SMS
 * (one part), and the whole alert for sms.fullText.
 */
import type { AlertView } from '../core/model.js';
import { cleanSubject } from '../core/subject.js';

export { cleanSubject };

const KIND_WORD: Record<string, { en: string; es: string }> = {
  problem: { en: 'Problem', es: 'Problema' },
  resolved: { en: 'Resolved', es: 'Resuelto' },
  update: { en: 'Update', es: 'Actualización' },
  test: { en: 'Test', es: 'Prueba' },
  ack: { en: 'Acknowledged', es: 'Reconocido' },
  other: { en: 'Alert', es: 'Alerta' },
};

const WORDS = {
  en: { host: 'host', severity: 'severity', on: 'on', more: (n: number) => `and ${n} more alert${n === 1 ? '' : 's'}` },
  es: { host: 'equipo', severity: 'severidad', on: 'en', more: (n: number) => `y ${n} alerta${n === 1 ? '' : 's'} más` },
};

function words(lang: string) {
  return lang.toLowerCase().startsWith('es') ? WORDS.es : WORDS.en;
}

function kindWord(kind: string, lang: string): string {
  const w = KIND_WORD[kind] ?? KIND_WORD.other!;
  return lang.toLowerCase().startsWith('es') ? w.es : w.en;
}

function hhmm(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 3).join('') + '...';
}

/** The sentence a call speaks (the call adds the greeting and the key prompt per language). */
export function voiceText(alert: AlertView, lang = 'en', moreAlerts = 0): string {
  const w = words(lang);
  const subject = alert.sentence ?? cleanSubject(alert.subject);
  const kind = kindWord(alert.kind, lang);
  const parts = [`${kind}: ${subject}.`];
  if (alert.host && !mentionsHost(subject, alert.host)) parts.push(`${w.host} ${alert.host}.`);
  // A monitor's own sentence may name the severity already ("... is CRITICAL: ...").
  if (alert.severity && !(alert.sentence && subject.toLowerCase().includes(alert.severity.toLowerCase()))) parts.push(`${w.severity} ${alert.severity}.`);
  if (moreAlerts > 0) parts.push(`${w.more(moreAlerts)}.`);
  return parts.join(' ');
}

/** Whether the sentence names the host already (an exporter's "web01:9100" is named by "web01"). */
function mentionsHost(subject: string, host: string): boolean {
  const s = subject.toLowerCase();
  return host.toLowerCase().split(/, */).every((h) => s.includes(h) || s.includes(h.replace(/:\d{1,5}$/, '')));
}

/** The pieces of a short text ("PROBLEM #42", the subject, "host | severity | 03:07"): a text channel fits them to its size. */
export interface TextPieces {
  head: string;
  subject: string;
  meta: string;
}

export function textPieces(alert: AlertView, lang = 'en'): TextPieces {
  const subject = alert.sentence ?? cleanSubject(alert.subject);
  const host = alert.host && !mentionsHost(subject, alert.host) ? alert.host : '';
  return {
    // An alert sent before it could be stored (id 0: the appliance's own alarm while its database fails) has no number yet.
    head: alert.id > 0 ? `${kindWord(alert.kind, lang).toUpperCase()} #${alert.id}` : kindWord(alert.kind, lang).toUpperCase(),
    subject,
    meta: [host, alert.severity ?? '', hhmm(alert.receivedAt)].filter(Boolean).join(' | '),
  };
}

/** The short text on one line: head, subject and meta. */
export function shortText(alert: AlertView, lang = 'en'): string {
  const p = textPieces(alert, lang);
  return `${p.head} ${p.subject} | ${p.meta}`;
}

/** The whole alert as text: head and subject, then the body. */
export function fullText(alert: AlertView, lang = 'en'): string {
  const p = textPieces(alert, lang);
  const body = alert.text.replace(/\r\n?/g, '\n').replace(/\n{2,}/g, '\n').trim();
  return `${p.head} ${p.subject}\n${body}`;
}

export { truncate };
