/**
 * SelfAlarms over a real SQLite store and the real admission path (AlertWriter + admission rules),
 * with a hand-moved clock: alarms are alerts in history, resolve themselves, keep to their limits,
 * and never alarm about an alarm.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { openStores, type Stores } from '../../src/store/index.js';
import { AlertWriter } from '../../src/receiver/alert-writer.js';
import { admissionRules } from '../../src/core/admission.js';
import { acknowledger } from '../../src/core/acknowledge.js';
import { SelfAlarms, type ChannelState } from '../../src/appliance/self-alarms.js';
import { ManualClock } from '../../src/util/clock.js';
import { memoryLogger } from '../../src/util/log.js';
import { testConfig, tempDir } from '../helpers/env.js';
import type { Config } from '../../src/config/schema.js';

const MIN = 60_000;

describe('SelfAlarms', () => {
  let tmp: { dir: string; cleanup: () => void };
  let stores: Stores;
  let clock: ManualClock;
  let cfg: Config;
  let channels: ChannelState[];
  let diskFree: number | null;
  let logger: ReturnType<typeof memoryLogger>;
  let alarms: SelfAlarms;
  let writer: AlertWriter;

  beforeEach(async () => {
    tmp = tempDir('alertline-selfalarm-');
    clock = new ManualClock(Date.UTC(2026, 5, 1, 3, 0, 0));
    cfg = testConfig(tmp.dir, { filter: { dedupeWindow: '30m' }, admins: { group: 'admins', channelDownAfter: '2m', queueAgeMax: '1d' } });
    stores = openStores(cfg.dataDir, () => clock.now());
    await stores.users.add('admin@example.com', { group: 'admins', phone: '+34600000001' });
    await stores.users.add('ops@example.com', { phone: '+34600000002' });
    channels = [{ name: 'mail', running: true, healthy: true, detail: 'relay 127.0.0.1:25' }];
    diskFree = 10 ** 10;
    logger = memoryLogger();
    writer = new AlertWriter(stores.alerts, async () => admissionRules({ ignore: [], dedupeWindowMs: cfg.filter.dedupeWindow, notifyResolved: true }), () => {});
    alarms = newAlarms();
  });
  afterEach(async () => {
    await stores.close();
    tmp.cleanup();
  });

  function newAlarms(): SelfAlarms {
    return new SelfAlarms({
      alerts: stores.alerts, deliveries: stores.deliveries, users: stores.users, writer,
      config: async () => cfg, channels: () => channels, clock, logger, hostname: 'pi-1',
      diskFree: async () => diskFree, clockSynced: async () => null,
    });
  }

  const selfAlerts = async () => (await stores.alerts.list(100)).filter((a) => a.monitor === 'alertline').reverse();
  const story = async () => (await selfAlerts()).map((a) => `${a.kind} ${a.problem_key} ${a.state}`);

  async function tick(ms: number, times = 1): Promise<void> {
    for (let i = 0; i < times; i++) {
      clock.advance(ms);
      await alarms.evaluate();
    }
  }

  it('a channel down for channelDownAfter becomes an alert to the admins, in history, and resolves itself when it is back', async () => {
    channels = [{ name: 'gsm', running: true, healthy: false, detail: 'modem disconnected: serial port closed' }, { name: 'sms', running: true, healthy: false, detail: 'modem disconnected: serial port closed' }];
    await tick(5000, 23); // 115 s: not yet
    expect(await selfAlerts()).toEqual([]);
    await tick(5000, 2);
    expect(await story()).toEqual(['problem self:channel-down:gsm pending']);
    const [a] = await selfAlerts();
    expect(a!.subject).toBe('Alertline: channels gsm and sms down: modem disconnected: serial port closed');
    expect((await stores.alerts.deliveries(a!.id)).map((d) => `${d.user_email} ${d.state}`)).toEqual(['admin@example.com queued']);
    // The raw message is real mail the relay can forward.
    const parsed = await simpleParser((await stores.alerts.raw(a!.id))!);
    expect(parsed.subject).toBe(a!.subject);
    expect(parsed.text).toContain('Check the device');
    expect(alarms.status().open.map((o) => o.key)).toEqual(['self:channel-down:gsm']);

    await tick(5000, 20); // still down: no second alarm
    expect(await story()).toEqual(['problem self:channel-down:gsm pending']);

    channels = [{ name: 'gsm', running: true, healthy: true, detail: 'ready' }, { name: 'sms', running: true, healthy: true, detail: 'ready' }];
    await tick(5000);
    expect(await story()).toEqual(['problem self:channel-down:gsm resolved', 'resolved self:channel-down:gsm cancelled']);
    expect(alarms.status().open).toEqual([]);
    expect(logger.lines.join('\n')).toMatch(/self_alarm\.resolved key=self:channel-down:gsm/);
  });

  it('an alert that ended failed raises one alarm; a failed self-alarm raises none (no loop); acknowledging clears it', async () => {
    const ops = await writer.submit({ parsed: { kind: 'problem', subject: 'Problem: disk full on db1', text: '', problemKey: 'zabbix:1' }, raw: Buffer.from('x'), rcpt: ['ops@example.com'], recipients: [{ email: 'ops@example.com' }], receivedAt: clock.now() });
    await stores.alerts.setState(ops.id, 'failed', clock.now(), ['pending']);
    alarms.onExhausted(ops.id, 'failed');
    await tick(1000);
    const raised = await selfAlerts();
    expect(raised.map((a) => a.subject)).toEqual([`Alertline: alert ${ops.id} reached nobody: Problem: disk full on db1`]);

    // The self-alarm itself ends failed: nothing more.
    await stores.alerts.setState(raised[0]!.id, 'failed', clock.now(), ['pending']);
    alarms.onExhausted(raised[0]!.id, 'failed');
    await tick(20 * MIN);
    expect(await story()).toEqual(['problem self:failed failed']);

    const ack = acknowledger({ alerts: stores.alerts, users: stores.users, now: () => clock.now(), logger, changed: () => {} });
    expect((await ack({ alertId: ops.id, by: { operator: 'cli' }, via: 'cli' })).ok).toBe(true);
    await tick(1000);
    expect(await story()).toEqual(['problem self:failed resolved', 'resolved self:failed cancelled']);
  });

  it('with nobody in admins.group: logs "self-alarm with no admin to tell" once, shows it in status, and raises once an admin exists', async () => {
    cfg = testConfig(tmp.dir, { admins: { group: 'nobody-here' } });
    diskFree = 5 * 1024 ** 2;
    await tick(5000, 5);
    expect(await selfAlerts()).toEqual([]);
    expect(logger.lines.filter((l) => l.includes('self-alarm with no admin to tell'))).toHaveLength(1);
    expect(alarms.status()).toMatchObject({ admins: 0, unsent: ['self:disk-low'], problem: expect.stringMatching(/nobody is in group nobody-here/) });

    await stores.users.add('late@example.com', { group: 'nobody-here' });
    await tick(5000);
    expect(await story()).toEqual(['problem self:disk-low pending']);
    expect(alarms.status()).toMatchObject({ admins: 1, unsent: [] });
    expect(alarms.status().problem).toBeUndefined();
  });

  it('a flapping disk pages once per 15 minutes; a re-raise after a resolve is not taken for a duplicate', async () => {
    for (let m = 0; m < 20; m++) {
      diskFree = m % 2 === 0 ? 1024 : 10 ** 10;
      await tick(MIN);
    }
    const problems = (await selfAlerts()).filter((a) => a.kind === 'problem');
    expect(problems.map((a) => a.state)).toEqual(['resolved', 'resolved']);
    expect(problems[1]!.received_at - problems[0]!.received_at).toBe(16 * MIN);
    // The second page is delivered, not suppressed as the same problem within dedupeWindow.
    expect((await stores.alerts.deliveries(problems[1]!.id)).map((d) => d.state)).not.toContain('suppressed');
  });

  it('after a restart, an alarm left open is resolved when its condition is gone, not raised again while it holds', async () => {
    diskFree = 1024;
    await tick(1000);
    expect(await story()).toEqual(['problem self:disk-low pending']);
    alarms = newAlarms(); // a new run of the daemon
    await tick(5000, 3);
    expect(await story()).toEqual(['problem self:disk-low pending']);
    diskFree = 10 ** 10;
    await tick(5000);
    expect(await story()).toEqual(['problem self:disk-low resolved', 'resolved self:disk-low cancelled']);
  });

  it('the queue\'s oldest due delivery above queueAgeMax', async () => {
    cfg = testConfig(tmp.dir, { admins: { group: 'admins', queueAgeMax: '10m' } });
    await writer.submit({ parsed: { kind: 'problem', subject: 'Problem: stuck', text: '', problemKey: 'zabbix:2' }, raw: Buffer.from('x'), rcpt: ['ops@example.com'], recipients: [{ email: 'ops@example.com' }], receivedAt: clock.now() });
    await tick(9 * MIN);
    expect(await selfAlerts()).toEqual([]);
    await tick(2 * MIN);
    expect((await selfAlerts()).map((a) => a.subject)).toEqual(['Alertline: queue stuck, the oldest due delivery waits 11 min']);
  });

  it('the data dir on a real file system: statfs reports its free space', async () => {
    const { statfsFree } = await import('../../src/appliance/self-alarms.js');
    const free = await statfsFree(join(tmp.dir, 'data'));
    expect(free).toBeGreaterThan(0);
    expect(await statfsFree(join(tmp.dir, 'does-not-exist'))).toBeNull();
  });
  it('the clock check reads timedatectl (a real child process), once a minute, and says nothing where it is missing', async () => {
    const { timedatectlSynced } = await import('../../src/appliance/self-alarms.js');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const bin = join(tmp.dir, 'bin');
    mkdirSync(bin);
    const answer = join(tmp.dir, 'answer');
    writeFileSync(join(bin, 'timedatectl'), `#!/bin/sh\n[ "$*" = "show -p NTPSynchronized --value" ] || exit 2\n/bin/cat ${answer}\n`, { mode: 0o755 });
    const oldPath = process.env.PATH;
    try {
      process.env.PATH = bin;
      writeFileSync(answer, 'no\n');
      const check = timedatectlSynced(() => clock.now());
      expect(await check()).toBe(false);
      writeFileSync(answer, 'yes\n');
      expect(await check()).toBe(false); // cached for a minute
      clock.advance(MIN);
      expect(await check()).toBe(true);
      process.env.PATH = join(tmp.dir, 'empty');
      expect(await timedatectlSynced(() => clock.now())()).toBeNull();
    } finally {
      process.env.PATH = oldPath;
    }
  });
});
