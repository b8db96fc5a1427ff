/**
 * What the call channels need from the speech path. Implemented in src/audio (TTS + resample +
 * G.711 + cache); the voip and gsm channels only see this interface.
 */
export type G711Codec = 'PCMU' | 'PCMA';

/** Fixed phrases spoken by call channels; their text per language lives in src/audio/phrases.ts. */
export type PhraseKey = 'intro' | 'hold' | 'keyPrompt' | 'acknowledged' | 'escalated' | 'snoozed' | 'resolved' | 'goodbye';

export interface PromptAudio {
  /**
   * The alert message as 20 ms frames (160 bytes each, 8 kHz) in the given codec: intro + message
   * + key prompt, ready for RTP. The last frame is padded with the codec's silence byte.
   */
  callFrames(message: string, lang: string, codec: G711Codec): Promise<Buffer[]>;
  /** A fixed phrase ("Acknowledged. Goodbye.") as 20 ms frames. */
  phraseFrames(key: PhraseKey, lang: string, codec: G711Codec): Promise<Buffer[]>;
  /** The alert message (intro + message + key prompt) as a WAV file path for gsm.audioCommand. */
  callWav(message: string, lang: string): Promise<string>;
  /** A fixed phrase as a WAV file path. */
  phraseWav(key: PhraseKey, lang: string): Promise<string>;
}
