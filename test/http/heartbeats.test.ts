/**
 * Heartbeats with a hand-moved clock against the real store and the real group-commit writer,
 * then over HTTP in a running daemon; and capacity (filter.maxPending) answered 503 with
 * Retry-After.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/index.js';
import { AlertWriter } from '../../src/receiver/alert-writer.js';
import { admissionRules } from '../../src/core/admission.js';
import { HeartbeatMonitor } from '../../src/receiver/http/heartbeats.js';
import { ManualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { FakeChannel, untilAborted } from '../helpers/fake-channel.js';
import { startHttpDaemon } from './helpers.js';

const MIN = 60_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const tmp = tempDir();
  const clock = new ManualClock();
  const stores: Stores = openStores(tmp.dir, () => clock.now());
  cleanups.push(() => { void stores.close(); tmp.cleanup(); });
  await stores.users.add('admin1@alerts.example', { group: 'admins' });
  await stores.users.add('admin2@alerts.example', { group: 'admins' });
  const writer = new AlertWriter(stores.alerts, async () => admissionRules({ ignore: [], dedupeWindowMs: 30 * MIN, notifyResolved: true }), () => {});
  const mon = new HeartbeatMonitor({ store: stores.heartbeats, users: stores.users, writer, defaultTo: () => [], clock, logger: silentLogger, hostname: 'test', checkEveryMs: 10_000 });
  return { stores, clock, mon };
}

describe('heartbeat checker', () => {
  it('a missed beat beyond the grace raises "monitor zabbix went quiet" to the group; the next ping resolves it', async () => {
    const { stores, clock, mon } = await setup();
    await stores.heartbeats.add('zabbix', { everyMs: 5 * MIN, graceMs: 2 * MIN, group: 'admins' });
    await mon.ping('zabbix');
    clock.advance(7 * MIN); // exactly at the deadline: not yet
    await mon.check();
    expect((await stores.alerts.list()).length).toBe(0);
    clock.advance(1000);
    await mon.check();
    const [quiet] = await stores.alerts.list();
    expect(quiet!.sentence).toBe('monitor zabbix went quiet');
    expect(quiet!.monitor).toBe('alertline');
    expect(quiet!.kind).toBe('problem');
    expect(quiet!.state).toBe('pending');
    expect((await stores.alerts.deliveries(quiet!.id)).map((x) => x.user_email).sort()).toEqual(['admin1@alerts.example', 'admin2@alerts.example']);
    expect((await stores.heartbeats.get('zabbix'))!.quietAlertId).toBe(quiet!.id);
    // Checking again raises nothing new.
    clock.advance(10 * MIN);
    await mon.check();
    expect((await stores.alerts.list()).length).toBe(1);

    await mon.ping('zabbix');
    expect((await stores.alerts.get(quiet!.id))!.state).toBe('resolved');
    expect((await stores.heartbeats.get('zabbix'))!.quietSince).toBeNull();
    // A second outage later is a new alert (not suppressed as a duplicate of the first).
    clock.advance(8 * MIN);
    await mon.check();
    const list = await stores.alerts.list();
    expect(list[0]!.kind).toBe('problem');
    expect(list[0]!.id).not.toBe(quiet!.id);
    expect(list[0]!.state).toBe('pending');
  });

  it('a heartbeat that never pinged goes quiet one interval and grace after it was added; pings of unknown names are refused', async () => {
    const { stores, clock, mon } = await setup();
    clock.advance(MIN);
    await stores.heartbeats.add('backup', { everyMs: 60 * MIN, graceMs: 0, group: 'admins' });
    clock.advance(59 * MIN);
    await mon.check();
    expect((await stores.alerts.list()).length).toBe(0);
    clock.advance(2 * MIN);
    await mon.check();
    expect((await stores.alerts.list())[0]!.subject).toBe('Problem: monitor backup went quiet');
    expect(await mon.ping('nonexistent')).toBeNull();
  });

  it('the timer drives the checks (injected clock)', async () => {
    const { stores, clock, mon } = await setup();
    await stores.heartbeats.add('prom', { everyMs: MIN, graceMs: 0, group: 'admins' });
    mon.start();
    cleanups.push(() => mon.stop());
    for (let i = 0; i < 8; i++) {
      clock.advance(10_000);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(async () => (await stores.alerts.list()).length === 1, 5000);
    expect((await stores.heartbeats.get('prom'))!.quietSince).not.toBeNull();
  });
});

describe('heartbeats over HTTP', () => {
  it('POST /api/v1/heartbeats/<name> records the ping (any body), 404 for an unknown name, listed with its last ping', async () => {
    const d = await startHttpDaemon();
    cleanups.push(() => d.stop());
    await d.daemon.stores.heartbeats.add('watchdog', { everyMs: 60_000, graceMs: 0, group: 'noc' });
    const r = await d.req('POST', '/api/v1/heartbeats/watchdog', { token: 'ingest', body: 'ping', headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(200);
    expect(r.json.heartbeat.lastSeenAt).toBeGreaterThan(0);
    expect((await d.req('POST', '/api/v1/heartbeats/watchdog', { token: 'ingest' })).status).toBe(200);
    expect((await d.req('POST', '/api/v1/heartbeats/watchdog', { token: 'ingest', json: { status: 'firing', alerts: [] } })).status).toBe(200);
    expect((await d.req('POST', '/api/v1/heartbeats/watchdog', { token: 'ingest', body: '{not json', headers: { 'content-type': 'application/json' } })).status).toBe(200);
    expect((await d.req('POST', '/api/v1/heartbeats/nope', { token: 'ingest' })).status).toBe(404);
    expect((await d.req('POST', '/api/v1/heartbeats/watchdog', { token: null })).status).toBe(401);
    expect((await d.req('POST', '/api/v1/heartbeats/watchdog', { token: 'read' })).status).toBe(403);
    const list = await d.req('GET', '/api/v1/heartbeats', { token: 'read' });
    expect(list.json.heartbeats[0]).toMatchObject({ name: 'watchdog', quiet: false, group: 'noc' });
  });

  it('POST /api/v1/heartbeats adds one (scope write), DELETE removes it', async () => {
    const d = await startHttpDaemon();
    cleanups.push(() => d.stop());
    const add = await d.req('POST', '/api/v1/heartbeats', { token: 'write', json: { name: 'cron', every: '1h', grace: '5m', group: 'noc' } });
    expect(add.status).toBe(201);
    expect(add.json.heartbeat).toMatchObject({ name: 'cron', everyMs: 3_600_000, graceMs: 300_000, group: 'noc' });
    expect((await d.req('POST', '/api/v1/heartbeats', { token: 'write', json: { name: 'cron', every: '1h' } })).status).toBe(409);
    const bad = await d.req('POST', '/api/v1/heartbeats', { token: 'write', json: { name: 'x', every: 'often' } });
    expect([bad.status, bad.json.field]).toEqual([400, 'every']);
    expect((await d.req('POST', '/api/v1/heartbeats', { token: 'ingest', json: { name: 'y', every: '1m' } })).status).toBe(403);
    expect((await d.req('DELETE', '/api/v1/heartbeats/cron', { token: 'write' })).status).toBe(200);
    expect((await d.req('DELETE', '/api/v1/heartbeats/cron', { token: 'write' })).status).toBe(404);
    expect(await d.daemon.stores.heartbeats.get('cron')).toBeNull();
  });
});

describe('capacity', () => {
  it('above filter.maxPending ingest gets 503 with Retry-After and stores nothing; accepted again once the queue drains', async () => {
    const stuck = new FakeChannel('mail', (_j, signal) => untilAborted(signal));
    const d = await startHttpDaemon({ filter: { maxPending: 2, dedupeWindow: '0s' }, channels: { order: ['mail'], mail: { enabled: true } } }, { factories: { mail: async () => stuck } });
    cleanups.push(() => d.stop());
    const post = (k: string) => d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: `cap ${k}`, dedupKey: k, action: 'trigger', to: ['noc'] } });
    expect((await post('a')).status).toBe(200); // two deliveries (noc has two members)
    await new Promise((r) => setTimeout(r, 250)); // the receiver's count is reused for 200 ms
    const r = await post('b');
    expect(r.status).toBe(503);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(r.json.error).toMatch(/maxPending/);
    expect((await d.daemon.stores.alerts.list()).map((a) => a.subject)).not.toContain('Problem: cap b');
    // Draining: acknowledge the alert, its deliveries end.
    const [a] = await d.daemon.stores.alerts.list();
    expect((await d.req('POST', `/api/v1/alerts/${a!.id}/ack`, { token: 'write' })).status).toBe(200);
    await waitFor(async () => (await d.daemon.stores.deliveries.openCount()) === 0, 10_000);
    await new Promise((r2) => setTimeout(r2, 250));
    expect((await post('c')).status).toBe(200);
  });
});
