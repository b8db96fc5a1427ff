/**
 * The SMS channel's text: the compose pieces fitted to one SMS part with the ack hint (or the
 * whole alert when sms.fullText), kept in the GSM 7-bit alphabet where that loses nothing.
 */
import type { AlertView } from '../../core/model.js';
import { fullText, textPieces, truncate } from '../../compose/texts.js';
import { isGsm7Text } from './pdu/index.js';
import { SMS_ACK_HINT } from './sms-reply.js';

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

/**
 * One part with the " Reply 1 to ack" the channel appends: 160 GSM characters (extension
 * characters count twice), or 70 when the text needs UCS-2.
 */
export function shortSms(alert: AlertView, lang = 'en'): string {
  const p = textPieces(alert, lang);
  const meta = gsmFriendly(p.meta);
  const head = gsmFriendly(p.head);
  const smsSubject = gsmFriendly(p.subject);
  const gsm = isGsm7Text(`${head}${smsSubject}${meta}`);
  const limit = (gsm ? 160 : 70) - SMS_ACK_HINT.length - 1;
  const septets = (t: string) => (gsm ? [...t].reduce((n, c) => n + ('^{}\\[~]|€\f'.includes(c) ? 2 : 1), 0) : [...t].length);
  const room = limit - septets(head) - septets(meta) - 4;
  let subj = truncate(smsSubject, Math.max(10, room));
  while (subj.length > 10 && septets(`${head} ${subj} | ${meta}`) > limit) subj = truncate(subj, [...subj].length - 1);
  return `${head} ${subj} | ${meta}`;
}

/** The whole alert for sms.fullText (bounded: the segmenter cuts at maxParts anyway). */
export function fullSms(alert: AlertView, lang = 'en'): string {
  return gsmFriendly(fullText(alert, lang)).slice(0, 1500);
}
