/**
 * Never silent, end to end with faults injected for real: the SIM900 simulator on a socat pty
 * (its port vanishing and coming back) and a real SMTP sink as the mail relay (refusing with 451).
 * The daemon runs with the real gsm, sms and mail channels; its own alarms go through the normal
 * admission to the users of admins.group, through whichever channel still works.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { fixture, startSink, tempDir, testConfig, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { Sim900Simulator } from '../channels/gsm/sim900-simulator.js';
import { PLAY_SCRIPT } from '../channels/gsm/helpers.js';
import { openStores } from '../../src/store/index.js';
import { freePort, startSipp } from '../channels/voip/sipp/helpers.js';
import { memoryLogger } from '../../src/util/log.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}, 60_000);

const ANA = '+34600111222';
const ADMIN_PHONE = '+34600999000';

/** A daemon with the real channels, evaluating its self-alarms every 200 ms. */
async function daemon(over: Record<string, unknown>, users: [string, Record<string, string>][]) {
  const tmp = tempDir('alertline-never-silent-');
  cleanups.push(async () => tmp.cleanup());
  const config = testConfig(tmp.dir, over);
  const s = openStores(config.dataDir);
  for (const [email, f] of users) await s.users.add(email, f);
  await s.close();
  const logger = memoryLogger();
  // The 15-minute re-page limit is the rules' to show (test/appliance/self-alarms*.test.ts); here a
  // slow start-up that briefly raised a channel alarm must not hold back the one under test.
  const d = await Daemon.start({ config, logger, pollIntervalMs: 100, statusIntervalMs: 200, selfAlarms: { clockSynced: async () => null, repageMs: 0 } });
  cleanups.push(() => d.stop(0));
  await d.channelsReady;
  return { d, logger, config };
}

function subjectOf(raw: Buffer): string {
  return /^Subject: (.*)$/m.exec(raw.toString('utf8'))?.[1] ?? '';
}

