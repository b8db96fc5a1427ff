/**
 * Alert text made fit for speech (pure): symbols and units become words, URLs and long hex ids
 * (hashes, UUIDs, trace ids) are dropped, numbers are kept, whitespace is collapsed and the
 * length is bounded. Characters that speech engines treat as markup ([[ ]] phoneme input, < >
 * tags) never reach the engine.
 */
import { wordsFor } from './phrases.js';

export const DEFAULT_MAX_SPEECH_CHARS = 600;

export function prepareSpeechText(text: string, lang: string, maxChars = DEFAULT_MAX_SPEECH_CHARS): string {
  const w = wordsFor(lang).symbols;
  const say = (word: string) => ` ${word} `;
  let s = String(text).normalize('NFC');
  // Terminal colour sequences, then control characters (including CR/LF/TAB and ESC), become spaces.
  s = s.replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, ' ');
  s = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
  // URLs, e-mail-ish link targets and long hex ids carry nothing a listener can use.
  s = s.replace(/\b(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S+/gi, ' ');
  s = s.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, ' ');
  s = s.replace(/\b(?:0x)?[0-9a-f]{8,}\b/gi, (m) => (/[0-9]/.test(m) && /[a-f]/i.test(m)) || m.length >= 16 ? ' ' : m);
  // Temperatures and percentages.
  s = s.replace(/\s*°\s*C\b/g, say(w.degreesCelsius));
  s = s.replace(/\s*°\s*F\b/g, say(w.degreesFahrenheit));
  s = s.replace(/\s*[°º]/g, say(w.degrees));
  s = s.replace(/\s*[%％]/g, say(w.percent));
  // Comparisons (longest first).
  s = s.replace(/>=|≥|=>/g, say(w.greaterOrEqual));
  s = s.replace(/<=|≤|=</g, say(w.lessOrEqual));
  s = s.replace(/!=|<>|≠/g, say(w.notEqual));
  s = s.replace(/[>›»]/g, say(w.greater));
  s = s.replace(/[<‹«]/g, say(w.less));
  s = s.replace(/==?/g, say(w.equals));
  s = s.replace(/&+/g, say(w.and));
  // Separators inside identifiers: disk_usage, /var/log, a|b.
  s = s.replace(/\//g, say(w.slash));
  s = s.replace(/[_|\\]+/g, ' ');
  // Characters engines may read as markup or that only add noise.
  s = s.replace(/[[\]{}<>`^~*#@$]+/g, ' ');
  s = s.replace(/([!?.,;:])\1+/g, '$1');
  s = s.replace(/-{2,}/g, ' ');
  s = s.replace(/\s+([,.;:!?])/g, '$1');
  s = s.replace(/\s+/g, ' ').trim();
  if (s.length > maxChars) {
    const cut = s.slice(0, maxChars + 1);
    const space = cut.lastIndexOf(' ');
    s = (space > maxChars / 2 ? cut.slice(0, space) : s.slice(0, maxChars)).replace(/[\s,;:]+$/, '') + '.';
  }
  return s;
}
