import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { freePort, job, makeChannel, rtpSink, sippRows, startSipp, toneFrames, type SippRun } from './helpers.js';
import type { VoipChannel } from '../../../../src/channels/voip/voip-channel.js';

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
  onTestFailed(async () => {
    console.log(made.logger.lines.join('\n'));
    await sipp.kill();
    console.log((await sipp.done).output);
  });
  await channel.start();
  cleanup.push(() => channel.stop());
  return { sipp, ...made };
}

/** Fails instead of hanging when a promise does not settle within ms. */
function within<T>(p: Promise<T>, ms = 20_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms).unref())]);
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
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
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

  it('first INVITE lost → retransmitted with the same branch; 486 → ACK in the transaction → busy', async () => {
    const { sipp, channel } = await setup('invite-loss-busy.xml');
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out).toMatchObject({ kind: 'busy', reason: '486 Busy Here', retryable: true });
    await sippPassed(sipp);
    // sipp's final screen: "----------> INVITE   <messages>  <retrans> ..." — the UA retransmitted
    const rows = sippRows((await sipp.done).output, 'INVITE');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.messages).toBe(1);
    expect(rows[0]!.retrans).toBeGreaterThanOrEqual(1);
  });

  it('no answer → CANCEL after the ring timeout, 487 ACKed → no-answer', async () => {
    const { sipp, channel } = await setup('no-answer-cancel.xml', {}, { ringTimeout: '1s' });
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out).toMatchObject({ kind: 'no-answer', retryable: true });
    expect(out.reason).toMatch(/no answer within 1 s/);
    await sippPassed(sipp);
  });

  it('183 with SDP then 200 counts as answered; key 1 sent by sipp as RFC 4733 events (play_dtmf) → acknowledged', async () => {
    const media = await freePort();
    const { sipp, channel, audio } = await setup('dtmf-rtp.xml', { mediaPort: media }, {}, { seconds: 4 });
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out).toMatchObject({ kind: 'acknowledged', reason: 'key 1 pressed', retryable: false });
    expect(audio.phrases).toEqual(['acknowledged']);
    await sippPassed(sipp);
  });

  it('far end hangs up mid-message → 200 to its BYE, call ends early, no BYE of ours', async () => {
    const media = await freePort();
    const { sipp, channel } = await setup('remote-bye.xml', { mediaPort: media }, {}, { seconds: 6 });
    const started = Date.now();
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out).toMatchObject({ kind: 'answered', reason: 'far end hung up' });
    expect(Date.now() - started).toBeLessThan(6000); // did not play the 6 s message to the end
    await sippPassed(sipp);
  });

  it('200 OK sent again after our ACK (lost 200) → ACKed again', async () => {
    const media = await freePort();
    const { sipp, channel } = await setup('lost-200.xml', { mediaPort: media }, {}, { seconds: 4 });
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out).toMatchObject({ kind: 'answered', reason: 'far end hung up' });
    await sippPassed(sipp);
    // sipp's final screen has one row per <recv request="ACK">: messages and retransmissions.
    // Whether sipp files the second ACK as a retransmission of the first or matches it with the
    // optional recv, two ACKs must have arrived: one per copy of the 200.
    const rows = sippRows((await sipp.done).output, 'ACK');
    expect(rows.length).toBe(2);
    expect(rows.reduce((n, r) => n + r.messages + r.retrans, 0)).toBeGreaterThanOrEqual(2);
  });
});

describe('limits and aborts', () => {
  it('abort signal while ringing → CANCEL, 487 ACKed, resolves promptly', async () => {
    const { sipp, channel } = await setup('no-answer-cancel.xml');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const out = await within(channel.deliver(job('201'), ac.signal), 8000);
    expect(out).toMatchObject({ kind: 'failed', reason: 'aborted while ringing', retryable: true });
    await sippPassed(sipp);
  });

  it('the call never outlives voip.maxCallDuration: BYE after 1 s of a 6 s message', async () => {
    const sink = await rtpSink();
    cleanup.push(() => sink.close());
    const { sipp, channel } = await setup('call-answer.xml', { vars: { rtpport: sink.port } }, { maxCallDuration: '1s' }, { seconds: 6 });
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out).toMatchObject({ kind: 'answered', reason: 'maximum call duration reached' });
    await sippPassed(sipp);
    expect(sink.packets.length).toBeLessThan(150); // well short of the 300 packets of the whole message
  });
});

for (const transport of ['u1', 't1'] as const) {
  describe(`INVITE digest + SIP INFO keypress (${transport === 't1' ? 'TCP' : 'UDP'})`, () => {
    it('401 answered (verifyauth), INFO dtmf-relay Signal=1 → 200 → acknowledged', async () => {
      const media = await freePort();
      const { sipp, channel, audio } = await setup('info-dtmf-auth.xml', { transport, mediaPort: media }, {}, { seconds: 4 });
      const out = await within(channel.deliver(job('sip:201@alertline.test'), new AbortController().signal));
      expect(out).toMatchObject({ kind: 'acknowledged' });
      expect(audio.phrases).toEqual(['acknowledged']);
      await sippPassed(sipp);
    });
  });
}
