/**
 * The speech path behind PromptAudio: text preparation → TTS engine → resampling → G.711 / WAV,
 * with every synthesized piece kept in the prompt cache. A call's audio is assembled from cached
 * pieces (intro, message, key prompt) with short pauses, so only the message itself is ever
 * synthesized per alert.
 */
import type { VoiceConfig } from '../config/schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { AudioCache, type CacheEntry } from './audio-cache.js';
import { CommandEngine } from './command-engine.js';
import { EspeakThreadEngine } from './espeak-thread/engine.js';
import { toFrames } from './frames.js';
import { g711Encode, silenceByte } from './g711.js';
import { PHRASE_KEYS, phraseText } from './phrases.js';
import type { G711Codec, PhraseKey, PromptAudio } from './prompt-audio.js';
import { resample } from './resample.js';
import { prepareSpeechText } from './text-prep.js';
import { LANG_TAG, normalizeLang, type TtsEngine } from './tts-engine.js';
import { encodeWavG711, encodeWavPcm16, parseWav, wavToMono16 } from './wav.js';

/** A voice setting that cannot work (reported at start, not during a call). */
export class AudioConfigError extends Error {
  override name = 'AudioConfigError';
}

export interface SpeechServiceOptions {
  voice: VoiceConfig;
  cacheDir: string;
  logger: Logger;
  /** Use this engine instead of the one voice.engine names (tests, embedding). */
  engine?: TtsEngine;
  clock?: Clock;
  /** Timeout for voice.engine "command" (default 30 s). */
  commandTimeoutMs?: number;
}

/** Bumped whenever the processing after the engine changes what ends up in a cache file. */
const PIPELINE_VERSION = 1;
/** Pause between the parts of a call message. */
const PAUSE_MS = 450;
const TELEPHONE_RATE = 8000;

type Format = 'pcmu' | 'pcma' | `pcm16@${number}`;

export interface SpeechWav {
  path: string;
  /** Mono 16-bit samples at sampleRate. */
  samples: Int16Array;
  sampleRate: number;
  durationMs: number;
  fromCache: boolean;
}

export class SpeechService implements PromptAudio {
  private readonly inflight = new Map<string, Promise<Map<Format, CacheEntry>>>();
  private closed = false;

  private constructor(
    readonly engine: TtsEngine,
    readonly cache: AudioCache,
    private readonly voice: VoiceConfig,
    private readonly logger: Logger,
  ) {}

  static async create(opts: SpeechServiceOptions): Promise<SpeechService> {
    const { voice, logger } = opts;
    let engine = opts.engine;
    if (!engine) {
      if (voice.engine === 'command') {
        if (!voice.command || voice.command.length === 0) {
          throw new AudioConfigError('voice.engine is "command" but voice.command is not set (an argv list with {text} and {file})');
        }
        engine = new CommandEngine({ argv: voice.command, timeoutMs: opts.commandTimeoutMs, logger });
      } else {
        engine = await EspeakThreadEngine.create({ logger, idleMs: voice.unloadAfter });
      }
    }
    let service: SpeechService | undefined;
    try {
      const cache = await AudioCache.open({ dir: opts.cacheDir, maxBytes: voice.cacheMaxBytes, logger, clock: opts.clock });
      service = new SpeechService(engine, cache, voice, logger);
      service.validateLanguage(voice.lang, 'voice.lang');
      await service.warm([voice.lang]);
      return service;
    } catch (e) {
      await engine.close();
      throw e;
    }
  }

  get defaultLang(): string {
    return this.voice.lang;
  }

  /** Throws AudioConfigError unless the engine can speak lang. */
  validateLanguage(lang: string, what = 'language'): void {
    if (typeof lang !== 'string' || !LANG_TAG.test(lang)) {
      throw new AudioConfigError(`${what} ${JSON.stringify(lang)} is not a language tag (like "en", "es", "pt-br")`);
    }
    if (!this.engine.hasLanguage(lang)) {
      const known = this.engine.listLanguages();
      throw new AudioConfigError(
        `${what} ${JSON.stringify(lang)} has no voice in ${this.engine.id}` +
          (known.length ? `; available: ${known.slice(0, 60).join(', ')}${known.length > 60 ? ', ...' : ''}` : ''),
      );
    }
  }

  /** Synthesizes (or checks the cache for) every fixed phrase in each language. */
  async warm(langs: string[]): Promise<void> {
    for (const lang of new Set(langs.map(normalizeLang))) {
      this.validateLanguage(lang);
      for (const key of PHRASE_KEYS) await this.pieceAll(phraseText(key, lang), lang);
    }
  }

  /** Prompt cache lookups since start (hits: spoken without synthesis). */
  cacheLookups(): { hits: number; misses: number } {
    return { ...this.cache.lookups };
  }

  async callFrames(message: string, lang: string, codec: G711Codec): Promise<Buffer[]> {
    const l = this.usableLang(lang);
    const fmt: Format = codec === 'PCMU' ? 'pcmu' : 'pcma';
    const pause = Buffer.alloc((PAUSE_MS * TELEPHONE_RATE) / 1000, silenceByte(codec));
    const parts: Buffer[] = [];
    for (const text of this.callTexts(message, l)) {
      if (parts.length) parts.push(pause);
      parts.push(parseWav((await this.piece(text, l, fmt)).wav).data);
    }
    return toFrames(Buffer.concat(parts), codec);
  }

  async phraseFrames(key: PhraseKey, lang: string, codec: G711Codec): Promise<Buffer[]> {
    const l = this.usableLang(lang);
    const entry = await this.piece(phraseText(key, l), l, codec === 'PCMU' ? 'pcmu' : 'pcma');
    return toFrames(parseWav(entry.wav).data, codec);
  }

