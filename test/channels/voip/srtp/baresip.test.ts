/**
 * SDES-SRTP against a real, independent implementation: baresip (libre's SRTP) on loopback as
 * the called phone. The voip channel places the call directly to it (no registrar).
 */
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { job, makeChannel } from '../sipp/helpers.js';
import { audible, startBaresip, wavSamples, type Baresip, type MediaEnc } from './baresip.js';

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

async function setup(mediaenc: MediaEnc, srtp: 'off' | 'optional' | 'required', seconds = 2.5) {
  const phone: Baresip = await startBaresip(mediaenc);
  cleanup.push(() => phone.stop());
  const made = makeChannel(phone.sipPort, { srtp }, { seconds, repeat: 1 });
  onTestFailed(() => {
    console.log(made.logger.lines.join('\n'));
    console.log(phone.output().slice(-6000));
  });
  await made.channel.start();
  cleanup.push(() => made.channel.stop());
  return { phone, ...made };
}

/** Presses `digit` on the phone `afterMs` after the call is up. */
function pressAfter(phone: Baresip, digit: string, afterMs: number): void {
  void phone.established().then(() => setTimeout(() => phone.sendDigit(digit), afterMs));
}

function logStats(lines: string[]): { packetsReceived: number; srtpDropped: number } {
  const closed = lines.find((l) => l.includes('rtp.closed'));
  const num = (k: string) => Number(new RegExp(`${k}=(\\d+)`).exec(closed ?? '')?.[1] ?? NaN);
  return { packetsReceived: num('packetsReceived'), srtpDropped: num('srtpDropped') };
}

describe('SRTP with baresip on loopback', () => {
  it('srtp required: the phone hears the message decrypted, and key 1 sent over SRTP acknowledges', async () => {
    const { phone, channel, logger } = await setup('srtp-mand', 'required');
    pressAfter(phone, '1', 1800);
    const out = await channel.deliver(job('bob'), new AbortController().signal);
    expect(out.kind).toBe('acknowledged');
    expect(out.detail?.srtp).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(phone.output()).toContain('SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)');
    // what baresip decoded from our SRTP is the 440 Hz prompt, not noise
    const wavs = await phone.decodedWavs();
    expect(wavs).toHaveLength(1);
    const heard = audible(wavSamples(wavs[0]!));
    expect(heard.seconds).toBeGreaterThan(1.2);
    expect(heard.hz).toBeGreaterThan(400);
    expect(heard.hz).toBeLessThan(480);
    // its SRTP audio authenticated at our end (the plain RTCP "PING" baresip sends is dropped)
    expect(logStats(logger.lines).packetsReceived).toBeGreaterThan(50);
    // SDP reached the debug log with the keys masked
    const log = logger.lines.join('\n');
    expect(log).toContain('m=audio');
    expect(log).toContain('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:***');
    expect(log).not.toMatch(/inline:[A-Za-z0-9+/]{40}/);
  });

  it('srtp optional against a phone that offers SRTP optionally: the call is encrypted', async () => {
    const { phone, channel } = await setup('srtp', 'optional');
    pressAfter(phone, '1', 800);
    const out = await channel.deliver(job('bob'), new AbortController().signal);
    expect(out.kind).toBe('acknowledged');
    expect(out.detail?.srtp).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(phone.output()).toContain('SRTP is Enabled');
  });

  it('srtp optional against a phone without SRTP: the call runs in clear and still acknowledges', async () => {
    const { phone, channel, logger } = await setup('none', 'optional');
    pressAfter(phone, '1', 800);
    const out = await channel.deliver(job('bob'), new AbortController().signal);
    expect(out.kind).toBe('acknowledged');
    expect(out.detail?.srtp).toBe('off');
    expect(phone.output()).not.toContain('SRTP is Enabled');
    expect(logStats(logger.lines).srtpDropped).toBe(0);
  });

  it('srtp required against a phone without SRTP: no call in clear', async () => {
    const { channel } = await setup('none', 'required');
    const out = await channel.deliver(job('bob'), new AbortController().signal);
    // baresip refuses the RTP/SAVP offer: 488 Not Acceptable Here, and no media flows in clear
    expect(out.kind).toBe('rejected');
    expect(out.detail?.status).toBe(488);
    expect(out.retryable).toBe(false);
  });
});
