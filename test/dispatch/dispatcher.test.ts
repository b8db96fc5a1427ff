/** The dispatcher and escalation policy with an injected clock and scripted fake channels. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { acknowledger } from '../../src/core/acknowledge.js';
import { voiceText } from '../../src/compose/texts.js';
import { ackAs, admitMail } from '../helpers/admit.js';
import type { ChannelName, Outcome } from '../../src/channels/channel.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeChannel, untilAborted } from '../helpers/fake-channel.js';
import { deepMerge, fixture, tempDir } from '../helpers/env.js';

const MIN = 60_000;
let tmp: ReturnType<typeof tempDir>;
let s: Stores;
let clock: ManualClock;
let disp: Dispatcher | null;
let channels: Partial<Record<ChannelName, FakeChannel>> & Record<"voip" | "gsm" | "sms" | "mail", FakeChannel>;
let cfg: Config;

const o = (kind: Outcome['kind'], retryable = false): Outcome => ({ kind, reason: kind, retryable });

function setConfig(over: Record<string, unknown> = {}) {
  cfg = configSchema.parse(deepMerge({
    channels: { order: ['voip', 'gsm', 'sms', 'mail'], voip: { enabled: true }, gsm: { enabled: true }, sms: { enabled: true }, mail: { enabled: true } },
    escalation: { rounds: 2, roundInterval: '5m', quickRetry: '0s' },
  }, over));
}

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(Date.UTC(2026, 10, 22, 3, 0, 0));
  s = openStores(tmp.dir, () => clock.now());
  await s.users.add('ana@x.example', { phone: '+34600000001', sip: '201', group: 'noc' });
  await s.users.add('ben@x.example', { phone: '+34600000002', sip: '202', group: 'noc' });
  channels = {
    voip: new FakeChannel('voip', () => o('no-answer')),
    gsm: new FakeChannel('gsm', () => o('no-answer')),
    sms: new FakeChannel('sms', () => o('delivered')),
    mail: new FakeChannel('mail', () => o('delivered')),
  };
  setConfig();
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
    acknowledge: acknowledger({ alerts: s.alerts, users: s.users, now: () => clock.now(), logger: silentLogger }),
    config: async () => cfg, clock, logger: silentLogger, pollIntervalMs: 1000, pokeSpacingMs: 0,
  });
  void disp.start();
  return disp;
}

async function receive(raw: Buffer | string, rcpt = ['ana@x.example']) {
  const r = await admitMail(s, raw, rcpt, clock.now());
  disp?.poke();
  return r.id;
}

/** Let the dispatcher run everything due now (real microtasks, manual time). */
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

const steps = async (id: number) => (await s.alerts.attempts(id)).map((a) => `${a.round}:${a.channel}:${a.outcome}`);