  async callWav(message: string, lang: string): Promise<string> {
    const l = this.usableLang(lang);
    const rate = this.voice.wavRate;
    const texts = this.callTexts(message, l);
    const key = this.keyFor(texts.join('\u0000'), l, `call-pcm16@${rate}`);
    const entry = await this.cache.getOrCreate(key, async () => {
      const pause = new Int16Array(Math.round((PAUSE_MS * rate) / 1000));
      const parts: Int16Array[] = [];
      for (const text of texts) {
        if (parts.length) parts.push(pause);
        parts.push(wavToMono16(parseWav((await this.piece(text, l, `pcm16@${rate}`)).wav)));
      }
      const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      return encodeWavPcm16(all, rate);
    });
    return entry.path;
  }

  async phraseWav(key: PhraseKey, lang: string): Promise<string> {
    const l = this.usableLang(lang);
    return (await this.piece(phraseText(key, l), l, `pcm16@${this.voice.wavRate}`)).path;
  }

  /** Text alone (prepared for speech, no intro or prompt) as a cached 16-bit WAV. */
  async speechWav(text: string, lang: string, sampleRate = TELEPHONE_RATE): Promise<SpeechWav> {
    this.validateLanguage(lang);
    const prepared = prepareSpeechText(text, lang);
    if (!prepared) throw new AudioConfigError('nothing to say: the text is empty after preparation for speech');
    const entry = await this.piece(prepared, normalizeLang(lang), `pcm16@${sampleRate}`);
    const info = parseWav(entry.wav);
    const samples = wavToMono16(info);
    return {
      path: entry.path,
      samples,
      sampleRate: info.sampleRate,
      durationMs: Math.round((samples.length * 1000) / info.sampleRate),
      fromCache: entry.fromCache,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight.values()]);
    await this.engine.close();
  }

  /** intro, message (if anything is left of it after preparation), key prompt. */
  private callTexts(message: string, lang: string): string[] {
    const prepared = prepareSpeechText(message, lang);
    return [phraseText('intro', lang), ...(prepared ? [prepared] : []), phraseText('keyPrompt', lang)];
  }

  /** A user's language, or the configured one (with a warning) when the engine cannot speak it. */
  private usableLang(lang: string): string {
    if (typeof lang === 'string' && LANG_TAG.test(lang) && this.engine.hasLanguage(lang)) return normalizeLang(lang);
    this.logger.warn('audio.lang_fallback', { lang: String(lang).slice(0, 20), using: this.voice.lang });
    return normalizeLang(this.voice.lang);
  }

  private keyFor(text: string, lang: string, format: string): string {
    return AudioCache.keyOf({
      v: PIPELINE_VERSION,
      engine: this.engine.id,
      voice: lang,
      lang,
      rate: this.voice.rate,
      text,
      format,
    });
  }

  private formats(extraRate?: number): Format[] {
    const rates = new Set([TELEPHONE_RATE, this.voice.wavRate, ...(extraRate ? [extraRate] : [])]);
    return ['pcmu', 'pcma', ...[...rates].map((r) => `pcm16@${r}` as Format)];
  }

  /** One format of a piece of text: from the cache, or synthesized (once) into every format. */
  private async piece(text: string, lang: string, format: Format): Promise<CacheEntry> {
    if (this.closed) throw new Error('speech service is closed');
    const hit = await this.cache.get(this.keyFor(text, lang, format));
    if (hit) return hit;
    const extra = format.startsWith('pcm16@') ? Number(format.slice(6)) : undefined;
    const all = await this.synthesizeAll(text, lang, this.formats(extra));
    const entry = all.get(format);
    if (entry) return entry;
    // Another request synthesized this text without our format (an unusual rate): add it.
    return (await this.synthesizeAll(text, lang, [format])).get(format)!;
  }

  private async pieceAll(text: string, lang: string): Promise<void> {
    const formats = this.formats();
    const hits = await Promise.all(formats.map((f) => this.cache.get(this.keyFor(text, lang, f))));
    if (hits.every(Boolean)) return;
    await this.synthesizeAll(text, lang, formats);
  }

  private synthesizeAll(text: string, lang: string, formats: Format[]): Promise<Map<Format, CacheEntry>> {
    const jobKey = this.keyFor(text, lang, formats.join(','));
    const running = this.inflight.get(jobKey);
    if (running) return running;
    const job = (async () => {
      const t0 = performance.now();
      const syn = await this.engine.synthesize(text, { lang, rate: this.voice.rate });
      const tSyn = performance.now();
      const out = new Map<Format, CacheEntry>();
      const byRate = new Map<number, Int16Array>();
      const at = (rate: number) => {
        let s = byRate.get(rate);
        if (!s) byRate.set(rate, (s = resample(syn.samples, syn.sampleRate, rate)));
        return s;
      };
      for (const f of formats) {
        let wav: Buffer;
        if (f === 'pcmu' || f === 'pcma') {
          const codec = f === 'pcmu' ? 'PCMU' : 'PCMA';
          wav = encodeWavG711(g711Encode(at(TELEPHONE_RATE), codec), codec);
        } else {
          const rate = Number(f.slice(6));
          wav = encodeWavPcm16(at(rate), rate);
        }
        out.set(f, await this.cache.put(this.keyFor(text, lang, f), wav));
      }
      this.logger.debug('audio.synthesized', {
        lang,
        chars: text.length,
        synthMs: Math.round(tSyn - t0),
        totalMs: Math.round(performance.now() - t0),
      });
      return out;
    })().finally(() => this.inflight.delete(jobKey));
    this.inflight.set(jobKey, job);
    return job;
  }
}
