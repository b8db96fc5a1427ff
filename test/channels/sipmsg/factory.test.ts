/**
 * The daemon's channel factories share the voip channel's SIP line with the sipmsg channel
 * explicitly: sipmsg is down until voip runs, up while it does, down again when it stops.
 */
import { describe, expect, it } from 'vitest';
import { channelFactories } from '../../../src/channels/factories.js';
import { configSchema } from '../../../src/config/schema.js';
import { memoryLogger } from '../../../src/util/log.js';
import { FakePromptAudio } from '../voip/sipp/helpers.js';

describe('sipmsg shares the voip channel\'s SIP line', () => {
  it('down without voip, up through voip\'s server while it runs, down after it stops', async () => {
    const f = channelFactories({
      logger: memoryLogger(),
      inbound: { message: async () => null, callBack: async () => null },
      audio: async () => new FakePromptAudio(),
    });
    const cfg = configSchema.parse({
      channels: {
        voip: { enabled: true, server: '127.0.0.1:9', register: false, localAddress: '127.0.0.1', localPort: 0 },
        sipmsg: { enabled: true },
      },
    });
    const sipmsg = await f.sipmsg!(cfg);
    await sipmsg.start?.();
    expect(sipmsg.health()).toMatchObject({ healthy: false });
    const voip = await f.voip!(cfg);
    await voip.start?.();
    expect(sipmsg.health()).toEqual({ healthy: true, detail: 'through 127.0.0.1:9' });
    await voip.stop?.();
    expect(sipmsg.health().healthy).toBe(false);
    await sipmsg.stop?.();
  });
});
