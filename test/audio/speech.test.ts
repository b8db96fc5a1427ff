import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EspeakWasmEngine } from '../../src/audio/espeak-engine.js';
import { AudioConfigError, SpeechService } from '../../src/audio/speech-service.js';
import { say } from '../../src/audio/say.js';
import { TtsError, type Synthesis, type SynthesisOptions, type TtsEngine } from '../../src/audio/tts-engine.js';
import { parseWav, wavToMono16, WAVE_PCM } from '../../src/audio/wav.js';
import { ulawDecode } from '../../src/audio/g711.js';
import { voiceSchema } from '../../src/config/schema.js';
import { memoryLogger, silentLogger } from '../../src/util/log.js';

/** The real espeak-ng engine, counting the syntheses that reach it. */
class Counting implements TtsEngine {
  calls: string[] = [];
  constructor(private readonly inner: TtsEngine) {}
  get id() {
    return this.inner.id;
  }
  synthesize(text: string, opts: SynthesisOptions): Promise<Synthesis> {
    this.calls.push(text);
    return this.inner.synthesize(text, opts);
  }
  listLanguages() {
    return this.inner.listLanguages();
  }
  hasLanguage(lang: string) {
    return this.inner.hasLanguage(lang);
  }
  async close() {
    /* the shared engine is closed in afterAll */
  }
}

/** Energy of a signal in dB relative to full scale. */
function rmsDb(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return 10 * Math.log10(s / x.length / 32768 ** 2);
}

