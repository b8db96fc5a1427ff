import { afterEach, describe, expect, it } from 'vitest';
import { job, makeChannel, rtpSink, startSipp, toneFrames, type SippRun } from './helpers.js';
import type { VoipChannel } from '../../../src/channels/voip/voip-channel.js';

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

async function setup(scenario: string, opts: Parameters<typeof startSipp>[1] = {}, voip: Record<string, unknown> = {}, extra: Parameters<typeof makeChannel>[2] = {}) {
  const sipp: SippRun = await startSipp(scenario, opts);
  cleanup.push(() => sipp.kill());
  const made = makeChannel(sipp.port, { transport: opts.transport === 't1' ? 'tcp' : 'udp', ...voip }, extra);
  const channel: VoipChannel = made.channel;
  await channel.start();
  cleanup.push(() => channel.stop());
  return { sipp, ...made };
}

async function sippPassed(sipp: SippRun) {
  const r = await sipp.done;
  expect(r.code, r.output).toBe(0);
}

describe('calls against sipp (UDP)', () => {
  it('407 → ACK + authenticated re-INVITE; 180 then 200; ACK to the Contact; RTP to the SDP port with the negotiated codec; no key → answered', async () => {
    const sink = await rtpSink();
    cleanup.push(() => sink.close());
    const { sipp, channel, audio } = await setup('call-answer.xml', { vars: { rtpport: sink.port } });
    const out = await channel.deliver(job('201'), new AbortController().signal);
    expect(out.kind).toBe('answered');
    expect(out.reason).toBe('message played, no key pressed');
    expect(out.detail).toMatchObject({ codec: 'PCMA' });
    await sippPassed(sipp);

    // We offered PCMU first; the far end accepted PCMA only: every packet must be PT 8 to the sink.
    expect(audio.calls.map((c) => c.codec)).toContain('PCMA');
    const rtp = sink.packets.filter((p) => p.length >= 12 && p[0]! >> 6 === 2);
    const expected = toneFrames('PCMA', 1.5);
    expect(rtp.length).toBeGreaterThanOrEqual(expected.length);
    const pts = new Set(rtp.map((p) => p[1]! & 0x7f));
    expect([...pts]).toEqual([8]);
    const ssrc = new Set(rtp.map((p) => p.readUInt32BE(8)));
    expect(ssrc.size).toBe(1);
    for (let i = 1; i < rtp.length; i++) {
      expect((rtp[i]!.readUInt16BE(2) - rtp[i - 1]!.readUInt16BE(2)) & 0xffff).toBe(1);
      expect((rtp[i]!.readUInt32BE(4) - rtp[i - 1]!.readUInt32BE(4)) >>> 0).toBe(160);
    }
    expect(rtp[0]![1]! & 0x80).toBe(0x80); // marker on the talkspurt start
    // the message's frames arrive byte for byte, in order
    expect(rtp.slice(0, expected.length).map((p) => p.subarray(12).toString('hex'))).toEqual(expected.map((f) => f.toString('hex')));
  });
});
