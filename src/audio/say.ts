/** `alertline say`: synthesize text as an 8 kHz WAV for checking how a prompt sounds. */
import { open, rename, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SpeechService } from './speech-service.js';
import { encodeWavPcm16 } from './wav.js';

export const SAY_SAMPLE_RATE = 8000;
export const DEFAULT_SAY_FILE = 'alertline-say.wav';

export async function say(
  service: SpeechService,
  text: string,
  opts: { lang?: string; out?: string },
): Promise<{ file: string; durationMs: number; fromCache: boolean; sampleRate: number }> {
  const lang = opts.lang ?? service.defaultLang;
  const result = await service.speechWav(text, lang, SAY_SAMPLE_RATE);
  const file = resolve(opts.out ?? DEFAULT_SAY_FILE);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(encodeWavPcm16(result.samples, result.sampleRate));
    await fh.close();
    await rename(tmp, file);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return { file, durationMs: result.durationMs, fromCache: result.fromCache, sampleRate: result.sampleRate };
}
