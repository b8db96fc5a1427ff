import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandEngine } from '../../src/audio/command-engine.js';
import { SpeechService } from '../../src/audio/speech-service.js';
import { parseWav, wavToMono16 } from '../../src/audio/wav.js';
import { voiceSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/util/log.js';

const FAKE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fake-tts.mjs');
const NODE = process.execPath;

describe('command TTS engine', () => {
  let dir: string;
  let log: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alertline-cmd-test-'));
    log = join(dir, 'received.log');
    process.env.FAKE_TTS_LOG = log;
  });
  afterEach(async () => {
    delete process.env.FAKE_TTS_LOG;
    await rm(dir, { recursive: true, force: true });
  });
  const received = async () => (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string);

  it('runs the program with {text} and {file} and reads its WAV', async () => {
    const e = new CommandEngine({ argv: [NODE, FAKE, '{text}', '{file}'] });
    const s = await e.synthesize('hello', { lang: 'en', rate: 160 });
    expect(s.sampleRate).toBe(16000);
    expect(s.samples.length).toBe(1600 * 5);
    expect(await received()).toEqual(['hello']);
  });

  it('passes shell metacharacters verbatim, never through a shell', async () => {
    const marker = join(dir, 'pwned');
    const evil = `$(touch ${marker}); touch ${marker} && \`touch ${marker}\` | > ${marker} "'\\ *`;
    const e = new CommandEngine({ argv: [NODE, FAKE, '{text}', '{file}'] });
    await e.synthesize(evil, { lang: 'en', rate: 160 });
    expect(await received()).toEqual([evil]);
    expect(existsSync(marker)).toBe(false);
  });

  it('does not let text that looks like an option become one, nor re-expand placeholders in it', async () => {
    const e = new CommandEngine({ argv: [NODE, FAKE, '{text}', '{file}'] });
    await e.synthesize('--sleep {file}', { lang: 'en', rate: 160 });
    expect(await received()).toEqual([' --sleep {file}']);
  });

  it('uses stdin and stdout when the template has no {text} / {file}', async () => {
    const e = new CommandEngine({ argv: [NODE, FAKE, '--stdio'] });
    const s = await e.synthesize('piped text', { lang: 'es', rate: 120 });
    expect(s.samples.length).toBe(1600 * 10);
    expect(await received()).toEqual(['piped text']);
  });

  it('reports failures clearly: exit status, missing program, timeout, garbage output', async () => {
    const opts = { lang: 'en', rate: 160 };
    await expect(new CommandEngine({ argv: [NODE, FAKE, '--fail'] }).synthesize('x', opts)).rejects.toThrow(/exit status 3.*voice model not found/);
    await expect(new CommandEngine({ argv: ['/nonexistent/tts-program', '{file}'] }).synthesize('x', opts)).rejects.toThrow(/cannot run/);
    await expect(new CommandEngine({ argv: [NODE, FAKE, '--sleep'], timeoutMs: 500 }).synthesize('x', opts)).rejects.toThrow(/timed out/);
    await expect(new CommandEngine({ argv: [NODE, FAKE, '--garbage'] }).synthesize('x', opts)).rejects.toThrow(/usable WAV/);
    await expect(new CommandEngine({ argv: [NODE, FAKE, '{text}', '{file}'] }).synthesize('x', { lang: 'e n', rate: 160 })).rejects.toThrow(/language/);
    expect(() => new CommandEngine({ argv: [] })).toThrow(/voice.command/);
  });

  it('works with sox as the program, end to end through SpeechService (8 kHz out)', async () => {
    const voice = voiceSchema.parse({
      engine: 'command',
      command: ['sox', '-n', '-r', '16000', '-b', '16', '-c', '1', '{file}', 'synth', '0.5', 'sine', '440'],
    });
    const s = await SpeechService.create({ voice, cacheDir: join(dir, 'cache'), logger: silentLogger });
    const w = parseWav(await readFile(await s.phraseWav('goodbye', 'en')));
    expect(w.sampleRate).toBe(8000);
    expect(wavToMono16(w).length).toBe(4000);
    const frames = await s.callFrames('anything', 'en', 'PCMU');
    // intro + message + prompt of 0.5 s each, plus two pauses of 0.45 s: 2.4 s = 120 frames.
    expect(frames).toHaveLength(120);
    await s.close();
  });

  it('is refused at start without voice.command', async () => {
    await expect(
      SpeechService.create({ voice: voiceSchema.parse({ engine: 'command' }), cacheDir: join(dir, 'c'), logger: silentLogger }),
    ).rejects.toThrow(/voice.command is not set/);
  });
});
