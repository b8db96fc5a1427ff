/**
 * The text each channel needs, derived from the stored alert: a sentence to speak, a compact SMS
 * (one part), and the whole alert for sms.fullText.
 */
import type { AlertView, ComposedTexts } from '../channels/channel.js';

const KIND_WORD: Record<string, { en: string; es: string }> = {
  problem: { en: 'Problem', es: 'Problema' },
  resolved: { en: 'Resolved', es: 'Resuelto' },
  update: { en: 'Update', es: 'Actualización' },
  test: { en: 'Test', es: 'Prueba' },
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

/** The subject without the monitor's own prefixes ("Problem:", "[FIRING:1]", "** PROBLEM ... **"). */
export function cleanSubject(subject: string): string {
  let s = subject.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  s = s.replace(/^\[(firing|resolved)(:\d+)?\]\s*/i, '');
  s = s.replace(/^(problem|problema|probl[èe]me|resolved|resuelto|resolvido|r[ée]solu|updated? problem|problema actualizado)(\s+(in|en|em)\s+[^:]{1,40})?\s*:\s*/i, '');
  const nag = /^\*\*\s*\w+\s+(service|host)\s+alert:\s*(.*?)\s*\*\*$/i.exec(s);
  if (nag) s = nag[2]!;
  return s.replace(/\s+/g, ' ').trim() || subject.trim();
}

function hhmm(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 3).join('') + '...';
}

export function composeTexts(alert: AlertView, lang = 'en', moreAlerts = 0): ComposedTexts {
  const w = words(lang);
  const subject = cleanSubject(alert.subject);
  const kind = kindWord(alert.kind, lang);
  const subjectHasHost = alert.host ? subject.toLowerCase().includes(alert.host.toLowerCase()) : true;

  const voiceParts = [`${kind}: ${subject}.`];
  if (alert.host && !subjectHasHost) voiceParts.push(`${w.host} ${alert.host}.`);
  if (alert.severity) voiceParts.push(`${w.severity} ${alert.severity}.`);
  if (moreAlerts > 0) voiceParts.push(`${w.more(moreAlerts)}.`);
  const voice = voiceParts.join(' ');

  const tag = `#${alert.id}`;
  const meta = [alert.host && !subjectHasHost ? alert.host : '', alert.severity ?? '', hhmm(alert.receivedAt)].filter(Boolean).join(' | ');
  const head = `${kind.toUpperCase()} ${tag}`;
  // Leave room for " Reply 1 to ack" that the SMS channel appends (≤ 160 GSM characters in all).
  const room = 140 - head.length - meta.length - 4;
  const sms = `${head} ${truncate(subject, Math.max(20, room))} | ${meta}`;
  const body = alert.text.replace(/\r\n?/g, '\n').replace(/\n{2,}/g, '\n').trim();
  const smsFull = `${head} ${subject}\n${body}`.slice(0, 1500);
  return { voice, sms, smsFull };
}
