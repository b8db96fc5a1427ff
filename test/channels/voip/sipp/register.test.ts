import { afterEach, describe, expect, it } from 'vitest';
import { makeChannel, startSipp, type SippRun } from './helpers.js';
import type { VoipChannel } from '../../../../src/channels/voip/voip-channel.js';

let sipp: SippRun | undefined;
let channel: VoipChannel | undefined;
afterEach(async () => {
  await channel?.stop();
  await sipp?.kill();
  channel = undefined;
  sipp = undefined;
});

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('REGISTER against a sipp registrar', () => {
  it('answers the 401 (verifyauth), refreshes in the same Call-ID with a higher CSeq before expiry, unregisters on stop', async () => {
    sipp = await startSipp('register-digest.xml');
    const made = makeChannel(sipp.port, { register: true, registerExpires: '60s' });
    channel = made.channel;
    await channel.start();
    expect(channel.health()).toEqual({ healthy: true, detail: `registered to 127.0.0.1:${sipp.port}` });
    const first = channel.status();
    expect(first.registration).toMatchObject({ state: 'registered', grantedExpires: 2 });
    // the refresh (at half of the granted 2 s) gets challenged again and granted 30 s
    await until(() => (channel!.status().registration as { grantedExpires?: number }).grantedExpires === 30, 10_000);
    expect(channel.health().healthy).toBe(true);
    await channel.stop();
    channel = undefined;
    const result = await sipp.done;
    expect(result.code, result.output).toBe(0);
  });
});
