/** What a text-to-speech engine offers the speech service. */

export interface SynthesisOptions {
  /** Language / voice tag such as "en", "es", "en-us". */
  lang: string;
  /** Speaking rate in words per minute. */
  rate: number;
}

export interface Synthesis {
  /** Mono 16-bit samples. */
  samples: Int16Array;
  sampleRate: number;
}

export interface TtsEngine {
  /** Stable identifier that goes into cache keys (changing it re-synthesizes everything). */
  readonly id: string;
  synthesize(text: string, opts: SynthesisOptions): Promise<Synthesis>;
  /** Languages the engine is known to support (empty when it cannot tell). */
  listLanguages(): string[];
  hasLanguage(lang: string): boolean;
  close(): Promise<void>;
}

/** A synthesis that failed (bad voice, engine crash, timeout, unreadable output). */
export class TtsError extends Error {
  override name = 'TtsError';
}

/** Syntax of language tags accepted anywhere (they end up in argv and file contents). */
export const LANG_TAG = /^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$/i;

export function normalizeLang(lang: string): string {
  return lang.trim().toLowerCase().replace(/_/g, '-');
}
