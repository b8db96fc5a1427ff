/**
 * Console actions and edits over real HTTP to an in-process daemon (a real SQLite file): resolve,
 * snooze and escalate through the core's actions by web:<login>; channels, group order,
 * heartbeats, policies and silences edited on the pages land in the same stores the CLI reads;
 * statistics figures and CSV from real rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpDaemon } from '../helpers.js';
import { waitFor } from '../../helpers/env.js';
import { hashPassword } from '../../../src/http/web-auth.js';
import { figures, parseRange, quantile, statsCsv } from '../../../src/http/console/stats.js';
import { client } from './client.js';
import { FakeChannel, untilAborted } from '../../helpers/fake-channel.js';

describe('console pages', () => {
  let d: Awaited<ReturnType<typeof startHttpDaemon>>;
  let c: ReturnType<typeof client>;
  let csrf = '';
  beforeAll(async () => {
    // A mail relay that never answers: alerts stay notifying until someone acts.
    const stuck = new FakeChannel('mail', (_j, signal) => untilAborted(signal));
    d = await startHttpDaemon({ filter: { dedupeWindow: '0s' }, channels: { order: ['mail'], mail: { enabled: true } } }, { factories: { mail: async () => stuck } });
    await d.daemon.stores.webUsers.add('ana', 'admin', await hashPassword('ana-password'));
    c = client(d.base);
    await c.login('ana', 'ana-password');
    csrf = await c.csrf();
  });
  afterAll(async () => d?.stop());

  async function alert(summary: string): Promise<number> {
    const r = await d.req('POST', '/api/v1/alerts', { json: { summary, host: 'db1', severity: 'high', action: 'trigger', to: ['oncall@alerts.example'] } });
    expect(r.status).toBe(200);
    const id = r.json.accepted[0].id as number;
    await waitFor(async () => (await d.daemon.stores.alerts.get(id))!.state === 'notifying');
    return id;
  }
  const post = (path: string, form: Record<string, string> = {}) => c.post(path, { _csrf: csrf, ...form }, { accept: 'application/json' });

  it('resolve, snooze and escalate act through the core as web:ana; a finished alert answers 409', async () => {
    const a = await alert('Resolve me');
    const r = await post(`/alerts/${a}/resolve`);
    expect(r.status, r.text).toBe(200);
    expect((await d.daemon.stores.alerts.get(a))!.state).toBe('resolved');
    const again = await post(`/alerts/${a}/resolve`);
    expect(again.status).toBe(409);
    const b = await alert('Snooze me');
    expect((await post(`/alerts/${b}/snooze`, { for: '10m' })).status).toBe(200);
    expect((await d.daemon.stores.alerts.events(b)).some((e) => e.kind === 'snoozed' && /web:ana/.test(e.detail ?? ''))).toBe(true);
    expect((await post(`/alerts/${b}/snooze`, { for: 'forever' })).status).toBe(400);
    const e = await post(`/alerts/${b}/escalate`);
    expect(e.status, e.text).toBe(200);
    expect(JSON.parse(e.text).message).toBe(`alert ${b}: no further step to escalate to`);
    expect((await d.daemon.stores.alerts.events(b)).some((x) => x.kind === 'escalate' && /by web:ana via web \(no escalation policy/.test(x.detail ?? ''))).toBe(true);
    // A form without JavaScript: 303 back to the board with the message.
    const f = await c.post(`/alerts/${b}/ack`, { _csrf: csrf });
    expect(f.status).toBe(303);
    expect(f.location).toMatch(/^\/\?n=alert%20\d+%20acknowledged%20by%20web%3Aana/);
  });

  it('channels, group order, heartbeats, policies and silences edited on the pages are in the stores', async () => {
    expect((await post('/channels/mail/enable')).status).toBe(200);
    expect((await post('/channels', { order: 'mail,voip' })).status).toBe(200);
    expect((await post('/channels', { order: 'mail,fax' })).status).toBe(400);
    const settings = await d.daemon.stores.settings.overrides();
    expect(settings['channels.mail.enabled']).toBe(true);
    expect(settings['channels.order']).toEqual(['mail', 'voip']);
    expect((await post('/groups/noc/order', { order: 'sms,mail' })).status).toBe(200);
    expect(await d.daemon.stores.users.groupOrder('noc')).toEqual(['sms', 'mail']);
    expect((await post('/heartbeats', { name: 'backup', every: '1h', grace: '5m' })).status).toBe(200);
    expect((await d.daemon.stores.heartbeats.get('backup'))!.everyMs).toBe(3_600_000);
    expect((await post('/heartbeats', { name: 'backup', every: '1h' })).status).toBe(409);
    expect((await c.get('/heartbeats')).text).toContain('backup');
    expect((await post('/heartbeats/backup/remove')).status).toBe(200);
    const p = await post('/policies', { name: 'noc', steps: 'group:noc\nwait:10m\nuser:oncall@alerts.example\nwait:15m', repeat: '1' });
    expect(p.status, p.text).toBe(200);
    expect((await d.daemon.stores.oncall.getPolicy('noc'))!.steps).toHaveLength(4);
    expect((await post('/policies', { name: 'bad', steps: 'pager:42' })).status).toBe(400);
    const s = await post('/silences', { host: 'db.*', for: '2h', comment: 'maintenance' });
    expect(s.status, s.text).toBe(200);
    const sil = (await d.daemon.stores.oncall.listSilences())[0]!;
    expect(sil).toMatchObject({ comment: 'maintenance', createdBy: 'web:ana' });
    expect((await c.get('/silences')).text).toContain('maintenance');
  });

  it('status shows the receiver, queue, channels, version and doctor\'s reach checks on the running configuration', async () => {
    const st = await c.get('/status');
    expect(st.status).toBe(200);
    expect(st.text).toMatch(/Receiver<\/dt><dd>listening on 127\.0\.0\.1:\d+/);
    expect(st.text).toMatch(/<dd id="queue">\d+ open deliveries, \d+ running<\/dd>/);
    expect(st.text).toMatch(/<td>mail<\/td><td><span class="ok">yes<\/span><\/td><td>fake ok<\/td>/);
    expect(st.text).toMatch(/<td>reach<\/td><td class="ok">PASS<\/td><td>3 of 3 users reachable \(channels mail\)/);
    expect(st.text).toContain('<dt>Version</dt><dd>0.1.0</dd>');
  });

  it('status lists every appliance writing to the database: this one, a peer up with its call, a peer gone quiet', async () => {
    const now = Date.now();
    await d.daemon.stores.nodes.beat('pi-2', 4242, now - 60_000, now, {
      hostname: 'rack-b', channels: { gsm: { healthy: true, detail: 'registered', busy: 1 }, mail: { healthy: false, detail: 'relay refused', busy: 0 } },
      running: [{ alertId: 7, deliveryId: 9, channel: 'gsm', to: 'ana@alerts.example' }],
    });
    await d.daemon.stores.nodes.beat('pi-3', 99, now - 3_600_000, now - 300_000, { channels: {}, running: [] });
    const st = await c.get('/status');
    expect(st.status).toBe(200);
    const rows = [...st.text.matchAll(/<tr><td>([^<]+?)(?: \(this one\))?(?:<br>[^]*?)?<\/td><td>([^]*?)<\/td>/g)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, '')]);
    expect(rows).toContainEqual(['pi-2', 'up']);
    expect(rows).toContainEqual(['pi-3', 'down']);
    expect(st.text).toMatch(/\(this one\)/);
    expect(st.text).toContain('<span class="ok">gsm</span> <span class="bad">mail</span>');
    expect(st.text).toContain('#7 gsm → ana@alerts.example');
  });

  it('statistics: quantiles, per-channel outcomes and latency, CSV with formula cells neutralised', async () => {
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([], 0.5)).toBeNull();
    const now = Date.UTC(2026, 11, 2, 12);
    const range = parseRange({ range: '7d' }, now);
    const base = now - 86_400_000;
    const alerts = [
      { id: 1, receivedAt: base, kind: 'problem', state: 'acknowledged', severity: 'High', level: 'high', host: 'db1', subject: '=cmd|calc', ackAt: base + 120_000, ackBy: 'web:ana', resolvedAt: null },
      { id: 2, receivedAt: base + 1000, kind: 'problem', state: 'resolved', severity: 'Warning', level: 'warning', host: 'db1', subject: 'Disk', ackAt: base + 301_000, ackBy: 'x', resolvedAt: base + 601_000 },
    ];
    const attempts = [
      { alertId: 1, user: 'a@x', channel: 'voip', outcome: 'acknowledged', startedAt: base + 10_000, endedAt: base + 120_000, alertReceivedAt: base, ackAt: base + 120_000 },
      { alertId: 2, user: 'a@x', channel: 'sms', outcome: 'delivered', startedAt: base + 2000, endedAt: base + 3000, alertReceivedAt: base + 1000, ackAt: base + 301_000 },
      { alertId: 2, user: 'b@x', channel: 'voip', outcome: 'no-answer', startedAt: base + 5000, endedAt: base + 35_000, alertReceivedAt: base + 1000, ackAt: base + 301_000 },
    ];
    const f = figures(range, alerts, attempts);
    expect(f.severities).toEqual(['high', 'warning']);
    expect(f.channels.find((x) => x.channel === 'voip')).toMatchObject({ total: 2, outcomes: { acknowledged: 1, 'no-answer': 1 }, latencyMedian: 120_000 });
    expect(f.hosts).toEqual([['db1', 2]]);
    expect(f.people).toEqual([['a@x', 2], ['b@x', 1]]);
    const week = f.perWeek.find((w) => w.ackMedian !== null)!;
    expect(week.ackMedian).toBe(120_000);
    expect(week.resolveMedian).toBe(600_000);
    const csv = statsCsv(range, alerts, attempts);
    expect(csv).toContain("noisiest_subjects,'=cmd|calc,,1");
    expect(csv).toContain('channel_outcomes,voip,no-answer,1');
    expect(() => parseRange({ range: 'custom', from: '2026-12-05', to: '2026-12-01' }, now)).toThrow(/custom range/);
    expect(() => parseRange({ range: 'forever' }, now)).toThrow(/range: one of/);
  });
});
