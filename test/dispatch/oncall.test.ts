/**
 * On call through the engine, injected clock: a mail to noc@ routed to a policy (schedule primary,
 * wait 10 min, schedule secondary, wait 10 min, group ops): the primary is called; no key within
 * the wait → the secondary; the secondary presses 3 → the next step now; an SMS code acknowledges
 * for everyone; key 5 snoozes and the walk resumes; key 9 resolves; a silence holds the alert and
 * it is delivered when the silence ends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { parseAlertMail } from '../../src/receiver/parse-alert.js';
import { admissionRules, admitInput } from '../../src/core/admission.js';
import { acknowledger } from '../../src/core/acknowledge.js';
import { lifecycle } from '../../src/core/actions.js';
import { Router, routeNewAlert } from '../../src/core/routing.js';
import { layerFromOptions, parseStep } from '../../src/core/oncall/index.js';
import type { ChannelName, Outcome } from '../../src/channels/channel.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeChannel, untilAborted } from '../helpers/fake-channel.js';
import { tempDir } from '../helpers/env.js';

const MIN = 60_000;
let tmp: ReturnType<typeof tempDir>;
let s: Stores;
let clock: ManualClock;
let disp: Dispatcher | null;
let channels: Partial<Record<ChannelName, FakeChannel>> & Record<"voip" | "gsm" | "sms" | "mail", FakeChannel>;
let cfg: Config;
let act: ReturnType<typeof lifecycle>;
const ANA = 'ana@x.example';
const BEN = 'ben@x.example';
const CARLA = 'carla@x.example';

const o = (kind: Outcome['kind'], detail?: Record<string, unknown>): Outcome => ({ kind, reason: kind, retryable: false, ...(detail ? { detail } : {}) });

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(Date.UTC(2027, 2, 10, 2, 0, 0)); // 03:00 in Madrid, a Wednesday
  s = openStores(tmp.dir, () => clock.now());
  await s.users.add(ANA, { sip: '201', phone: '+34600000001' });
  await s.users.add(BEN, { sip: '202', phone: '+34600000002' });
  await s.users.add(CARLA, { sip: '203', phone: '+34600000003', group: 'ops' });
  const now = clock.now();
  await s.oncall.addLayer('noc', layerFromOptions({ layer: 'primary', members: ANA, rotation: 'weekly', handoff: 'mon 09:00', tz: 'Europe/Madrid' }, now));
  await s.oncall.addLayer('noc', layerFromOptions({ layer: 'secondary', members: BEN, rotation: 'weekly', handoff: 'mon 09:00', tz: 'Europe/Madrid' }, now));
  await s.oncall.addPolicy({ name: 'noc', steps: ['schedule:noc/primary', 'wait:10m', 'schedule:noc/secondary', 'wait:10m', 'group:ops'].map((x) => parseStep(x)), repeat: 0 });
  await s.oncall.addRoute({ address: 'noc', policy: 'noc' });
  channels = {
    voip: new FakeChannel('voip', (_j, signal) => untilAborted(signal)),
    gsm: new FakeChannel('gsm', () => o('no-answer')),
    sms: new FakeChannel('sms', () => o('delivered')),
    mail: new FakeChannel('mail', () => o('delivered')),
  };
  cfg = configSchema.parse({
    channels: { order: ['voip'], voip: { enabled: true }, gsm: { enabled: false }, sms: { enabled: false }, mail: { enabled: false } },
    escalation: { rounds: 1, quickRetry: '0s' },
  });
  act = lifecycle({ alerts: s.alerts, users: s.users, policyRuns: s.policyRuns, now: () => clock.now(), logger: silentLogger, changed: () => disp?.poke() });
  disp = null;
});

afterEach(async () => {
  await disp?.stop(0);
  await s.close();
  tmp.cleanup();
});

function start() {
  disp = new Dispatcher({
    alerts: s.alerts, deliveries: s.deliveries, users: s.users, channels: () => channels,
    acknowledge: acknowledger({ alerts: s.alerts, users: s.users, now: () => clock.now(), logger: silentLogger }), act,
    policyRuns: s.policyRuns, policyPeople: async (now) => new Router(await s.oncall.routingTables(now)),
    config: async () => cfg, clock, logger: silentLogger, pollIntervalMs: 1000, pokeSpacingMs: 0,
  });
  void disp.start();
}

/** A mail to an address, routed and admitted as the daemon does. */
async function receive(subject: string, to = 'noc@x.example', host = 'web01') {
  const raw = Buffer.from(`Subject: ${subject}\r\n\r\nHost: ${host}\r\n`);
  const now = clock.now();
  const item = routeNewAlert({ parsed: await parseAlertMail(raw), raw, rcpt: [to], recipients: await s.users.resolveRecipient(to), receivedAt: now }, new Router(await s.oncall.routingTables(now)));
  const [r] = await s.alerts.admitBatch([admitInput(item)], admissionRules({ ignore: [], dedupeWindowMs: 0, notifyResolved: true }));
  disp?.poke();
  return r!;
}

