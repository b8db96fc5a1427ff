/**
 * The text each channel needs, derived from the stored alert: a sentence to speak, a compact SMS
 * (one part), and the whole alert for sms.fullText.
 */
import type { AlertView, ComposedTexts } from '../channels/channel.js';
import { isGsm7Text } from '../channels/gsm/pdu/index.js';
import { cleanSubject } from '../core/subject.js';
import { SMS_ACK_HINT } from '../channels/gsm/sms-reply.js';

export { cleanSubject };

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

function hhmm(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 3).join('') + '...';
}

const PUNCT: Record<string, string> = { '\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"', '\u2013': '-', '\u2014': '-', '\u2026': '...', '\u00a0': ' ', '\u2193': 'v', '\u2191': '^' };

/**
 * Keeps an SMS in the GSM 7-bit alphabet where that loses nothing that matters: characters GSM
 * has (é, ñ, ü...) stay, accents it lacks are dropped (ó → o), typographic punctuation becomes
 * plain. Text in other scripts is left alone (it will go as UCS-2).
 */
export function gsmFriendly(s: string): string {
  let out = '';
  for (const ch of s) {
    if (isGsm7Text(ch)) out += ch;
    else if (PUNCT[ch]) out += PUNCT[ch];
    else {
      const base = ch.normalize('NFD').replace(/\p{M}+/gu, '');
      out += base && isGsm7Text(base) ? base : ch;
    }
  }
  return out;
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
  const meta = gsmFriendly([alert.host && !subjectHasHost ? alert.host : '', alert.severity ?? '', hhmm(alert.receivedAt)].filter(Boolean).join(' | '));
  const head = gsmFriendly(`${kind.toUpperCase()} ${tag}`);
  const smsSubject = gsmFriendly(subject);
  // One part with the " Reply 1 to ack" the SMS channel appends: 160 GSM characters (extension
  // characters count twice), or 70 when the text needs UCS-2.
  const gsm = isGsm7Text(`${head}${smsSubject}${meta}`);
  const limit = (gsm ? 160 : 70) - SMS_ACK_HINT.length - 1;
  const septets = (t: string) => (gsm ? [...t].reduce((n, c) => n + ('^{}\\[~]|€\f'.includes(c) ? 2 : 1), 0) : [...t].length);
  const room = limit - septets(head) - septets(meta) - 4;
  let subj = truncate(smsSubject, Math.max(10, room));
  while (subj.length > 10 && septets(`${head} ${subj} | ${meta}`) > limit) subj = truncate(subj, [...subj].length - 1);
  const sms = `${head} ${subj} | ${meta}`;
  const body = alert.text.replace(/\r\n?/g, '\n').replace(/\n{2,}/g, '\n').trim();
  const smsFull = gsmFriendly(`${head} ${subject}\n${body}`).slice(0, 1500);
  return { voice, sms, smsFull };
}
