/**
 * The espeak-ng engine in a worker thread (src/audio/espeak-thread): real worker threads running
 * the worker bundled from its TypeScript source. Its audio is the in-thread engine's, sample for
 * sample; it lets its memory go when idle and comes back for the next message; a stuck synthesis
 * stops the worker and fails with TtsError instead of hanging the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSync } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EspeakWasmEngine } from '../../src/audio/espeak-engine.js';
import { EspeakThreadEngine } from '../../src/audio/espeak-thread/engine.js';
import { TtsError } from '../../src/audio/tts-engine.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the checkout so the bundle's import of espeak-ng resolves from node_modules.
const DIR = join(ROOT, 'node_modules/.cache', `alertline-speech-worker-${process.pid}`);
const SCRIPT = join(DIR, 'worker.mjs');

let inThread: EspeakWasmEngine;
beforeAll(async () => {
  mkdirSync(DIR, { recursive: true });
  buildSync({
    entryPoints: [join(ROOT, 'src/audio/espeak-thread/worker.ts')],
    bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', outfile: SCRIPT, logLevel: 'silent',
  });
  inThread = await EspeakWasmEngine.create();
}, 60_000);
afterAll(async () => {
  await inThread?.close();
  rmSync(DIR, { recursive: true, force: true });
});

const until = async (f: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !f(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('espeak-ng in a worker thread', () => {
  it('speaks exactly what the in-thread engine speaks, in order, and knows the same languages', async () => {
    const e = (await EspeakThreadEngine.create({ script: SCRIPT, idleMs: 0 })) as EspeakThreadEngine;
    try {
      expect(e).toBeInstanceOf(EspeakThreadEngine);
      expect(e.listLanguages()).toEqual(inThread.listLanguages());
      expect(['en', 'es', 'pt-br', 'de'].map((l) => e.hasLanguage(l))).toEqual([true, true, true, true]);
      expect(e.hasLanguage('xx-nope')).toBe(false);
      const texts = ['Problem: disk full on db1.', 'Problema: disco lleno en db1.'];
      const [a, b] = await Promise.all([e.synthesize(texts[0]!, { lang: 'en', rate: 160 }), e.synthesize(texts[1]!, { lang: 'es', rate: 160 })]);
      const ra = await inThread.synthesize(texts[0]!, { lang: 'en', rate: 160 });
      const rb = await inThread.synthesize(texts[1]!, { lang: 'es', rate: 160 });
      expect(a.sampleRate).toBe(ra.sampleRate);
      expect(Buffer.from(a.samples.buffer).equals(Buffer.from(ra.samples.buffer, ra.samples.byteOffset, ra.samples.byteLength))).toBe(true);
      expect(Buffer.from(b.samples.buffer).equals(Buffer.from(rb.samples.buffer, rb.samples.byteOffset, rb.samples.byteLength))).toBe(true);
      await expect(e.synthesize('hola', { lang: 'xx-nope', rate: 160 })).rejects.toThrow(TtsError);
      await expect(e.synthesize('x'.repeat(20_001), { lang: 'en', rate: 160 })).rejects.toThrow(/too long/);
    } finally {
      await e.close();
    }
    await expect(e.synthesize('after close', { lang: 'en', rate: 160 })).rejects.toThrow(/closed/);
  }, 60_000);

  it('stops its worker when idle and starts one again for the next message; languages are still known meanwhile', async () => {
    const e = (await EspeakThreadEngine.create({ script: SCRIPT, idleMs: 300 })) as EspeakThreadEngine;
    try {
      expect(e.starts).toBe(1);
      await until(() => !e.loaded);
      expect(e.hasLanguage('es')).toBe(true);
      const s = await e.synthesize('Second message.', { lang: 'en', rate: 170 });
      expect(s.samples.length).toBeGreaterThan(8000);
      expect(e.starts).toBe(2);
      expect(e.loaded).toBe(true);
      await until(() => !e.loaded);
    } finally {
      await e.close();
    }
  }, 60_000);

  it('a synthesis that does not finish in time stops the worker and fails with TtsError; so does the one queued behind it', async () => {
    const e = (await EspeakThreadEngine.create({ script: SCRIPT, idleMs: 0, timeoutMs: 1 })) as EspeakThreadEngine;
    try {
      const long = 'This message is long enough to take more than a millisecond to speak. '.repeat(20);
      const [first, second] = await Promise.allSettled([e.synthesize(long, { lang: 'en', rate: 160 }), e.synthesize(long, { lang: 'en', rate: 160 })]);
      expect(first.status).toBe('rejected');
      expect((first as PromiseRejectedResult).reason).toBeInstanceOf(TtsError);
      expect(String((first as PromiseRejectedResult).reason)).toMatch(/longer than 1 ms/);
      expect(second.status).toBe('rejected');
      expect(e.loaded).toBe(false);
    } finally {
      await e.close();
    }
  }, 60_000);

  it('without a compiled worker (running from the sources) the engine runs in this thread', async () => {
    const e = await EspeakThreadEngine.create({ script: join(DIR, 'missing.mjs') });
    try {
      expect(e).toBeInstanceOf(EspeakWasmEngine);
    } finally {
      await e.close();
    }
  }, 60_000);
});
