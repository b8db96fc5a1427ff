/**
 * Every word Alertline speaks on its own, per language: the fixed call phrases and the words that
 * replace symbols in alert text. Add a language by adding one entry here.
 */
import type { PhraseKey } from './prompt-audio.js';

export interface LanguageWords {
  phrases: Record<PhraseKey, string>;
  symbols: {
    percent: string;
    greaterOrEqual: string;
    lessOrEqual: string;
    greater: string;
    less: string;
    notEqual: string;
    equals: string;
    degreesCelsius: string;
    degreesFahrenheit: string;
    degrees: string;
    slash: string;
    and: string;
  };
}

export const LANGUAGE_WORDS: Readonly<Record<string, LanguageWords>> = {
  en: {
    phrases: {
      intro: 'Alert from Alertline.',
      hold: 'One moment, please.',
      keyPrompt: 'Press 1 to acknowledge, 2 to repeat, 3 to escalate, 5 to snooze, 9 to resolve.',
      acknowledged: 'Acknowledged. Goodbye.',
      escalated: 'Escalated to the next person. Goodbye.',
      snoozed: 'Snoozed for 30 minutes. Goodbye.',
      resolved: 'Resolved. Goodbye.',
      goodbye: 'Goodbye.',
    },
    symbols: {
      percent: 'percent',
      greaterOrEqual: 'greater than or equal to',
      lessOrEqual: 'less than or equal to',
      greater: 'greater than',
      less: 'less than',
      notEqual: 'not equal to',
      equals: 'equals',
      degreesCelsius: 'degrees Celsius',
      degreesFahrenheit: 'degrees Fahrenheit',
      degrees: 'degrees',
      slash: 'slash',
      and: 'and',
    },
  },
  es: {
    phrases: {
      intro: 'Alerta de Alertline.',
      hold: 'Un momento, por favor.',
      keyPrompt: 'Pulse 1 para confirmar, 2 para repetir, 3 para escalar, 5 para posponer, 9 para resolver.',
      acknowledged: 'Confirmado. Adiós.',
      escalated: 'Escalado a la siguiente persona. Adiós.',
      snoozed: 'Pospuesto 30 minutos. Adiós.',
      resolved: 'Resuelto. Adiós.',
      goodbye: 'Adiós.',
    },
    symbols: {
      percent: 'por ciento',
      greaterOrEqual: 'mayor o igual que',
      lessOrEqual: 'menor o igual que',
      greater: 'mayor que',
      less: 'menor que',
      notEqual: 'distinto de',
      equals: 'igual a',
      degreesCelsius: 'grados Celsius',
      degreesFahrenheit: 'grados Fahrenheit',
      degrees: 'grados',
      slash: 'barra',
      and: 'y',
    },
  },
};

/** Words for a language tag ("es-MX" uses "es"); languages without an entry use English. */
export function wordsFor(lang: string): LanguageWords {
  const tag = lang.toLowerCase().replace(/_/g, '-');
  return LANGUAGE_WORDS[tag] ?? LANGUAGE_WORDS[tag.split('-')[0]!] ?? LANGUAGE_WORDS.en!;
}

export function phraseText(key: PhraseKey, lang: string): string {
  return wordsFor(lang).phrases[key];
}

export const PHRASE_KEYS: readonly PhraseKey[] = ['intro', 'hold', 'keyPrompt', 'acknowledged', 'escalated', 'snoozed', 'resolved', 'goodbye'];
