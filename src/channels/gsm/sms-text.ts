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
  const out: string[] = [];
  const seen = new Map<string, string>();
  for (const ch of s) {
    let mapped = seen.get(ch);
    if (mapped === undefined) {
      if (isGsm7Text(ch)) mapped = ch;
      else if (PUNCT[ch]) mapped = PUNCT[ch]!;
      else {
        const base = ch.normalize('NFD').replace(/\p{M}+/gu, '');
        mapped = base && isGsm7Text(base) ? base : ch;
      }
      seen.set(ch, mapped);
    }
    out.push(mapped);
  }
  return out.join('');
}

/**
 * The first `n` code points of `s` (never splitting a surrogate pair), without walking the rest:
 * a text longer than any SMS can carry is cut before it is fitted.
 */
function headCodePoints(s: string, n: number): string {
  let count = 0;
  let i = 0;
  while (i < s.length && count < n) {
    const u = s.charCodeAt(i);
    i += u >= 0xd800 && u <= 0xdbff && i + 1 < s.length ? 2 : 1;
    count++;
  }
  return i >= s.length ? s : s.slice(0, i);
}

/** More than one part can show: gsmFriendly never shortens, so this prefix still overflows a part. */
const SHORT_INPUT_MAX = 480;
const FULL_MAX = 1500;

/**
 * One part with the " Reply 1 to ack" the channel appends: 160 GSM characters (extension
 * characters count twice), or 70 when the text needs UCS-2.
 */
export function shortSms(alert: AlertView, lang = 'en'): string {
  const p = textPieces(alert, lang);
  const meta = gsmFriendly(p.meta);
  const head = gsmFriendly(p.head);
  const smsSubject = gsmFriendly(headCodePoints(p.subject, SHORT_INPUT_MAX));
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
  return gsmFriendly(headCodePoints(fullText(alert, lang), FULL_MAX)).slice(0, FULL_MAX);
}
