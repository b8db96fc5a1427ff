/**
 * The stores on both engines: the same calls give the same answers on a real SQLite file and on
 * a real PostgreSQL (a throwaway cluster): admission with dedupe and resolve, acknowledgement,
 * the delivery queue with its leases (two nodes never run one step, a dead node's step is taken
 * over), retention, tokens, heartbeats, settings, the change feed, nodes.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/store/index.js';
import { DeliveryStore } from '../../src/store/deliveries.js';
import { engines, stopEngines, type EngineStores } from '../helpers/pg.js';
import { admitMail, ackAs } from '../helpers/admit.js';

afterAll(stopEngines);

const T0 = Date.parse('2027-05-01T10:00:00Z');
const problem = (n: number, host = 'db1') => `From: zabbix@monitor.example\r\nSubject: Problem: disk full ${n}\r\n\r\nHost: ${host}\r\nSeverity: High\r\nOriginal problem ID: ${n}\r\n`;
const resolved = (n: number, host = 'db1') => `From: zabbix@monitor.example\r\nSubject: Resolved: disk full ${n}\r\n\r\nHost: ${host}\r\nSeverity: High\r\nOriginal problem ID: ${n}\r\n`;

describe.each(engines())('stores on $name', (engine) => {
  let h: EngineStores;
  let s: Stores;
  beforeEach(async () => {
    h = await engine.fresh(() => T0);
    s = h.stores;
    await s.users.add('Ana@X.example', { phone: '+34600111222', group: 'noc' });
    await s.users.add('beto@x.example', { group: 'noc' });
  });
  afterEach(async () => { await h.cleanup(); });

  it('admission: one alert, one delivery per person, raw bytes kept; the same problem again is suppressed; its resolution cancels what is queued', async () => {
    const a = await admitMail(s, problem(1), ['noc@x.example'], T0, { dedupeWindowMs: 600_000 });
    expect(a.state).toBe('pending');
    expect(a.deliveries.map((d) => [d.email, d.state]).sort()).toEqual([['ana@x.example', 'queued'], ['beto@x.example', 'queued']]);
    expect((await s.alerts.raw(a.id))!.toString()).toBe(problem(1));
    const again = await admitMail(s, problem(1), ['ANA@x.example'], T0 + 1000, { dedupeWindowMs: 600_000 });
    expect(again.deliveries).toEqual([{ email: 'ana@x.example', state: 'suppressed' }]);
    const r = await admitMail(s, resolved(1), ['noc@x.example'], T0 + 2000);
    expect(r.resolved).toEqual([a.id]);
    expect((await s.alerts.get(a.id))!.state).toBe('resolved');
    expect((await s.alerts.deliveries(a.id)).map((d) => d.state)).toEqual(['cancelled', 'cancelled']);
    expect((await s.alerts.events(a.id)).map((e) => e.kind)).toEqual(['received', 'resolved']);
    expect(await s.alerts.countByState(0)).toMatchObject({ resolved: 1 });
  });

  it('acknowledgement stops queued deliveries and says who; a second one changes nothing', async () => {
    const a = await admitMail(s, problem(2), ['noc@x.example'], T0);
    const r = await ackAs(s, a.id, 'ana@x.example', 'sms', T0 + 5000);
    expect(r.ok).toBe(true);
    const row = (await s.alerts.get(a.id))!;
    expect([row.state, row.ack_by, row.ack_via, row.ack_at]).toEqual(['acknowledged', 'ana@x.example', 'sms', T0 + 5000]);
    expect((await s.alerts.deliveries(a.id)).map((d) => [d.state, d.result])).toEqual([['acknowledged', 'acknowledged by ana@x.example'], ['acknowledged', 'acknowledged by ana@x.example']]);
    expect(await s.alerts.latestFor('ana@x.example', ['pending'])).toBeNull();
    expect(await s.alerts.snooze({ alertId: a.id, by: 'ana@x.example', via: 'sms', now: T0 + 6000, until: T0 + 60_000 })).toBe(0);
  });

  it('two nodes on the queue: one starts a step, the other gets nothing; a dead node\'s step is taken over after its lease and marked interrupted', async () => {
    const a = await admitMail(s, problem(3), ['ana@x.example'], T0);
    const nodeA = s.deliveries;
    nodeA.setLease({ node: 'a', ms: 3000 });
    const nodeB = new DeliveryStore(s.sql);
    nodeB.setLease({ node: 'b', ms: 3000 });
    const [d] = await nodeA.due(T0);
    expect(await nodeA.claim(d!.id, T0)).toBe(true);
    expect(await nodeB.claim(d!.id, T0)).toBe(false);
    expect(await nodeB.due(T0)).toEqual([]); // a's claim hides it from b
    const [ta, tb] = await Promise.all([nodeA.start(d!.id, 'voip', '201', T0), nodeB.start(d!.id, 'voip', '201', T0)]);
    expect(ta).not.toBeNull();
    expect(tb).toBeNull();
    expect(await nodeB.takeOver(T0 + 2000)).toEqual([]); // the lease still runs
    expect(await nodeA.renew(T0 + 2500)).toBe(1);
    expect(await nodeB.takeOver(T0 + 5000)).toEqual([]); // renewed to T0 + 5500
    const taken = await nodeB.takeOver(T0 + 6000);
    expect(taken).toEqual([{ id: d!.id, alertId: a.id, from: 'a' }]);
    const [att] = await s.alerts.attempts(a.id);
    expect([att!.outcome, att!.node]).toEqual(['interrupted', 'a']);
    expect(att!.reason).toMatch(/node a stopped renewing .* taken over by b/);
    // a comes back late: its outcome does not overwrite the interrupted attempt, nor move the delivery b now works.
    const [d2] = await nodeB.due(T0 + 6000);
    expect([d2!.id, d2!.step, d2!.state]).toEqual([d!.id, 0, 'queued']);
    expect(await nodeB.start(d!.id, 'voip', '201', T0 + 6100)).not.toBeNull();
    await nodeA.finishAttempt(ta!, { kind: 'answered', reason: 'late' }, T0 + 6200);
    expect(await nodeA.finish(d!.id, 'done', 'late', T0 + 6200)).toBe(false);
    expect((await s.alerts.attempts(a.id)).map((x) => [x.node, x.outcome])).toEqual([['a', 'interrupted'], ['b', null]]);
    expect(await nodeB.finish(d!.id, 'done', 'answered', T0 + 7000, true)).toBe(true);
    expect((await s.deliveries.get(d!.id))!.state).toBe('done');
  });

  it('a step\'s end and its delivery\'s move are one commit: once recorded, no other node makes the step again; a node too late moves nothing', async () => {
    const a = await admitMail(s, problem(8), ['ana@x.example'], T0);
    const nodeA = s.deliveries;
    nodeA.setLease({ node: 'a', ms: 3000 });
    const nodeB = new DeliveryStore(s.sql);
    nodeB.setLease({ node: 'b', ms: 3000 });
    const [d] = await nodeA.due(T0);
    const ta = await nodeA.start(d!.id, 'mail', 'ana@x.example', T0);
    // The mail went out; the attempt ends and the delivery is done in the same transaction.
    expect(await nodeA.complete(ta!, { kind: 'delivered', reason: '250 ok' }, d!.id, { kind: 'finish', state: 'done', result: 'delivered by mail', informed: true }, T0 + 100)).toBe(true);
    expect(await nodeB.takeOver(T0 + 60_000)).toEqual([]);
    expect(await nodeB.due(T0 + 60_000)).toEqual([]);
    expect((await s.alerts.attempts(a.id)).map((x) => x.outcome)).toEqual(['delivered']);

    // A second alert: node a stalls past its lease, b takes the step over; a's late result closes nothing and moves nothing.
    const b = await admitMail(s, problem(9), ['ana@x.example'], T0);
    const [d2] = await nodeA.due(T0);
    const t2 = await nodeA.start(d2!.id, 'mail', 'ana@x.example', T0);
    expect(await nodeB.takeOver(T0 + 3500)).toEqual([{ id: d2!.id, alertId: b.id, from: 'a' }]);
    expect(await nodeA.complete(t2!, { kind: 'failed', reason: 'late' }, d2!.id, { kind: 'reschedule', step: 1, round: 1, tries: 0, nextAt: T0 + 4000 }, T0 + 3600)).toBe(false);
    const row = (await s.deliveries.get(d2!.id))!;
    expect([row.state, row.step, row.lease_node]).toEqual(['queued', 0, null]);
    expect((await s.alerts.attempts(b.id)).map((x) => x.outcome)).toEqual(['interrupted']);
  });

  it('recoverInterrupted at start requeues what was left running at the same step', async () => {
    const a = await admitMail(s, problem(4), ['ana@x.example'], T0);
    const [d] = await s.deliveries.due(T0);
    await s.deliveries.reschedule(d!.id, { step: 1, round: 1, tries: 0, nextAt: T0 }, T0);
    await s.deliveries.start(d!.id, 'sms', '+34600111222', T0);
    expect(await s.deliveries.recoverInterrupted(T0 + 10)).toEqual({ attempts: 1, deliveries: 1 });
    const row = (await s.deliveries.get(d!.id))!;
    expect([row.state, row.step]).toEqual(['queued', 1]);
    expect((await s.alerts.attempts(a.id))[0]!.outcome).toBe('interrupted');
    expect(await s.deliveries.callsSince('ana@x.example', 0, ['sms'])).toBe(1);
    expect(await s.deliveries.openCount()).toBe(1);
  });

  it('retention deletes ended history with what hangs off it and empties old raw messages; open alerts stay', async () => {
    const DAY = 86_400_000;
    const old = await admitMail(s, problem(5), ['ana@x.example'], T0 - 200 * DAY);
    await ackAs(s, old.id, 'ana@x.example', 'sms', T0 - 200 * DAY);
    const open = await admitMail(s, problem(6), ['ana@x.example'], T0 - 300 * DAY);
    const month = await admitMail(s, problem(7), ['ana@x.example'], T0 - 40 * DAY);
    await ackAs(s, month.id, 'ana@x.example', 'sms', T0 - 40 * DAY);
    const r = await s.retention.prune({ now: T0, historyMs: 180 * DAY, rawMs: 30 * DAY });
    expect([r.alerts, r.raw]).toEqual([1, 1]);
    expect(await s.alerts.get(old.id)).toBeNull();
    expect(await s.alerts.deliveries(old.id)).toEqual([]);
    expect(await s.alerts.get(open.id)).not.toBeNull();
    expect((await s.alerts.raw(month.id))!.length).toBe(0);
    const st = await s.stats();
    expect(st.dbBytes).toBeGreaterThan(0);
    expect(st.oldestAlertAt).toBe(T0 - 300 * DAY);
    expect(st.schemaVersion).toBeGreaterThanOrEqual(12);
  });

  it('tokens, heartbeats, settings, groups, nodes round trip; names compare without case', async () => {
    await s.tokens.add('Grafana', 'ingest', 'ab'.repeat(32));
    expect((await s.tokens.byHash('ab'.repeat(32)))!.name).toBe('Grafana');
    expect(await s.tokens.revoke('grafana')).toBe(true);
    expect(await s.tokens.list()).toEqual([]);
    await s.heartbeats.add('Backup', { everyMs: 60_000, graceMs: 5000 });
    expect((await s.heartbeats.seen('backup', T0))!.lastSeenAt).toBe(T0);
    expect((await s.heartbeats.seen('backup', T0 - 10))!.lastSeenAt).toBe(T0); // never goes back
    await s.settings.set('escalation.rounds', '5');
    expect(await s.settings.overrides()).toMatchObject({ 'escalation.rounds': 5 });
    await s.users.setGroupOrder('NOC', ['sms', 'mail']);
    expect(await s.users.groups()).toEqual([{ name: 'noc', members: 2, order: ['sms', 'mail'] }]);
    expect((await s.users.get('ANA@x.example'))!.email).toBe('ana@x.example');
    await s.nodes.beat('pi-1', 42, T0, T0 + 1, { channels: { gsm: { healthy: true, detail: 'registered', busy: 0 } }, running: [] });
    expect(await s.nodes.elsewhere('pi-2', 'gsm', T0)).toBe('pi-1');
    expect(await s.nodes.elsewhere('pi-2', 'gsm', T0 + 2)).toBeNull(); // not seen lately
    expect(await s.nodes.elsewhere('pi-1', 'gsm', T0)).toBeNull();
  });

  it('the change feed sees alerts and attempts changed since a cursor', async () => {
    const c = await s.changes.cursor();
    const a = await admitMail(s, problem(8), ['ana@x.example'], T0 + 1);
    const [d] = await s.deliveries.due(T0 + 1);
    const t = await s.deliveries.start(d!.id, 'mail', 'ana@x.example', T0 + 2);
    expect((await s.changes.alertsChangedSince(c.alertsAt)).map((x) => x.id)).toContain(a.id);
    expect((await s.changes.attemptsChangedSince(c.attemptId, T0)).map((x) => x.id)).toEqual([t]);
    expect(await s.changes.resolveByHand(a.id, 'ops', 'api', T0 + 3, ['pending', 'notifying'])).toBe(true);
    expect((await s.changes.listAlerts({ states: ['resolved'], limit: 10 })).map((x) => x.id)).toEqual([a.id]);
  });
});