describe('escalation: until-acknowledged', () => {
  it('walks the order; text channels inform and the walk goes on; rounds repeat after roundInterval; then unacknowledged', async () => {
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await steps(id))).toEqual(['1:voip:no-answer', '1:gsm:no-answer', '1:sms:delivered', '1:mail:delivered']);
    expect((await s.alerts.get(id))!.state).toBe('notifying');
    await advance(4 * MIN);
    expect((await steps(id))).toHaveLength(4); // not before the interval
    await advance(1 * MIN);
    // Round 2 calls again; text already delivered is not re-sent.
    expect((await steps(id)).slice(4)).toEqual(['2:voip:no-answer', '2:gsm:no-answer']);
    expect((await s.alerts.get(id))!.state).toBe('unacknowledged');
    expect((await s.alerts.events(id)).map((e) => e.kind)).toContain('exhausted');
  });

  it('a keypress (acknowledged) stops the walk for everyone and records who and how', async () => {
    channels.gsm.script = () => o('acknowledged');
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await steps(id))).toEqual(['1:voip:no-answer', '1:gsm:acknowledged']);
    expect((await s.alerts.get(id))).toMatchObject({ state: 'acknowledged', ack_by: 'ana@x.example', ack_via: 'gsm keypress' });
    await advance(10 * MIN);
    expect((await steps(id))).toHaveLength(2);
  });

  it('answered is not acknowledged: voicemail does not stop the walk', async () => {
    channels.voip.script = () => o('answered');
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await steps(id))).toEqual(['1:voip:answered', '1:gsm:no-answer', '1:sms:delivered', '1:mail:delivered']);
  });

  it('skips disabled channels and channels the user has no address for; records unhealthy ones with the reason', async () => {
    await s.users.update('ana@x.example', { sip: null });
    cfg.channels.sms.enabled = false;
    channels.gsm.healthy = { healthy: false, detail: 'modem: no SIM' };
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await steps(id))).toEqual(['1:gsm:skipped', '1:mail:delivered']);
    expect((await s.alerts.attempts(id))[0]!.reason).toBe('channel unhealthy: modem: no SIM');
  });

  it('busy / failed move on at once; the first unanswered call is repeated after quickRetry', async () => {
    setConfig({ escalation: { rounds: 1, quickRetry: '2m' } });
    channels.voip.script = (_j, _s, n) => (n === 1 ? o('no-answer') : o('acknowledged'));
    channels.gsm.script = () => o('failed', true);
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await steps(id))).toEqual(['1:voip:no-answer']);
    await advance(2 * MIN);
    expect((await steps(id))).toEqual(['1:voip:no-answer', '1:voip:acknowledged']);
    expect((await s.alerts.get(id))!.state).toBe('acknowledged');
  });

  it('per-user channel order overrides the global one', async () => {
    await s.users.update('ana@x.example', { channelOrder: 'sms,gsm' });
    channels.gsm.script = () => o('acknowledged');
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await steps(id))).toEqual(['1:sms:delivered', '1:gsm:acknowledged']);
  });
});

describe('escalation: group order', () => {
  it("a group's order applies to members without their own; a member's own order wins", async () => {
    await s.users.setGroupOrder('noc', 'sms,voip');
    await s.users.update('ben@x.example', { channelOrder: 'mail' });
    channels.voip.script = () => o('acknowledged');
    start();
    const id = await receive(fixture('zabbix-problem.eml'), ['noc@x.example']);
    await settle();
    const byUser = async (email: string) => {
      const out: string[] = [];
      for (const a of await s.alerts.attempts(id)) if ((await s.deliveries.get(a.delivery_id))!.user_email === email) out.push(`${a.channel}:${a.outcome}`);
      return out;
    };
    expect(await byUser('ana@x.example')).toEqual(['sms:delivered', 'voip:acknowledged']);
    expect(await byUser('ben@x.example')).toEqual(['mail:delivered']); // in parallel with ana's first step
  });
});

describe('escalation: mode all', () => {
  it('every enabled channel once, in order, whatever the outcomes', async () => {
    setConfig({ escalation: { mode: 'all' } });
    channels.voip.script = () => o('answered');
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await steps(id))).toEqual(['1:voip:answered', '1:gsm:no-answer', '1:sms:delivered', '1:mail:delivered']);
    expect((await s.alerts.get(id))!.state).toBe('delivered');
  });

  it('nothing reached anyone → failed, loudly', async () => {
    setConfig({ escalation: { mode: 'all' } });
    channels.sms.script = () => o('rejected');
    channels.mail.script = () => o('rejected');
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect((await s.alerts.get(id))!.state).toBe('failed');
  });
});

