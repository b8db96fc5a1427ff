/**
 * Speech path benchmark: cold synthesis + resample + G.711 encode per text length (cache
 * bypassed), cache-hit time through SpeechService, RSS with the engine loaded. Baseline measured
 * in the same run: a fresh espeak-ng WASM instance per synthesis (no warm instance).
 * Run: npm run bench:tts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EspeakWasmEngine } from '../src/audio/espeak-engine.js';
import { EspeakThreadEngine } from '../src/audio/espeak-thread/engine.js';
import { toFrames } from '../src/audio/frames.js';
import { g711Encode } from '../src/audio/g711.js';
import { resample } from '../src/audio/resample.js';
import { SpeechService } from '../src/audio/speech-service.js';
import { voiceSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/util/log.js';

const SOURCE =
  'Problem: disk usage above 90 percent on database server db1 in the main data centre. ' +
  'Host db1 reports that the volume for the write-ahead log is nearly full, replication to the standby is ' +
  'falling behind and the backup job has failed twice tonight. Please check the server now.';
const LENGTHS = [20, 50, 100, 200];
const REFERENCE_COLD_S = [2.37, 2.48, 3.13, 3.45];
const RUNS = 7;

const textOf = (n: number) => SOURCE.slice(0, n);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssNow = () => process.memoryUsage().rss;

/**
 * The daemon's engine: espeak-ng in a worker thread that stops when idle. Measured first, in a
 * process that has not loaded the engine itself: RSS with the worker loaded and after it stopped,
 * a synthesis with the worker warm, and one that has to start the worker first (a new alert's
 * message after a quiet spell; the phone is ringing meanwhile).
 */
async function threadEngine(text: string): Promise<string[]> {
  const before = rssNow();
  const e = (await EspeakThreadEngine.create({ idleMs: 1000 })) as EspeakThreadEngine;
  if (!(e instanceof EspeakThreadEngine)) throw new Error('no compiled speech worker: run from dist (npm run bench:tts)');
  await e.synthesize('warm up the JIT', { lang: 'en', rate: 160 });
  const loaded = rssNow();
  const warm: number[] = [];
  for (let r = 0; r < RUNS; r++) warm.push(await timeIt(() => e.synthesize(text, { lang: 'en', rate: 160 })));
  const restart: number[] = [];
  let unloaded = 0;
  for (let r = 0; r < 3; r++) {
    while (e.loaded) await sleep(50);
    await sleep(2000); // the worker's isolate and memory go a moment after it exits
    unloaded = rssNow();
    restart.push(await timeIt(() => e.synthesize(text, { lang: 'en', rate: 160 })));
  }
  await e.close();
  return [
    `speech worker (the daemon's engine, voice.unloadAfter): RSS ${(before / 1e6).toFixed(0)} MB before, ${(loaded / 1e6).toFixed(0)} MB with the worker loaded, ${(unloaded / 1e6).toFixed(0)} MB after it unloaded when idle`,
    `  synthesis of ${text.length} chars: ${median(warm).toFixed(1)} ms with the worker warm (baseline), ${median(restart).toFixed(1)} ms when it has to start the worker first (median of 3)`,
  ];
}

async function main(): Promise<void> {
  const threadLines = await threadEngine(textOf(100));
  const rss0 = process.memoryUsage().rss;
  const tCreate = performance.now();
  const engine = await EspeakWasmEngine.create();
  const createMs = performance.now() - tCreate;
  const rssEngine = process.memoryUsage().rss;

  const cold = async (text: string) => {
    const s = await engine.synthesize(text, { lang: 'en', rate: 160 });
    return toFrames(g711Encode(resample(s.samples, s.sampleRate, 8000), 'PCMU'), 'PCMU');
  };
  await cold('warm up the JIT'); // not counted
  const rssWarm = process.memoryUsage().rss;

  const dir = await mkdtemp(join(tmpdir(), 'alertline-bench-'));
  const service = await SpeechService.create({ voice: voiceSchema.parse({}), cacheDir: dir, logger: silentLogger, engine });

  const rows: string[][] = [];
  for (const [i, n] of LENGTHS.entries()) {
    const text = textOf(n);
    const coldMs: number[] = [];
    for (let r = 0; r < RUNS; r++) coldMs.push(await timeIt(() => cold(text)));
    // Baseline: what a synthesis costs without a warm instance.
    const freshMs: number[] = [];
    for (let r = 0; r < 3; r++) {
      freshMs.push(
        await timeIt(async () => {
          const e = await EspeakWasmEngine.create();
          const s = await e.synthesize(text, { lang: 'en', rate: 160 });
          g711Encode(resample(s.samples, s.sampleRate, 8000), 'PCMU');
          await e.close();
        }),
      );
    }
    await service.callFrames(text, 'en', 'PCMU'); // fills the cache
    const hitMs: number[] = [];
    for (let r = 0; r < 50; r++) hitMs.push(await timeIt(() => service.callFrames(text, 'en', 'PCMU')));
    const hitWavMs: number[] = [];
    for (let r = 0; r < 50; r++) hitWavMs.push(await timeIt(() => service.callWav(text, 'en')));
    const c = median(coldMs);
    const ref = REFERENCE_COLD_S[i]! * 1000;
    const audioS = (await cold(text)).length * 0.02;
    rows.push([
      String(n),
      audioS.toFixed(1),
      c.toFixed(1),
      median(freshMs).toFixed(1),
      (median(freshMs) / c).toFixed(1) + 'x',
      ref.toFixed(0),
      (ref / c).toFixed(0) + 'x',
      median(hitMs).toFixed(3),
      median(hitWavMs).toFixed(3),
    ]);
  }
  const head = ['chars', 'audio s', 'cold ms', 'fresh-inst ms', 'warm gain', 'ref ms', 'vs ref', 'hit frames ms', 'hit wav ms'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log('TTS benchmark (espeak-ng WASM, en, 160 wpm; cold = synth + resample 22050->8000 + PCMU frames, median of ' + RUNS + ')');
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
  console.log('');
  console.log(`engine start-up (compile + instantiate + voice list): ${createMs.toFixed(0)} ms`);
  console.log(`RSS: ${(rss0 / 1e6).toFixed(0)} MB before engine, ${(rssEngine / 1e6).toFixed(0)} MB with engine loaded, ${(rssWarm / 1e6).toFixed(0)} MB after its first synthesis (idle with speech), ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB at end (after the fresh-instance baseline runs)`);
  for (const l of threadLines) console.log(l);
  console.log('daemon RSS idle without/with speech and its peak in a 10 000-mail flood: npm run bench:ingest');
  console.log('reference design: 2370/2480/3130/3450 ms cold, < 1 ms on a cache hit');
  console.log('"fresh-inst" = baseline measured in this run: new WASM instance per synthesis; "warm gain" = fresh-inst / cold');
  await service.close();
  await rm(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
