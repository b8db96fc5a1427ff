/**
 * Dial first, speak later, through the SIM900 simulator on a real pty with the real speech
 * service (prompt cache, WAV files) and an injected TTS engine that is slow (or broken) for the
 * alert's message: ATD goes out before the message is synthesized; a callee who answers before
 * it is ready hears the hold phrase, then the message, and can acknowledge; a message that never
 * comes is replaced by the generic one (intro + key prompt) and the call still works.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpeechService } from '../../../src/audio/speech-service.js';
import { phraseText } from '../../../src/audio/phrases.js';
import { TtsError, type Synthesis, type SynthesisOptions, type TtsEngine } from '../../../src/audio/tts-engine.js';
import { voiceText } from '../../../src/compose/texts.js';
import { GsmCallChannel } from '../../../src/channels/gsm/gsm-call-channel.js';
import { Sim900Modem } from '../../../src/channels/gsm/sim900-modem.js';
import type { SharedModem } from '../../../src/channels/gsm/modem/shared-modem.js';
import { memoryLogger, silentLogger } from '../../../src/util/log.js';
import { gsmConfig, job, PLAY_SCRIPT, playLog, shared, voiceConfig } from './helpers.js';
import { Sim900Simulator } from './sim900-simulator.js';

/** A tone per text (length from the text); texts other than the fixed phrases are slow or fail. */
class SlowEngine implements TtsEngine {
  readonly id = 'slow-tone-test';
  delayMs = 0;
  fail = false;
  /** When each synthesis of a non-phrase text started and ended (timeOrigin + performance.now()). */
  readonly syntheses: Array<{ text: string; started: number; ended: number }> = [];
  private readonly phrases = new Set(['intro', 'hold', 'keyPrompt', 'acknowledged', 'escalated', 'snoozed', 'resolved', 'goodbye'].map((k) => phraseText(k as never, 'en')));

  async synthesize(text: string, _opts: SynthesisOptions): Promise<Synthesis> {
    const samples = new Int16Array(8000 * 0.2 + text.length * 40);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
    if (this.phrases.has(text)) return { samples, sampleRate: 8000 };
    const started = performance.timeOrigin + performance.now();
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.syntheses.push({ text, started, ended: performance.timeOrigin + performance.now() });
    if (this.fail) throw new TtsError('engine crashed (test)');
    return { samples, sampleRate: 8000 };
  }
  listLanguages() {
    return ['en'];
  }
  hasLanguage(lang: string) {
    return lang === 'en';
  }
  async close() {}
}

const SLOW = '+15550002001';
const BROKEN = '+15550002002';

let sim: Sim900Simulator;
let modem: Sim900Modem;
let owner: SharedModem;
let engine: SlowEngine;
let speech: SpeechService;
let dir: string;
let logFile: string;

beforeAll(async () => {
  sim = await Sim900Simulator.create({
    calls: {
      // Answered 200 ms after ATD; key 1 3 s after the answer (the message is ready after ~1.5 s).
      [SLOW]: { result: 'answer', afterMs: 200, keys: [{ afterMs: 3000, key: '1' }] },
      [BROKEN]: { result: 'answer', afterMs: 200, keys: [{ afterMs: 1500, key: '1' }] },
    },
  });
  modem = new Sim900Modem({ config: gsmConfig(sim.driverPath), logger: memoryLogger(), registrationPoll: 100, probeTimeout: 300, settleTime: 50 });
  await modem.start();
  await modem.idle();
  owner = shared(modem);
  dir = mkdtempSync(join(tmpdir(), 'alertline-slow-prompt-'));
  logFile = join(dir, 'plays.log');
  engine = new SlowEngine();
  speech = await SpeechService.create({ voice: voiceConfig({ wavRate: 8000 }), cacheDir: join(dir, 'cache'), logger: silentLogger, engine });
});

afterAll(async () => {
  await modem.stop();
  await sim.close();
  await speech.close();
  rmSync(dir, { recursive: true, force: true });
});

function channel() {
  const log = memoryLogger();
  const ch = new GsmCallChannel({
    modem: owner,
    audio: speech,
    voice: voiceConfig({ repeat: 1 }),
    gsm: gsmConfig(sim.driverPath, { audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', logFile, '300'], ringTimeout: '5s', maxCallDuration: '20s' }),
    logger: log,
    pollInterval: 100,
    timings: { keyWaitMs: 2500, gapMs: 100, promptWaitMs: 4000 },
  });
  return { ch, log };
}

describe('gsm: the call dials first and its message is prepared while it rings', () => {
  it('answered before the slow message is synthesized: hold phrase, then the message, key 1 acknowledges; ATD went out before synthesis', async () => {
    engine.delayMs = 1500;
    engine.fail = false;
    const { ch, log } = channel();
    const j = job({ phone: SLOW, subject: 'Problem: slow prompt on db7' });
    const from = sim.commands.length;
    const playsFrom = playLog(logFile).length;
    const result = await ch.deliver(j, new AbortController().signal);
    expect(result, log.lines.join('\n')).toMatchObject({ kind: 'acknowledged', reason: 'key 1 pressed', detail: { answered: true, plays: 1, prompt: 'waited', keys: '1' } });

    const plays = playLog(logFile).slice(playsFrom).map((p) => p.file);
    // Rendered by now, so these come from the cache: the same files the call played.
    const hold = await speech.phraseWav('hold', 'en');
    const message = await speech.callWav(voiceText(j.alert, 'en', 0), 'en');
    const acknowledged = await speech.phraseWav('acknowledged', 'en');
    expect(plays).toEqual([hold, message, acknowledged]);

    // The dial was written before the message's synthesis had even started.
    const atd = sim.commands.indexOf(`ATD${SLOW};`, from);
    expect(atd).toBeGreaterThanOrEqual(from);
    const synth = engine.syntheses.find((s) => s.text.includes('slow prompt on db7'));
    expect(synth).toBeDefined();
    expect(sim.commandTimes[atd]!).toBeLessThan(synth!.started);
    expect(sim.commands.slice(from).at(-1)).toBe('ATH');
  });

  it('the message cannot be synthesized: the generic message (intro, key prompt) is spoken and key 1 still acknowledges', async () => {
    engine.delayMs = 0;
    engine.fail = true;
    const { ch, log } = channel();
    const playsFrom = playLog(logFile).length;
    const result = await ch.deliver(job({ phone: BROKEN, subject: 'Problem: broken prompt on db8' }), new AbortController().signal);
    expect(result, log.lines.join('\n')).toMatchObject({ kind: 'acknowledged', detail: { answered: true, prompt: 'generic', keys: '1' } });
    const plays = playLog(logFile).slice(playsFrom).map((p) => p.file);
    expect(plays.slice(0, 2)).toEqual([await speech.phraseWav('intro', 'en'), await speech.phraseWav('keyPrompt', 'en')]);
    expect(plays.at(-1)).toBe(await speech.phraseWav('acknowledged', 'en'));
    expect(log.lines.join('\n')).toMatch(/call\.prompt_unavailable.*engine crashed \(test\)/);
  });
});
