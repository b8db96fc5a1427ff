/**
 * Dial first, speak later, against sipp: the callee answers while the message is still being
 * rendered (a slow PromptAudio), hears the hold phrase and the line's silence, then the whole
 * message, byte for byte, on the RTP it sees.
 */
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import type { G711Codec } from '../../../../src/audio/prompt-audio.js';
import { FakePromptAudio, job, makeChannel, rtpSink, startSipp, toneFrames } from './helpers.js';

/** Renders the message only after `delayMs`. */
class SlowPromptAudio extends FakePromptAudio {
  constructor(private readonly delayMs: number) {
    super(1.5);
  }
  override async callFrames(message: string, lang: string, codec: G711Codec): Promise<Buffer[]> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.callFrames(message, lang, codec);
  }
}

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

describe('voip: the message is prepared while it rings', () => {
  it('answered before the message is rendered: hold phrase, silence, then the message in full; no key → answered', async () => {
    const sink = await rtpSink();
    cleanup.push(() => sink.close());
    const sipp = await startSipp('call-answer.xml', { vars: { rtpport: sink.port } });
    cleanup.push(() => sipp.kill());
    const audio = new SlowPromptAudio(1200);
    const { channel, logger } = makeChannel(sipp.port, {}, { audio, timings: { keyWaitMs: 300, gapMs: 100, promptWaitMs: 5000 } });
    onTestFailed(async () => {
      console.log(logger.lines.join('\n'));
      await sipp.kill();
      console.log((await sipp.done).output);
    });
    await channel.start();
    cleanup.push(() => channel.stop());

    const out = await channel.deliver(job('201'), new AbortController().signal);
    expect(out).toMatchObject({ kind: 'answered', reason: 'message played, no key pressed', detail: { plays: 1, prompt: 'waited', codec: 'PCMA' } });
    expect((await sipp.done).code).toBe(0);
    expect(audio.phrases).toEqual(['hold']);

    const payloads = sink.packets.filter((p) => p.length >= 12 && p[0]! >> 6 === 2).map((p) => p.subarray(12).toString('hex'));
    const hold = toneFrames('PCMA', 0.3, 880).map((f) => f.toString('hex'));
    const message = toneFrames('PCMA', 1.5).map((f) => f.toString('hex'));
    const silence = Buffer.alloc(160, 0xd5).toString('hex');
    // First the hold phrase, then the line's silence while waiting, then the message in full.
    expect(payloads.slice(0, hold.length)).toEqual(hold);
    const start = payloads.indexOf(message[0]!);
    expect(start).toBeGreaterThan(hold.length);
    expect(payloads.slice(hold.length, start).every((p) => p === silence)).toBe(true);
    expect(payloads.slice(start, start + message.length)).toEqual(message);
  });
});