describe('acknowledgement and resolution from outside a call', () => {
  it('an ack (CLI) while a call is ringing aborts that call and stops everything else', async () => {
    channels.voip.script = (_j, signal) => untilAborted(signal);
    start();
    const id = await receive(fixture('zabbix-problem.eml'), ['noc@x.example']);
    await settle();
    expect(channels.voip.active).toBe(2); // both members called in parallel
    await ackAs(s, id, 'ben@x.example', 'cli', clock.now());
    await advance(1000); // next poll notices
    expect(channels.voip.aborted).toHaveLength(2);
    expect(channels.voip.active).toBe(0);
    expect((await s.alerts.deliveries(id)).map((d) => d.state)).toEqual(['acknowledged', 'acknowledged']);
    await advance(10 * MIN);
    expect(channels.gsm.jobs).toHaveLength(0);
  });

  it('group recipients are notified in parallel; the first keypress wins for all', async () => {
    let release: (() => void) | null = null;
    channels.voip.script = (job, signal) => job.recipient.email === 'ana@x.example'
      ? new Promise<Outcome>((res) => { release = () => res(o('acknowledged')); })
      : untilAborted(signal);
    start();
    const id = await receive(fixture('zabbix-problem.eml'), ['noc@x.example']);
    await settle();
    expect(channels.voip.jobs.map((j) => j.recipient.email).sort()).toEqual(['ana@x.example', 'ben@x.example']);
    release!();
    await settle();
    expect(channels.voip.aborted.map((j) => j.recipient.email)).toEqual(['ben@x.example']);
    expect((await s.alerts.get(id))).toMatchObject({ state: 'acknowledged', ack_by: 'ana@x.example' });
  });

  it('a Resolved mail cancels pending steps and aborts the running call; the notice goes on text channels only', async () => {
    channels.voip.script = (_j, signal) => untilAborted(signal);
    start();
    const p = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect(channels.voip.active).toBe(1);
    const r = await receive(fixture('zabbix-resolved.eml'));
    await advance(1000);
    expect(channels.voip.aborted).toHaveLength(1);
    expect((await s.alerts.get(p))!.state).toBe('resolved');
    // ana was not informed yet (the call never ended): no notice for her.
    expect((await s.alerts.deliveries(r))[0]!.state).toBe('cancelled');
    expect(channels.gsm.jobs).toHaveLength(0);
  });

  it('the resolved notice goes to people who were informed, on sms then stops', async () => {
    channels.voip.script = () => o('answered');
    setConfig({ escalation: { rounds: 1 } });
    start();
    await receive(fixture('zabbix-problem.eml'));
    await settle();
    const r = await receive(fixture('zabbix-resolved.eml'));
    await settle();
    expect((await steps(r))).toEqual(['1:sms:delivered']);
    expect(channels.sms.jobs.at(-1)!.alert.kind).toBe('resolved');
    expect(channels.voip.jobs).toHaveLength(1);
  });
});

describe('capacity, FIFO, rate limits, restart', () => {
  it('one GSM call at a time, FIFO across alerts', async () => {
    cfg.channels.voip.enabled = false;
    const order: string[] = [];
    const gates: (() => void)[] = [];
    channels.gsm.script = (job) => new Promise<Outcome>((res) => { order.push(`${job.alert.id}:${job.recipient.email}`); gates.push(() => res(o('acknowledged'))); });
    start();
    const a1 = await receive('Subject: Problem: one\r\n\r\nHost: a', ['ana@x.example']);
    const a2 = await receive('Subject: Problem: two\r\n\r\nHost: b', ['ben@x.example']);
    await settle();
    expect(channels.gsm.active).toBe(1);
    gates.shift()!();
    await settle();
    expect(channels.gsm.active).toBe(1);
    gates.shift()!();
    await settle();
    expect(order).toEqual([`${a1}:ana@x.example`, `${a2}:ben@x.example`]);
  });

  it('rate limit: over maxCallsPerHour voice calls to one person are skipped and recorded', async () => {
    setConfig({ escalation: { maxCallsPerHour: 2, rounds: 1 }, channels: { order: ['voip', 'mail'] } });
    start();
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await receive(`Subject: Problem: p${n}\r\n\r\nHost: h${n}`));
    await settle();
    expect(channels.voip.jobs).toHaveLength(2);
    const third = (await s.alerts.attempts(ids[2]!));
    expect(third[0]).toMatchObject({ channel: 'voip', outcome: 'skipped' });
    expect(third[0]!.reason).toMatch(/rate limit/);
  });

  it('a call mentions the other alerts still open for the person ("and 2 more alerts")', async () => {
    setConfig({ channels: { order: ['voip'] }, escalation: { rounds: 1 } });
    const gate: (() => void)[] = [];
    channels.voip.script = (_j, signal) => Promise.race([untilAborted(signal), new Promise<Outcome>((res) => gate.push(() => res(o('acknowledged'))))]);
    await receive('Subject: Problem: first\r\n\r\nHost: a');
    await receive('Subject: Problem: second\r\n\r\nHost: b');
    await receive('Subject: Problem: third\r\n\r\nHost: c');
    start();
    await settle();
    expect(channels.voip.jobs).toHaveLength(1); // one call at a time per person
    expect(voiceText(channels.voip.jobs[0]!.alert, 'en', channels.voip.jobs[0]!.moreAlerts)).toMatch(/^Problem: first\. .*and 2 more alerts\.$/);
    gate.shift()!();
    await settle();
    expect(voiceText(channels.voip.jobs[1]!.alert, 'en', channels.voip.jobs[1]!.moreAlerts)).toContain('and 1 more alert.');
  });

  it('a restart in the middle of an escalation resumes at the right step (state is in SQLite)', async () => {
    channels.voip.script = (_j, signal) => untilAborted(signal);
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect(channels.voip.active).toBe(1);
    // Simulate a crash: a new dispatcher on the same database, without stopping the old one cleanly.
    const crashed = disp!;
    (crashed as unknown as { stopping: boolean }).stopping = true;
    channels.voip = new FakeChannel('voip', () => o('no-answer'));
    channels.gsm.script = () => o('acknowledged');
    disp = null;
    start();
    await settle();
    expect((await steps(id))).toEqual(['1:voip:interrupted', '1:voip:no-answer', '1:gsm:acknowledged']);
    expect((await s.alerts.get(id))!.state).toBe('acknowledged');
  });

  it('a user removed after the alert arrived: the delivery fails visibly', async () => {
    start();
    cfg.channels.voip.enabled = false;
    const id = await receive(fixture('zabbix-problem.eml'));
    await s.users.remove('ana@x.example');
    await settle();
    expect((await s.alerts.get(id))!.state).toBe('failed');
    expect((await s.alerts.deliveries(id))[0]!.result).toBe('user no longer exists');
  });
});