async function settle() {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 1));
  }
}
async function advance(ms: number) {
  clock.advance(ms);
  await settle();
}
const called = () => channels.voip.jobs.map((j) => j.recipient.email);

describe('escalation policies through the engine', () => {
  it('primary first; no acknowledgement within the wait → secondary; key 3 → the next step now; an SMS code acknowledges for all', async () => {
    start();
    const r = await receive('Problem: disk full');
    expect(r.deliveries.map((d) => d.email)).toEqual([ANA]);
    await settle();
    expect(called()).toEqual([ANA]);
    await advance(9 * MIN);
    expect(called()).toEqual([ANA]);
    await advance(1 * MIN + 1000);
    expect(called()).toEqual([ANA, BEN]); // the secondary, while Ana's phone still rings
    // Ben escalates (key 3 or "<id>e"): the next step (ops) now, not in 10 minutes.
    const benCall = channels.voip.jobs.length;
    await act({ action: 'escalate', alertId: r.id, by: { phone: '+34600000002' }, via: 'sms-reply' });
    await settle();
    expect(called().slice(benCall)).toContain(CARLA);
    expect((await s.alerts.events(r.id)).map((e) => e.kind)).toContain('escalate');
    // Carla texts "<id>a".
    const ack = await act({ action: 'ack', alertId: r.id, by: { phone: '+34600000003' }, via: 'sms-reply' });
    expect(ack.ok).toBe(true);
    await advance(1000);
    expect((await s.alerts.get(r.id))).toMatchObject({ state: 'acknowledged', ack_by: CARLA });
    expect(channels.voip.active).toBe(0); // every ringing call stopped
    await advance(60 * MIN);
    expect((await s.policyRuns.forAlert(r.id))[0]!.ended).toBe(1);
  });

  it('the keys a person presses act through the core: 3 escalates, 5 snoozes (the walk resumes after), 9 resolves', async () => {
    channels.voip.script = (j) => j.recipient.email === ANA ? o('answered', { action: 'snooze' }) : o('answered');
    start();
    const r = await receive('Problem: cpu high');
    await settle();
    expect(called()).toEqual([ANA]);
    const snoozed = (await s.alerts.deliveries(r.id)).find((d) => d.user_email === ANA)!;
    expect(snoozed.state).toBe('queued');
    expect(snoozed.next_at).toBe(clock.now() + 30 * MIN);
    expect((await s.alerts.events(r.id)).map((e) => e.kind)).toContain('snoozed');
    // The policy waits out the snooze too: no secondary at +10 min.
    await advance(11 * MIN);
    expect(called()).toEqual([ANA]);
    channels.voip.script = () => o('answered', { action: 'resolve' });
    await advance(20 * MIN);
    expect(called()[1]).toBe(ANA); // called again after the snooze
    expect((await s.alerts.get(r.id))!.state).toBe('resolved');
    await advance(30 * MIN);
    expect(called().filter((e) => e !== ANA)).toEqual([]); // nobody else after the resolve
  });

  it('a silenced host is stored silenced, nobody is called, and it is delivered when the silence ends', async () => {
    const now = clock.now();
    await s.oncall.addSilence({ host: 'db-.*', from: now, until: now + 60 * MIN, comment: 'kernel upgrade' });
    start();
    const r = await receive('Problem: db down', 'noc@x.example', 'db-01');
    expect(r.state).toBe('silenced');
    await advance(30 * MIN);
    expect(called()).toEqual([]);
    expect((await s.alerts.get(r.id))!.state).toBe('silenced');
    await advance(31 * MIN);
    expect(called()).toEqual([ANA]);
    expect((await s.alerts.events(r.id)).map((e) => e.kind)).toContain('unsilenced');
  });

  it('with escalation.deliverAfterSilence off, what a silence held stays held when it ends', async () => {
    cfg.escalation.deliverAfterSilence = false;
    const now = clock.now();
    await s.oncall.addSilence({ host: 'db-.*', from: now, until: now + 10 * MIN, comment: 'planned' });
    start();
    const r = await receive('Problem: db down', 'noc@x.example', 'db-01');
    await advance(11 * MIN);
    expect(called()).toEqual([]);
    expect((await s.alerts.get(r.id))!.state).toBe('cancelled');
  });

  it('a user address keeps working as before (implicit one-step policy)', async () => {
    channels.voip.script = () => o('answered');
    start();
    const r = await receive('Problem: plain', BEN);
    await settle();
    expect(called()).toEqual([BEN]);
    expect(await s.policyRuns.forAlert(r.id)).toEqual([]);
    await advance(30 * MIN);
    expect(called()).toEqual([BEN]);
    expect((await s.alerts.get(r.id))!.state).toBe('unacknowledged');
  });
});
