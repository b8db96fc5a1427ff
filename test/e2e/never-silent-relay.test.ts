/**
 * Never silent when the mail relay refuses for ten minutes, with the daemon on an injected clock
 * (the waiting is long; the test moves time by hand and runs in seconds). The relay is a real SMTP
 * server answering 451 until ten minutes of that clock have passed; mail is the person's only
 * channel. The admin hears of it by SMS through the SIM900 simulator, the delivery keeps retrying
 * (mail retries with backoff) and goes through once the relay accepts, and the alarm resolves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { fixture, startSink, tempDir, testConfig, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { Sim900Simulator } from '../channels/gsm/sim900-simulator.js';
import { PLAY_SCRIPT } from '../channels/gsm/helpers.js';
import { openStores } from '../../src/store/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { memoryLogger } from '../../src/util/log.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

const ADMIN_PHONE = '+34600999000';
const MIN = 60_000;

describe('never silent: relay refusing for 10 minutes', () => {
  it('mail is the only channel: the delivery retries through ten minutes of 451s, the admin gets "relay failing" by SMS, the mail goes through when the relay accepts, the alarm resolves', async () => {
    const clock = new ManualClock(Date.now());
    const t0 = clock.now();
    const sim = await Sim900Simulator.create({ cmgsDelayMs: 50 });
    cleanups.push(() => sim.close());
    const sink = await startSink({ respond: () => (clock.now() - t0 < 10 * MIN ? [451, '4.3.0 relay overloaded, try later'] : null) });
    cleanups.push(() => sink.close());
    const tmp = tempDir('alertline-relay10-');
    cleanups.push(async () => tmp.cleanup());
    const config = testConfig(tmp.dir, {
      filter: { dedupeWindow: '0s' },
      channels: {
        order: ['mail', 'sms'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '2s', audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', join(sim.dir, 'play.log'), '100'] },
        sms: { enabled: true },
        // Tries at 0, 30 s, 1.5, 3.5, 7.5 and 15.5 min: the last one after the relay came back.
        mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, retries: 6, retryBackoff: '30s', timeout: '5s' },
      },
      admins: { group: 'admins', channelDownAfter: '2m' },
    });
    const s = openStores(config.dataDir);
    await s.users.add('ops@alerts.example', { channelOrder: 'mail' });
    await s.users.add('admin@alerts.example', { group: 'admins', phone: ADMIN_PHONE, channelOrder: 'sms' });
    await s.close();
    const d = await Daemon.start({ config, clock, logger: memoryLogger(), pollIntervalMs: 100, statusIntervalMs: 200, selfAlarms: { clockSynced: async () => null } });
    cleanups.push(() => d.stop(0));
    await d.channelsReady;
    await waitFor(async () => d.channels.channels.sms?.health().healthy, 20_000);

    /** Moves the clock in 30 s steps; at each, the self-alarms look and the dispatcher finishes what is due. */
    const advanceTo = async (ms: number) => {
      while (clock.now() - t0 < ms) {
        clock.advance(Math.min(30_000, ms - (clock.now() - t0)));
        await d.dispatcher.whenIdle();
        await d.selfAlarms.evaluate();
        await d.dispatcher.whenIdle();
      }
    };

    const r = await sendRaw(d.smtpPort(), { to: ['ops@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.ended_at !== null), 10_000);
    await d.dispatcher.whenIdle();

    // Two minutes of refusals: the relay alarm reaches the admin by SMS (mail is what fails).
    await advanceTo(2.5 * MIN);
    const smsToAdmin = () => sim.sent.filter((m) => m.to === ADMIN_PHONE).map((m) => m.text);
    await waitFor(() => smsToAdmin().some((t) => t.includes('channel mail failing') && t.includes('451 4.3.0 relay overloaded')), 10_000);
    const alarm = (await d.stores.alerts.list(50)).find((a) => a.problem_key === 'self:channel-failing:mail' && a.kind === 'problem')!;
    expect(alarm.received_at - t0).toBeGreaterThanOrEqual(2 * MIN);
    expect((await d.stores.alerts.attempts(alarm.id)).map((a) => `${a.channel}:${a.outcome}`)).toEqual(['sms:delivered']);

    // Ten minutes in, still refusing: the alert is not given up, one page only.
    await advanceTo(10 * MIN);
    expect((await d.stores.alerts.get(id))!.state).toBe('notifying');
    expect((await d.stores.alerts.deliveries(id))[0]!.state).toBe('queued');
    expect(smsToAdmin().filter((t) => t.includes('channel mail failing')).length).toBe(1);
    expect(sink.messages).toEqual([]);

    // The relay accepts again: the next retry delivers, and the alarm resolves (by SMS to the admin).
    await advanceTo(16 * MIN);
    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.outcome === 'delivered'), 10_000);
    expect(sink.messages.map((m) => m.to)).toEqual([['ops@alerts.example']]);
    await advanceTo(17 * MIN);
    await waitFor(async () => (await d.stores.alerts.get(alarm.id))!.state === 'resolved', 10_000);
    await waitFor(() => smsToAdmin().some((t) => /^RESOLVED/.test(t) && t.includes('channel mail failing')), 10_000);
    expect((await d.snapshot()).selfAlarms?.open).toEqual([]);

    // History tells the story: every refusal, spread over ten minutes and more, then the delivery.
    const story = await d.stores.alerts.attempts(id);
    expect(story.map((a) => `${a.round}:${a.channel}:${a.outcome}`)).toEqual([...Array(5).fill('1:mail:failed'), '1:mail:delivered']);
    expect(story.slice(0, 5).every((a) => /451 4\.3\.0 relay overloaded/.test(a.reason ?? ''))).toBe(true);
    expect(story.map((a) => Math.round((a.started_at - story[0]!.started_at) / 1000))).toEqual([0, 30, 90, 210, 450, 930]);
    expect((await d.stores.alerts.get(id))!.state).toBe('delivered');
  }, 120_000);
});