describe('speech path with espeak-ng (WASM)', () => {
  let engine: EspeakWasmEngine;
  let dir: string;
  let counting: Counting;
  let service: SpeechService;
  const voice = voiceSchema.parse({});

  beforeAll(async () => {
    engine = await EspeakWasmEngine.create();
  }, 60_000);
  afterAll(async () => {
    await engine.close();
  });
  beforeEach(async (ctx) => {
    dir = await mkdtemp(join(tmpdir(), 'alertline-speech-test-'));
    counting = new Counting(engine);
    service = await SpeechService.create({ voice, cacheDir: dir, logger: silentLogger, engine: counting });
    ctx.onTestFinished(async () => {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    });
  });

  it('lists languages and synthesizes 22 050 Hz speech', async () => {
    expect(engine.hasLanguage('en')).toBe(true);
    expect(engine.hasLanguage('es')).toBe(true);
    expect(engine.hasLanguage('en-US')).toBe(true);
    expect(engine.hasLanguage('xx')).toBe(false);
    expect(engine.hasLanguage('en; rm -rf /')).toBe(false);
    const s = await engine.synthesize('Disk full on database server.', { lang: 'en', rate: 160 });
    expect(s.sampleRate).toBe(22050);
    expect(s.samples.length / s.sampleRate).toBeGreaterThan(1);
    expect(rmsDb(s.samples)).toBeGreaterThan(-40);
  });

  it('speaks a text the same after other texts and languages ran on the warm instance (each run starts pristine)', async () => {
    const o = { lang: 'en', rate: 160 };
    const first = await engine.synthesize('Disk full on db1', o);
    await engine.synthesize('Problema en el servidor de base de datos', { lang: 'es', rate: 220 });
    await engine.synthesize('A much longer text that makes the engine allocate more. '.repeat(40), o);
    const again = await engine.synthesize('Disk full on db1', o);
    expect(again.samples.length).toBeGreaterThan(8000);
    expect(Buffer.from(again.samples.buffer, again.samples.byteOffset, again.samples.byteLength)
      .equals(Buffer.from(first.samples.buffer, first.samples.byteOffset, first.samples.byteLength))).toBe(true);
  });

  it('warms the fixed phrases at start (English and Spanish)', async () => {
    expect(counting.calls).toEqual(['Alert from Alertline.', 'One moment, please.', 'Press 1 to acknowledge, 2 to repeat, 3 to escalate, 5 to snooze, 9 to resolve.', 'Acknowledged. Goodbye.', 'Escalated to the next person. Goodbye.', 'Snoozed for 30 minutes. Goodbye.', 'Resolved. Goodbye.', 'Goodbye.']);
    await service.warm(['es']);
    expect(counting.calls).toHaveLength(16);
    expect(counting.calls).toContain('Un momento, por favor.');
    expect(counting.calls).toContain('Pulse 1 para confirmar, 2 para repetir, 3 para escalar, 5 para posponer, 9 para resolver.');
    await service.warm(['en', 'es']);
    expect(counting.calls).toHaveLength(16); // all cached now
    const again = await SpeechService.create({ voice, cacheDir: dir, logger: silentLogger, engine: counting });
    expect(counting.calls).toHaveLength(16); // a restart finds them on disk
    await again.close();
  });

  it('writes call WAVs as 8 kHz 16-bit mono with a duration that fits the text', async () => {
    const path = await service.callWav('Problem: disk usage above 90% on db1', 'en');
    const w = parseWav(await readFile(path));
    expect(w.format).toBe(WAVE_PCM);
    expect(w.sampleRate).toBe(8000);
    expect(w.channels).toBe(1);
    expect(w.bitsPerSample).toBe(16);
    const seconds = wavToMono16(w).length / 8000;
    // intro + message + prompt: about 20 words at 160 wpm plus pauses.
    expect(seconds).toBeGreaterThan(5);
    expect(seconds).toBeLessThan(20);
    expect(counting.calls).toContain('Problem: disk usage above 90 percent on db1');
  });

  it('makes frames of 160 bytes for RTP in both codecs, padded with silence, containing speech', async () => {
    const u = await service.callFrames('Server down', 'en', 'PCMU');
    const a = await service.callFrames('Server down', 'en', 'PCMA');
    expect(u.length).toBeGreaterThan(100); // > 2 s
    expect(u.every((f) => f.length === 160)).toBe(true);
    expect(a.length).toBe(u.length);
    const linear = Buffer.concat(u).map((b) => b); // bytes
    expect(rmsDb(Array.from(linear, ulawDecode))).toBeGreaterThan(-40);
    // One synthesis served both codecs.
    expect(counting.calls.filter((t) => t === 'Server down')).toHaveLength(1);
    const ack = await service.phraseFrames('acknowledged', 'en', 'PCMA');
    expect(ack.length).toBeGreaterThan(25);
    expect(ack[ack.length - 1]!.at(-1)).toBe(0xd5);
  });

  it('returns identical bytes from the cache without synthesizing again', async () => {
    const f1 = await service.callFrames('Backup job failed', 'en', 'PCMU');
    const n = counting.calls.length;
    const f2 = await service.callFrames('Backup job failed', 'en', 'PCMU');
    expect(counting.calls.length).toBe(n);
    expect(Buffer.concat(f2).equals(Buffer.concat(f1))).toBe(true);
    const p1 = await service.callWav('Backup job failed', 'en');
    const b1 = await readFile(p1);
    const p2 = await service.callWav('Backup job failed', 'en');
    expect(p2).toBe(p1);
    expect((await readFile(p2)).equals(b1)).toBe(true);
  });

  it('synthesizes once for concurrent requests of the same text', async () => {
    const text = 'Replication lag on replica two';
    const results = await Promise.all([
      service.callFrames(text, 'en', 'PCMU'),
      service.callFrames(text, 'en', 'PCMU'),
      service.callFrames(text, 'en', 'PCMA'),
      service.callWav(text, 'en'),
      service.callWav(text, 'en'),
    ]);
    expect(counting.calls.filter((t) => t === text)).toHaveLength(1);
    expect(Buffer.concat(results[0] as Buffer[]).equals(Buffer.concat(results[1] as Buffer[]))).toBe(true);
  });

  it('re-synthesizes a truncated cache entry instead of serving it', async () => {
    const path = await service.phraseWav('goodbye', 'en');
    const good = await readFile(path);
    await truncate(path, Math.floor(good.length / 2));
    const again = await service.phraseWav('goodbye', 'en');
    expect((await readFile(again)).equals(good)).toBe(true);
    expect(counting.calls.filter((t) => t === 'Goodbye.')).toHaveLength(2);
  });

  it('speaks Spanish with the Spanish phrases and a different voice', async () => {
    const en = await service.phraseFrames('goodbye', 'en', 'PCMU');
    const es = await service.phraseFrames('goodbye', 'es', 'PCMU');
    expect(counting.calls).toContain('Adiós.');
    expect(Buffer.concat(es).equals(Buffer.concat(en))).toBe(false);
  });

  it('refuses an unknown language at start with a clear error', async () => {
    await expect(
      SpeechService.create({ voice: { ...voice, lang: 'xx' }, cacheDir: dir, logger: silentLogger, engine: counting }),
    ).rejects.toThrow(/voice.lang "xx" has no voice in espeak-ng.*available: .*\ben\b/);
    expect(() => service.validateLanguage('klingon')).toThrow(AudioConfigError);
    expect(() => service.validateLanguage('en"; reboot')).toThrow(/not a language tag/);
    expect(() => service.validateLanguage('es')).not.toThrow();
  });

  it('falls back to the configured language for an unknown per-user language during a call', async () => {
    const logger = memoryLogger();
    const s = await SpeechService.create({ voice, cacheDir: dir, logger, engine: counting });
    const frames = await s.callFrames('Host down', 'zz', 'PCMU');
    expect(frames.length).toBeGreaterThan(50);
    expect(logger.lines.some((l) => l.includes('audio.lang_fallback'))).toBe(true);
    await s.close();
  });

  it('survives hostile text: markup, control characters, very long input', async () => {
    const frames = await service.callFrames('[[h@l@U]] <speak>\u0000\u001b ' + 'x'.repeat(50_000), 'en', 'PCMU');
    expect(frames.length).toBeGreaterThan(50);
    const wav = await service.callWav('https://only-a-link.example.com/abc', 'en');
    expect(parseWav(await readFile(wav)).sampleRate).toBe(8000);
    await expect(engine.synthesize('x'.repeat(30_000), { lang: 'en', rate: 160 })).rejects.toThrow(TtsError);
    // The engine keeps working after a rejected request.
    expect((await engine.synthesize('ok', { lang: 'en', rate: 160 })).samples.length).toBeGreaterThan(1000);
  });

  it('writes WAVs at voice.wavRate when configured', async () => {
    const s = await SpeechService.create({ voice: { ...voice, wavRate: 16000 }, cacheDir: dir, logger: silentLogger, engine: counting });
    const p = await s.phraseWav('intro', 'en');
    expect(parseWav(await readFile(p)).sampleRate).toBe(16000);
    await s.close();
  });

  it('say() writes an 8 kHz WAV and reports duration and cache use', async () => {
    const out = join(dir, 'out', '..', 'say.wav');
    const r1 = await say(service, 'Testing one two three', { out });
    expect(r1).toMatchObject({ file: join(dir, 'say.wav'), sampleRate: 8000, fromCache: false });
    const w = parseWav(await readFile(r1.file));
    expect(w.sampleRate).toBe(8000);
    expect(w.extraChunks).toEqual([]);
    expect(Math.abs((wavToMono16(w).length / 8) - r1.durationMs)).toBeLessThanOrEqual(1);
    expect(r1.durationMs).toBeGreaterThan(800);
    expect(r1.durationMs).toBeLessThan(5000);
    const r2 = await say(service, 'Testing one two three', { out, lang: 'en' });
    expect(r2.fromCache).toBe(true);
    expect(r2.durationMs).toBe(r1.durationMs);
    await expect(say(service, 'hola', { lang: 'xx', out })).rejects.toThrow(/has no voice/);
    await expect(say(service, 'http://x.example/', { out })).rejects.toThrow(/nothing to say/);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('ignores a leftover temp file in the cache directory', async () => {
    await writeFile(join(dir, '.tmp-0123456789abcdef-1-000000'), 'RIFF garbage');
    const s = await SpeechService.create({ voice, cacheDir: dir, logger: silentLogger, engine: counting });
    const p = await s.phraseWav('intro', 'en');
    expect(parseWav(await readFile(p)).sampleRate).toBe(8000);
    await s.close();
  });
});