describe('a dead channel does not consume the escalation', () => {
  const down = { healthy: false, detail: 'modem: port vanished' };

  it('every reachable channel down: the delivery waits where it is, and goes on within seconds once one is back', async () => {
    setConfig({ channels: { order: ['gsm', 'sms'], voip: { enabled: false }, mail: { enabled: false } }, escalation: { rounds: 3, roundInterval: '1m' } });
    channels.gsm.healthy = down;
    channels.sms.healthy = down;
    channels.gsm.script = () => o('acknowledged');
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    await advance(10 * MIN); // ten minutes with the modem gone: longer than all three rounds would take
    expect(await steps(id)).toEqual([]); // nothing skipped, nothing tried, no round spent
    const d = (await s.alerts.deliveries(id))[0]!;
    expect(d).toMatchObject({ state: 'queued', round: 1, step: 0 });
    expect(d.waiting_since).not.toBeNull();
    expect((await s.alerts.events(id)).map((e) => e.kind)).toContain('waiting');
    expect((await s.alerts.get(id))!.state).toBe('pending');

    channels.gsm.healthy = { healthy: true, detail: 'registered' };
    await advance(5000);
    expect(await steps(id)).toEqual(['1:gsm:acknowledged']);
    expect((await s.alerts.get(id))!.state).toBe('acknowledged');
  });

  it('one channel still up: the walk goes on through it (the dead one is skipped with the reason)', async () => {
    setConfig({ channels: { order: ['gsm', 'mail'], voip: { enabled: false }, sms: { enabled: false } }, escalation: { rounds: 1 } });
    channels.gsm.healthy = down;
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    expect(await steps(id)).toEqual(['1:gsm:skipped', '1:mail:delivered']);
  });

  it('waiting is bounded by escalation.maxWait: then the rounds go on and the alert fails visibly', async () => {
    setConfig({ channels: { order: ['gsm'], voip: { enabled: false }, sms: { enabled: false }, mail: { enabled: false } }, escalation: { rounds: 2, roundInterval: '1m', maxWait: '30m' } });
    channels.gsm.healthy = down;
    start();
    const id = await receive(fixture('zabbix-problem.eml'));
    await settle();
    await advance(29 * MIN);
    expect(await steps(id)).toEqual([]);
    await advance(2 * MIN);
    await advance(2 * MIN);
    expect(await steps(id)).toEqual(['1:gsm:skipped', '2:gsm:skipped']);
    expect((await s.alerts.get(id))!.state).toBe('failed');
  });
});