describe('never silent', () => {
  it('modem unplugged: the alert waits without burning its rounds, the admin hears of it by mail; modem back: the call goes out and the alarm resolves', async () => {
    const sim = await Sim900Simulator.create({ cmgsDelayMs: 50, calls: { [ANA]: { result: 'answer', afterMs: 300, hangupAfterMs: 800 } } });
    cleanups.push(() => sim.close());
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const { d, logger } = await daemon({
      filter: { dedupeWindow: '0s' },
      voice: { repeat: 1 },
      channels: {
        order: ['gsm', 'sms', 'mail'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '2s', ringTimeout: '10s', audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', join(sim.dir, 'play.log'), '500'] },
        sms: { enabled: true },
        mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, retries: 0, timeout: '5s' },
      },
      escalation: { rounds: 3, roundInterval: '60s', quickRetry: '0s', maxWait: '30m' },
      // Longer than the modem's bring-up at start (about 2 s with the simulator).
      admins: { group: 'admins', channelDownAfter: '5s' },
    }, [
      // Ana is reached only through the modem; the admin only by mail.
      ['ana@alerts.example', { phone: ANA, channelOrder: 'gsm,sms' }],
      ['admin@alerts.example', { group: 'admins' }],
    ]);
    await waitFor(async () => d.channels.channels.gsm?.health().healthy, 20_000);

    await waitFor(async () => d.channels.channels.sms?.health().healthy, 20_000);
    // Alarms from here on (a slow start-up may have raised and resolved one already).
    const mark = Math.max(0, ...(await d.stores.alerts.list(50)).map((a) => a.id));
    await sim.vanish();
    await waitFor(async () => !d.channels.channels.gsm!.health().healthy, 10_000);
    const r = await sendRaw(d.smtpPort(), { to: ['ana@alerts.example'], data: fixture('zabbix-problem.eml') });
    expect(r.final!.code).toBe(250);
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);

    // The admin is told by mail: the modem is down, and a delivery waits for it.
    const toAdmin = () => sink.messages.filter((m) => m.to.includes('admin@alerts.example')).map((m) => subjectOf(m.raw));
    await waitFor(async () => toAdmin().some((s) => /^Alertline: channels gsm and sms down: modem disconnected/.test(s)), 20_000);
    await waitFor(async () => toAdmin().includes('Alertline: 1 delivery waiting for a channel'), 10_000);

    // Meanwhile Ana's alert waits at round 1, step 1: no attempt recorded, nothing skipped, not failed.
    const [del] = await d.stores.alerts.deliveries(id);
    expect(del).toMatchObject({ state: 'queued', round: 1, step: 0 });
    expect(del!.waiting_since).not.toBeNull();
    expect(await d.stores.alerts.attempts(id)).toEqual([]);
    expect((await d.stores.alerts.get(id))!.state).toBe('pending');
    expect((await d.stores.alerts.events(id)).map((e) => e.kind)).toContain('waiting');
    expect(logger.lines.join('\n')).not.toContain('ALERT NOT DELIVERED');

    // The self-alarms are alerts in history, sent to the admin.
    const self = (await d.stores.alerts.list(50)).filter((a) => a.monitor === 'alertline' && a.id > mark);
    expect(self.map((a) => a.problem_key).sort()).toEqual(['self:channel-down:gsm', 'self:waiting']);
    for (const a of self) expect((await d.stores.alerts.attempts(a.id)).map((t) => `${t.channel}:${t.outcome}`)).toEqual(['mail:delivered']);
    expect(JSON.stringify(await d.snapshot())).toContain('self:channel-down:gsm');

    // The modem comes back: the waiting delivery goes on within seconds, at round 1.
    await sim.reappear();
    await waitFor(async () => d.channels.channels.gsm!.health().healthy, 20_000);
    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.channel === 'gsm' && a.outcome === 'answered'), 20_000);
    const first = (await d.stores.alerts.attempts(id))[0]!;
    expect(first).toMatchObject({ channel: 'gsm', round: 1, target: ANA });
    expect(sim.commands.filter((c) => c.startsWith('ATD'))).toEqual([`ATD${ANA};`]);

    // And the alarms resolve themselves: a Resolved notice to the admin, the alarm alerts resolved.
    await waitFor(async () => toAdmin().some((s) => /^Resolved: Alertline: channels gsm and sms down/.test(s)), 20_000);
    await waitFor(async () => toAdmin().includes('Resolved: Alertline: 1 delivery waiting for a channel'), 20_000);
    const after = (await d.stores.alerts.list(50)).filter((a) => a.monitor === 'alertline' && a.kind === 'problem' && a.id > mark);
    expect(after.map((a) => a.state)).toEqual(['resolved', 'resolved']);
    expect((await d.snapshot()).selfAlarms?.open).toEqual([]);
  }, 120_000);

  it('relay refusing (451) with the modem healthy: the admin gets the alarm by SMS; the relay recovers: the alarm resolves', async () => {
    const sim = await Sim900Simulator.create({ cmgsDelayMs: 50 });
    cleanups.push(() => sim.close());
    let refuse = true;
    const sink = await startSink({ respond: () => (refuse ? [451, '4.3.0 relay overloaded, try later'] : null) });
    cleanups.push(() => sink.close());
    const { d } = await daemon({
      filter: { dedupeWindow: '0s' },
      channels: {
        order: ['mail', 'sms'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '2s', audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', join(sim.dir, 'play.log'), '100'] },
        sms: { enabled: true },
        mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, retries: 0, timeout: '5s' },
      },
      admins: { group: 'admins', channelDownAfter: '5s' },
    }, [
      ['ops@alerts.example', { channelOrder: 'mail' }],
      ['admin@alerts.example', { group: 'admins', phone: ADMIN_PHONE }],
    ]);
    await waitFor(async () => d.channels.channels.sms?.health().healthy, 20_000);

    const r = await sendRaw(d.smtpPort(), { to: ['ops@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    await waitFor(async () => (await d.stores.alerts.get(id))!.state === 'failed', 20_000);
    expect((await d.stores.alerts.attempts(id)).map((a) => `${a.channel}:${a.outcome}:${a.reason}`)).toEqual([expect.stringMatching(/^mail:failed:.*451 4\.3\.0 relay overloaded/)]);

    // The admin gets both alarms by SMS through the modem (mail was tried first and refused).
    const smsToAdmin = () => sim.sent.filter((m) => m.to === ADMIN_PHONE).map((m) => m.text);
    await waitFor(async () => smsToAdmin().some((t) => t.includes('channel mail failing')) && smsToAdmin().some((t) => t.includes(`alert ${id} reached nobody`)), 30_000);
    const failing = (await d.stores.alerts.list(50)).find((a) => a.problem_key === 'self:channel-failing:mail')!;
    await waitFor(async () => (await d.stores.alerts.attempts(failing.id)).some((a) => a.outcome === 'delivered'), 10_000);
    expect((await d.stores.alerts.attempts(failing.id)).map((a) => `${a.channel}:${a.outcome}`)).toEqual(['mail:failed', 'sms:delivered']);

    // The relay accepts again: the next alert goes through by mail, and the relay alarm resolves.
    refuse = false;
    const r2 = await sendRaw(d.smtpPort(), { to: ['ops@alerts.example'], data: fixture('zabbix-problem.eml').toString('latin1').replace(/Original problem ID: *\d+/, 'Original problem ID: 424242').replace(/^Subject: .*$/m, 'Subject: Problem: another one') });
    const id2 = Number(/alert (\d+)/.exec(r2.final!.text)![1]);
    await waitFor(async () => (await d.stores.alerts.attempts(id2)).some((a) => a.outcome === 'delivered'), 20_000);
    await waitFor(async () => (await d.stores.alerts.get(failing.id))!.state === 'resolved', 20_000);
    // The still-failed first alert keeps its alarm open until someone acknowledges it.
    expect((await d.snapshot()).selfAlarms?.open.map((o) => o.key)).toEqual(['self:failed']);
    await d.acknowledge({ alertId: id, by: { operator: 'cli' }, via: 'cli' });
    await waitFor(async () => (await d.snapshot()).selfAlarms?.open.length === 0, 10_000);
  }, 120_000);
  it('modem unplugged in the middle of an SMS: the step fails, the delivery then waits for the modem, the admin is told by mail; modem back: the SMS goes out', async () => {
    const sim = await Sim900Simulator.create({ cmgsDelayMs: 1500 });
    cleanups.push(() => sim.close());
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const { d } = await daemon({
      filter: { dedupeWindow: '0s' },
      channels: {
        order: ['sms', 'mail'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '3s', audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', join(sim.dir, 'play.log'), '100'] },
        sms: { enabled: true, retries: 3, retryBackoff: '1s' },
        mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, retries: 0, timeout: '5s' },
      },
      admins: { group: 'admins', channelDownAfter: '5s' },
    }, [
      ['ana@alerts.example', { phone: ANA, channelOrder: 'sms' }],
      ['admin@alerts.example', { group: 'admins' }],
    ]);
    await waitFor(async () => d.channels.channels.sms?.health().healthy, 20_000);
    const r = await sendRaw(d.smtpPort(), { to: ['ana@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    await waitFor(async () => sim.pduBodies.length === 1, 10_000);
    await sim.vanish(); // before the modem answers +CMGS

    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.outcome === 'failed'), 10_000);
    await waitFor(async () => (await d.stores.alerts.deliveries(id))[0]!.waiting_since !== null, 10_000);
    const toAdmin = () => sink.messages.filter((m) => m.to.includes('admin@alerts.example')).map((m) => subjectOf(m.raw));
    await waitFor(async () => toAdmin().some((s) => s.startsWith('Alertline: channels gsm and sms down')), 20_000);
    expect((await d.stores.alerts.get(id))!.state).toBe('notifying'); // not failed

    await sim.reappear();
    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.outcome === 'delivered'), 30_000);
    expect((await d.stores.alerts.attempts(id)).map((a) => `${a.round}:${a.channel}:${a.outcome}`)).toEqual(['1:sms:failed', '1:sms:delivered']);
    expect(sim.sent.at(-1)!.to).toBe(ANA);
    await waitFor(async () => toAdmin().some((s) => s.startsWith('Resolved: Alertline: channels gsm and sms down')), 20_000);
    const events = (await d.stores.alerts.events(id)).map((e) => e.kind);
    expect(events).toContain('waiting');
  }, 120_000);
  it('modem unplugged in the middle of a call: that step ends failed, the delivery waits for the modem, the admin is told by mail; modem back: the walk goes on (the SMS, then the call of round 2, answered)', async () => {
    const sim = await Sim900Simulator.create({ calls: { [ANA]: { result: 'answer', afterMs: 300, hangupAfterMs: 6000 } } });
    cleanups.push(() => sim.close());
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const playLog = join(sim.dir, 'play.log');
    const { d } = await daemon({
      filter: { dedupeWindow: '0s' },
      voice: { repeat: 1 },
      channels: {
        order: ['gsm', 'sms', 'mail'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '2s', ringTimeout: '10s', audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', playLog, '3000'] },
        sms: { enabled: true },
        mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, retries: 0, timeout: '5s' },
      },
      escalation: { rounds: 3, roundInterval: '5s', quickRetry: '0s', maxWait: '30m' },
      admins: { group: 'admins', channelDownAfter: '3s' },
    }, [
      ['ana@alerts.example', { phone: ANA, channelOrder: 'gsm,sms' }],
      ['admin@alerts.example', { group: 'admins' }],
    ]);
    await waitFor(async () => d.channels.channels.gsm?.health().healthy && d.channels.channels.sms?.health().healthy, 20_000);
    const mark = Math.max(0, ...(await d.stores.alerts.list(50)).map((a) => a.id));
    const r = await sendRaw(d.smtpPort(), { to: ['ana@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);

    // Ana answered and the message is playing: the USB cable is pulled now.
    await waitFor(async () => sim.callActive && existsSync(playLog), 20_000);
    await sim.vanish();

    // The call in progress ends failed for that step (no hang, no answered), and the walk does not go on without the modem.
    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.ended_at !== null), 20_000);
    const [call] = await d.stores.alerts.attempts(id);
    expect(call).toMatchObject({ channel: 'gsm', round: 1, target: ANA, outcome: 'failed' });
    await waitFor(async () => (await d.stores.alerts.deliveries(id))[0]!.waiting_since !== null, 20_000);
    expect((await d.stores.alerts.get(id))!.state).toBe('notifying');

    // The admin hears of it through the other channel.
    const toAdmin = () => sink.messages.filter((m) => m.to.includes('admin@alerts.example')).map((m) => subjectOf(m.raw));
    await waitFor(async () => toAdmin().some((s) => s.startsWith('Alertline: channels gsm and sms down')), 20_000);
    await waitFor(async () => toAdmin().includes('Alertline: 1 delivery waiting for a channel'), 20_000);

    // Replugged: the walk goes on where it was, within seconds: the next step (SMS) in round 1, then
    // round 2's call, answered this time.
    const dials = sim.commands.filter((c) => c.startsWith('ATD')).length;
    await sim.reappear();
    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.outcome === 'delivered'), 30_000);
    expect(sim.sent.at(-1)!.to).toBe(ANA);
    await waitFor(async () => (await d.stores.alerts.attempts(id)).some((a) => a.outcome === 'answered'), 40_000);
    expect(sim.commands.filter((c) => c.startsWith('ATD')).length).toBe(dials + 1);
    const story = await d.stores.alerts.attempts(id);
    expect(story.map((a) => `${a.round}:${a.channel}:${a.outcome}`)).toEqual(['1:gsm:failed', '1:sms:delivered', '2:gsm:answered']);
    expect(story[0]!.reason).toMatch(/modem lost during the call/);
    expect((await d.stores.alerts.events(id)).map((e) => e.kind)).toContain('waiting');
    await waitFor(async () => toAdmin().some((s) => s.startsWith('Resolved: Alertline: channels gsm and sms down')), 20_000);
    const alarms = (await d.stores.alerts.list(50)).filter((a) => a.monitor === 'alertline' && a.kind === 'problem' && a.id > mark);
    expect(alarms.map((a) => a.problem_key)).toEqual(expect.arrayContaining(['self:channel-down:gsm', 'self:waiting']));
    for (const a of alarms.filter((x) => x.problem_key === 'self:channel-down:gsm' || x.problem_key === 'self:waiting')) {
      expect((await d.stores.alerts.attempts(a.id)).map((t) => `${t.channel}:${t.outcome}`)).toEqual(['mail:delivered']);
    }
  }, 150_000);
  it('SIP registrar down (sipp answering 503), then back: the admin is told by mail, and the alarm resolves once registered', async () => {
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const port = await freePort();
    const down = await startSipp('registrar-503.xml', { port, dir: import.meta.dirname, timeoutS: 60 });
    cleanups.push(() => down.kill());
    const { d } = await daemon({
      channels: {
        order: ['voip', 'mail'],
        voip: { enabled: true, server: `127.0.0.1:${port}`, domain: 'alertline.test', username: '200', password: 's3cret', localAddress: '127.0.0.1', localPort: 0, rtpPorts: '41000-41999' },
        mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, retries: 0, timeout: '5s' },
      },
      admins: { group: 'admins', channelDownAfter: '2s' },
    }, [['admin@alerts.example', { group: 'admins', sip: '201' }]]);
    const toAdmin = () => sink.messages.filter((m) => m.to.includes('admin@alerts.example')).map((m) => subjectOf(m.raw));
    await waitFor(async () => toAdmin().some((s) => /^Alertline: channel voip down: .*503/.test(s)), 20_000);
    const first = await down.done; // both REGISTERs answered 503
    expect(first.code, first.output).toBe(0);

    const up = await startSipp('../appliance/fixtures/registrar.xml', { port, dir: import.meta.dirname, timeoutS: 60 });
    cleanups.push(() => up.kill());
    await waitFor(async () => d.channels.channels.voip?.health().healthy, 40_000);
    await waitFor(async () => toAdmin().some((s) => /^Resolved: Alertline: channel voip down/.test(s)), 20_000);
    const alarm = (await d.stores.alerts.list(20)).find((a) => a.problem_key === 'self:channel-down:voip' && a.kind === 'problem')!;
    expect(alarm.state).toBe('resolved');
    expect(sink.messages.map((m) => m.raw.toString()).join('\n')).not.toContain('s3cret');
    await d.stop(0); // unregisters while the registrar is still there
    const last = await up.done;
    expect(last.code, last.output).toBe(0);
  }, 120_000);
});
