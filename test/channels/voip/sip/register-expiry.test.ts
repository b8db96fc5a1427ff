/**
 * Issue 19 item 7: a registrar granting `Expires: 4294967295` (or a configured
 * voip.registerExpires of 60 days granted as asked) must not overflow Node's timer limit
 * (2^31-1 ms), which would fire the refresh after 1 ms and flood the registrar: exactly one
 * REGISTER per refresh, and refreshes at most a day apart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../../../src/util/clock.js';
import { silentLogger } from '../../../../src/util/log.js';
import { UdpTransport } from '../../../../src/channels/voip/sip/transport/udp-transport.js';
import { MAX_REFRESH_MS, Registration, refreshDelayMs } from '../../../../src/channels/voip/sip/ua/registration.js';
import { SipUserAgent } from '../../../../src/channels/voip/sip/ua/user-agent.js';
import type { VoipChannel } from '../../../../src/channels/voip/voip-channel.js';
import { makeChannel } from '../sipp/helpers.js';
import { registrar, settle, until } from './udp-peers.js';

let cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const HUGE = '4294967295';

async function agent(port: number, clock: Clock = systemClock) {
  const transport = await UdpTransport.open({ address: '127.0.0.1', port: 0, logger: silentLogger });
  cleanup.push(() => transport.close());
  const ua = new SipUserAgent({ transport, clock, logger: silentLogger, username: '200', domain: 'pbx.test', password: '', outboundProxy: { address: '127.0.0.1', port } });
  cleanup.push(() => ua.close());
  return ua;
}

describe('registration refresh with huge expiries', () => {
  it('refresh delay: half the grant, capped at a day', () => {
    expect(refreshDelayMs(4294967295)).toBe(MAX_REFRESH_MS);
    expect(refreshDelayMs(5_184_000)).toBe(MAX_REFRESH_MS);
    expect(refreshDelayMs(172_800)).toBe(MAX_REFRESH_MS);
    expect(refreshDelayMs(7200)).toBe(3_600_000);
  });

  it('Expires: 4294967295 from the registrar → one REGISTER, next one a day later, not a storm', async () => {
    const reg = await registrar(() => ({ status: 200, reason: 'OK', headers: [['Expires', HUGE]] }));
    cleanup.push(reg.close);
    const ua = await agent(reg.port);
    const registration = new Registration(ua, { expires: 3600, registrar: { address: '127.0.0.1', port: reg.port } });
    await registration.start();
    const before = Date.now();
    expect(registration.status()).toMatchObject({ state: 'registered', grantedExpires: 4294967295 });
    await settle(300); // an overflowed timer would fire every millisecond here
    expect(reg.seen.length).toBe(1);
    const next = registration.status().nextAttemptAt!;
    expect(next).toBeGreaterThanOrEqual(before + MAX_REFRESH_MS - 1000);
    expect(next).toBeLessThanOrEqual(Date.now() + MAX_REFRESH_MS);
    await registration.stop();
    expect(reg.seen.map((r) => r.headers.get('Expires'))).toEqual(['3600', '0']);
  });

  it('voip.registerExpires: 60d granted as asked → one REGISTER with Expires 5184000, refresh in a day', async () => {
    const reg = await registrar((req) => ({ status: 200, reason: 'OK', headers: [['Expires', req.headers.get('Expires')!]] }));
    cleanup.push(reg.close);
    const { channel } = makeChannel(reg.port, { register: true, registerExpires: '60d' });
    const ch: VoipChannel = channel;
    cleanup.push(() => ch.stop());
    await ch.start();
    expect(ch.health().healthy).toBe(true);
    await settle(300);
    expect(reg.seen.length).toBe(1);
    expect(reg.seen[0]!.headers.get('Expires')).toBe('5184000');
    const status = ch.status().registration as { grantedExpires?: number; nextAttemptAt?: number };
    expect(status.grantedExpires).toBe(5_184_000);
    expect(status.nextAttemptAt! - Date.now()).toBeGreaterThan(MAX_REFRESH_MS - 60_000);
  });

  it('on an injected clock: exactly one REGISTER per day while the registrar keeps granting 2^32-1 s', async () => {
    const reg = await registrar(() => ({ status: 200, reason: 'OK', headers: [['Expires', HUGE]] }));
    cleanup.push(reg.close);
    const clock = new ManualClock(0);
    const ua = await agent(reg.port, clock);
    const registration = new Registration(ua, { expires: 2 ** 40, registrar: { address: '127.0.0.1', port: reg.port } });
    await registration.start();
    expect(reg.seen[0]!.headers.get('Expires')).toBe(HUGE); // what we ask for is capped at 2^32-1 too
    for (let day = 1; day <= 3; day++) {
      clock.advance(MAX_REFRESH_MS - 1);
      expect(reg.seen.length).toBe(day); // the refresh timer has not fired a millisecond early
      clock.advance(1);
      await until(() => registration.status().nextAttemptAt === (day + 1) * MAX_REFRESH_MS);
      expect(reg.seen.length).toBe(day + 1);
      expect(registration.status().state).toBe('registered');
    }
  });
});
