/**
 * The HTTP server over real loopback HTTP: webhook ingest (committed before the 2xx, seen
 * through a second SQLite connection), every error path, tokens and scopes, the read/act API,
 * the event stream and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { simpleParser } from 'mailparser';
import { committed, httpFixture, startHttpDaemon } from './helpers.js';
import { memoryLogger } from '../../src/util/log.js';
import { waitFor } from '../helpers/env.js';

type D = Awaited<ReturnType<typeof startHttpDaemon>>;
let d: D;
const logger = memoryLogger();

beforeAll(async () => {
  d = await startHttpDaemon({ http: { maxBodySize: '64KB', defaultTo: ['oncall@alerts.example'], authFailuresPerMinute: 5 } }, { logger });
});
afterAll(async () => {
  await d?.stop();
});

describe('Alertmanager webhook', () => {
  it('stores one alert per alert, committed before the 200, with fingerprint identity, labels in the text, summary as sentence and severity as level', async () => {
    const r = await d.req('POST', '/api/v1/alerts/alertmanager?to=noc', { token: 'ingest', json: httpFixture('alertmanager-firing.json') });
    expect(r.status).toBe(200);
    expect(r.json.accepted).toHaveLength(2);
    const ids = r.json.accepted.map((a: { id: number }) => a.id);
    // Another connection sees both rows as soon as the answer is here.
    const rows = committed(d.dbPath, (db) => db.prepare(`SELECT * FROM alerts WHERE id IN (${ids.join(',')}) ORDER BY id`).all()) as Record<string, any>[];
    expect(rows).toHaveLength(2);
    expect(rows[0]!.problem_key).toBe('alertmanager:b3c5a2f1d4e6a7b8');
    expect(rows[0]!.sentence).toBe('CPU usage above 90% on web01');
    expect(rows[0]!.level).toBe('critical');
    expect(rows[0]!.monitor).toBe('alertmanager');
    expect(rows[0]!.host).toBe('web01:9100');
    expect(rows[0]!.text).toContain('job: node');
    expect(rows[0]!.text).toContain('description: CPU has been above 90% for 10 minutes.');
    const deliveries = committed(d.dbPath, (db) => db.prepare('SELECT user_email FROM deliveries WHERE alert_id = ? ORDER BY user_email').all(ids[0])) as { user_email: string }[];
    expect(deliveries.map((x) => x.user_email)).toEqual(['guardia@alerts.example', 'second@alerts.example']);
    // The raw message the mail channel relays is a real mail.
    const raw = committed(d.dbPath, (db) => (db.prepare('SELECT raw FROM alerts WHERE id = ?').get(ids[0]) as { raw: Buffer }).raw);
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Problem: HighCPU on web01:9100 - CPU usage above 90% on web01');
    expect(mail.text).toContain('instance: web01:9100');
  });

  it('status resolved resolves the alert with the same fingerprint', async () => {
    const p = httpFixture('alertmanager-firing.json') as any;
    p.alerts = [{ ...p.alerts[0], labels: { ...p.alerts[0].labels }, fingerprint: 'feedfacecafe0001' }];
    const fired = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', json: p });
    expect(fired.status).toBe(200);
    const id = fired.json.accepted[0].id;
    p.status = 'resolved';
    p.alerts[0].status = 'resolved';
    p.alerts[0].endsAt = '2026-12-01T22:00:00Z';
    const res = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', json: p });
    expect(res.status).toBe(200);
    expect(res.json.accepted[0].resolved).toEqual([id]);
    expect(committed(d.dbPath, (db) => (db.prepare('SELECT state FROM alerts WHERE id = ?').get(id) as { state: string }).state)).toBe('resolved');
  });

  it('label alertline_to routes an alert; http.defaultTo takes the rest', async () => {
    const p = httpFixture('alertmanager-firing.json') as any;
    p.alerts[0].labels.alertline_to = 'oncall@alerts.example';
    p.alerts[0].fingerprint = 'aaaa000000000001';
    p.alerts[1].fingerprint = 'aaaa000000000002';
    const r = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', json: p });
    expect(r.status).toBe(200);
    const users = (id: number) => committed(d.dbPath, (db) => db.prepare('SELECT user_email FROM deliveries WHERE alert_id = ?').all(id) as { user_email: string }[]).map((x) => x.user_email);
    expect(users(r.json.accepted[0].id)).toEqual(['oncall@alerts.example']);
    expect(users(r.json.accepted[1].id)).toEqual(['oncall@alerts.example']);
  });

  it('unknown recipients: 422 naming them, nothing stored', async () => {
    const before = committed(d.dbPath, (db) => (db.prepare('SELECT count(*) n FROM alerts').get() as { n: number }).n);
    const r = await d.req('POST', '/api/v1/alerts/alertmanager?to=nobody-group,ghost@alerts.example', { token: 'ingest', json: httpFixture('alertmanager-firing.json') });
    expect(r.status).toBe(422);
    expect(r.json.error).toContain('nobody-group');
    expect(r.json.unknown).toEqual(['nobody-group', 'ghost@alerts.example']);
    expect(committed(d.dbPath, (db) => (db.prepare('SELECT count(*) n FROM alerts').get() as { n: number }).n)).toBe(before);
  });

  it('a body that is not valid gets 400 naming the field and stores nothing', async () => {
    const before = committed(d.dbPath, (db) => (db.prepare('SELECT count(*) n FROM alerts').get() as { n: number }).n);
    const p = httpFixture('alertmanager-firing.json') as any;
    p.alerts[1].status = 'burning';
    const r = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', json: p });
    expect(r.status).toBe(400);
    expect(r.json.field).toBe('alerts.1.status');
    expect(r.json.error).toMatch(/^alerts\.1\.status: /);
    const wrongType = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', json: { status: 'firing', alerts: [{ status: 'firing', labels: { a: 1 } }] } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.field).toBe('alerts.0.labels.a');
    const badJson = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', body: '{"status": "firing", "alerts": [', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(badJson.json.error).toMatch(/invalid JSON/);
    const empty = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', body: '', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    expect(empty.json.field).toBe('(body)');
    const proto = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', body: '{"__proto__": {"x": 1}, "status": "firing", "alerts": []}', headers: { 'content-type': 'application/json' } });
    expect(proto.status).toBe(400);
    const notJson = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', body: 'status=firing', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(notJson.status).toBe(415);
    expect(notJson.json.error).toMatch(/application\/json/);
    expect(committed(d.dbPath, (db) => (db.prepare('SELECT count(*) n FROM alerts').get() as { n: number }).n)).toBe(before);
  });

  it('an oversized body gets 413', async () => {
    const p = httpFixture('alertmanager-firing.json') as any;
    p.alerts[0].annotations.description = 'x'.repeat(70 * 1024);
    const r = await d.req('POST', '/api/v1/alerts/alertmanager', { token: 'ingest', json: p });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/maxBodySize/);
  });
});

describe('Grafana webhook and generic JSON', () => {
  it('Grafana: stored with fingerprint identity, values in the text, resolved resolves', async () => {
    const p = httpFixture('grafana-firing.json') as any;
    const r = await d.req('POST', '/api/v1/alerts/grafana?to=noc', { token: 'ingest', json: p });
    expect(r.status).toBe(200);
    const id = r.json.accepted[0].id;
    const row = committed(d.dbPath, (db) => db.prepare('SELECT * FROM alerts WHERE id = ?').get(id)) as Record<string, any>;
    expect(row.problem_key).toBe('grafana:9a8b7c6d5e4f3a2b');
    expect(row.sentence).toBe('Disk / on db1 is 95% full');
    expect(row.level).toBe('warning');
    expect(row.text).toContain('B: 95.2');
    p.status = 'resolved';
    p.alerts[0].status = 'resolved';
    const res = await d.req('POST', '/api/v1/alerts/grafana?to=noc', { token: 'ingest', json: p });
    expect(res.json.accepted[0].resolved).toEqual([id]);
  });

  it('generic: trigger then resolve by dedupKey', async () => {
    const t = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'backup failed', host: 'nas', severity: 'high', dedupKey: 'backup-nas', action: 'trigger', to: ['oncall@alerts.example'] } });
    expect(t.status).toBe(200);
    const id = t.json.accepted[0].id;
    const row = committed(d.dbPath, (db) => db.prepare('SELECT * FROM alerts WHERE id = ?').get(id)) as Record<string, any>;
    expect([row.kind, row.sentence, row.host, row.level, row.problem_key]).toEqual(['problem', 'backup failed', 'nas', 'high', 'generic:backup-nas']);
    const r = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'backup ok', dedupKey: 'backup-nas', action: 'resolve', to: ['oncall@alerts.example'] } });
    expect(r.json.accepted[0].resolved).toEqual([id]);
  });

  it('generic: JSON with a charset parameter is JSON', async () => {
    const r = await d.req('POST', '/api/v1/alerts', { token: 'ingest', body: JSON.stringify({ summary: 'charset', action: 'trigger', to: ['noc'] }), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(r.status).toBe(200);
  });

  it('generic: missing and wrong fields are named', async () => {
    const missing = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'x', to: ['oncall@alerts.example'] } });
    expect(missing.status).toBe(400);
    expect(missing.json.field).toBe('action');
    const extra = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'x', action: 'trigger', to: ['oncall@alerts.example'], sevrity: 'high' } });
    expect(extra.status).toBe(400);
    expect(extra.json.error).toMatch(/sevrity/);
    const to = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'x', action: 'trigger', to: 'oncall@alerts.example' } });
    expect(to.status).toBe(400);
    expect(to.json.field).toBe('to');
  });
});

describe('tokens and scopes', () => {
  it('no token 401, a wrong token 401, a read token cannot ingest or act (403), an ingest token cannot read (403)', async () => {
    const none = await d.req('POST', '/api/v1/alerts', { token: null, json: {} });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await d.req('GET', '/api/v1/alerts', { token: 'alt_' + 'A'.repeat(43) });
    expect(wrong.status).toBe(401);
    expect((await d.req('POST', '/api/v1/alerts', { token: 'read', json: {} })).status).toBe(403);
    expect((await d.req('POST', '/api/v1/alerts/1/ack', { token: 'read' })).status).toBe(403);
    expect((await d.req('GET', '/api/v1/alerts', { token: 'ingest' })).status).toBe(403);
    expect((await d.req('GET', '/metrics', { token: null })).status).toBe(401);
    expect((await d.req('GET', '/api/v1/alerts', { token: 'read' })).status).toBe(200);
    // A write token does everything.
    expect((await d.req('GET', '/api/v1/alerts', { token: 'write' })).status).toBe(200);
    // Failed attempts are logged without the token.
    expect(logger.lines.some((l) => l.includes('http.auth_failed'))).toBe(true);
    expect(logger.lines.join('\n')).not.toContain('A'.repeat(43));
  });

  it('a revoked token stops working at once', async () => {
    const { hashToken, newToken } = await import('../../src/http/auth.js');
    const t = newToken();
    await d.daemon.stores.tokens.add('temp', 'read', hashToken(t));
    expect((await d.req('GET', '/api/v1/status', { token: t })).status).toBe(200);
    await d.daemon.stores.tokens.revoke('temp');
    expect((await d.req('GET', '/api/v1/status', { token: t })).status).toBe(401);
  });
});

describe('read and act', () => {
  it('lists with state filter and limit, shows one alert, acknowledges through the core entry, resolves', async () => {
    const t = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'api ack test', dedupKey: 'ack-1', action: 'trigger', to: ['oncall@alerts.example'] } });
    const id = t.json.accepted[0].id;
    const list = await d.req('GET', '/api/v1/alerts?limit=2', { token: 'read' });
    expect(list.status).toBe(200);
    expect(list.json.alerts).toHaveLength(2);
    expect(list.json.alerts[0].id).toBe(id);
    const one = await d.req('GET', `/api/v1/alerts/${id}`, { token: 'read' });
    expect(one.json.alert.subject).toBe('Problem: api ack test');
    expect(one.json.alert.deliveries[0].user).toBe('oncall@alerts.example');
    expect((await d.req('GET', '/api/v1/alerts/999999', { token: 'read' })).status).toBe(404);
    expect((await d.req('GET', '/api/v1/alerts/abc', { token: 'read' })).json.field).toBe('id');
    expect((await d.req('GET', '/api/v1/alerts?state=bogus', { token: 'read' })).json.field).toBe('state');
    expect((await d.req('GET', '/api/v1/alerts?limit=0', { token: 'read' })).json.field).toBe('limit');

    const ack = await d.req('POST', `/api/v1/alerts/${id}/ack`, { token: 'write' });
    expect(ack.status).toBe(200);
    expect(ack.json.acknowledged).toContain(id);
    const row = committed(d.dbPath, (db) => db.prepare('SELECT state, ack_by, ack_via FROM alerts WHERE id = ?').get(id)) as Record<string, string>;
    expect(row).toEqual({ state: 'acknowledged', ack_by: 'api:t-write', ack_via: 'api' });
    expect((await d.req('POST', `/api/v1/alerts/${id}/ack`, { token: 'write' })).status).toBe(409);
    const acked = await d.req('GET', '/api/v1/alerts?state=acknowledged', { token: 'read' });
    expect(acked.json.alerts.map((a: { id: number }) => a.id)).toContain(id);
    expect(acked.json.alerts.every((a: { state: string }) => a.state === 'acknowledged')).toBe(true);

    const res = await d.req('POST', `/api/v1/alerts/${id}/resolve`, { token: 'write' });
    expect(res.status).toBe(200);
    expect(committed(d.dbPath, (db) => (db.prepare('SELECT state FROM alerts WHERE id = ?').get(id) as { state: string }).state)).toBe('resolved');
    expect((await d.req('POST', `/api/v1/alerts/${id}/resolve`, { token: 'write' })).status).toBe(409);
  });

  it('escalate and snooze go through the core: refused for an alert that is not open, bad durations are 400', async () => {
    // No channel is enabled in this daemon: the alert ends failed at once, with nothing left to hold.
    const t = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'api snooze test', dedupKey: 'snooze-1', action: 'trigger', to: ['oncall@alerts.example'] } });
    const id = t.json.accepted[0].id;
    expect((await d.req('POST', `/api/v1/alerts/${id}/snooze?for=soon`, { token: 'write' })).json.field).toBe('for');
    expect((await d.req('POST', `/api/v1/alerts/${id}/snooze`, { token: 'read' })).status).toBe(403);
    const end = Date.now() + 10_000;
    while (Date.now() < end && committed(d.dbPath, (db) => (db.prepare('SELECT state FROM alerts WHERE id = ?').get(id) as { state: string }).state) !== 'failed') await new Promise((r) => setTimeout(r, 50));
    const sn = await d.req('POST', `/api/v1/alerts/${id}/snooze?for=2h`, { token: 'write' });
    expect(sn.status).toBe(409);
    expect(sn.json.error).toMatch(/is failed: nothing to snooze/);
    const esc = await d.req('POST', `/api/v1/alerts/${id}/escalate`, { token: 'write' });
    expect(esc.status).toBe(409);
    expect((await d.req('POST', '/api/v1/alerts/999999/escalate', { token: 'write' })).status).toBe(404);
  });

  it('users, group order and silences can be changed through the API, with the CLI\'s checks', async () => {
    const add = await d.req('POST', '/api/v1/users', { token: 'write', json: { email: 'Nuevo@Alerts.example', phone: '+34 600 999 888', group: 'noc' } });
    expect(add.status).toBe(201);
    expect(add.json.user).toMatchObject({ email: 'nuevo@alerts.example', phone: '+34600999888', group: 'noc' });
    expect((await d.req('POST', '/api/v1/users', { token: 'write', json: { email: 'nuevo@alerts.example' } })).status).toBe(409);
    const bad = await d.req('POST', '/api/v1/users', { token: 'write', json: { email: 'x@y.example', phone: '600' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/E\.164/);
    expect((await d.req('POST', '/api/v1/users', { token: 'read', json: { email: 'z@y.example' } })).status).toBe(403);
    const upd = await d.req('PATCH', '/api/v1/users/nuevo@alerts.example', { token: 'write', json: { sip: '209', channelOrder: ['voip', 'mail'] } });
    expect(upd.json.user).toMatchObject({ sip: '209', channelOrder: ['voip', 'mail'] });
    expect((await d.req('PATCH', '/api/v1/users/nobody@x.example', { token: 'write', json: { sip: '1' } })).status).toBe(404);
    expect((await d.req('PATCH', '/api/v1/groups/noc', { token: 'write', json: { channelOrder: ['sms'] } })).status).toBe(200);
    expect((await d.req('GET', '/api/v1/groups', { token: 'read' })).json.groups.find((g: { name: string }) => g.name === 'noc').order).toEqual(['sms']);
    expect((await d.req('PATCH', '/api/v1/groups/noc', { token: 'write', json: { channelOrder: null } })).status).toBe(200);
    expect((await d.req('DELETE', '/api/v1/users/nuevo@alerts.example', { token: 'write' })).status).toBe(200);
    expect((await d.req('DELETE', '/api/v1/users/nuevo@alerts.example', { token: 'write' })).status).toBe(404);

    const sil = await d.req('POST', '/api/v1/silences', { token: 'write', json: { host: 'db-.*', for: '2h', comment: 'kernel upgrade' } });
    expect(sil.status).toBe(201);
    expect(sil.json.silence).toMatchObject({ host: 'db-.*', comment: 'kernel upgrade', createdBy: 'api:t-write' });
    expect((await d.req('POST', '/api/v1/silences', { token: 'write', json: { comment: 'no matcher', for: '1h' } })).status).toBe(400);
    expect((await d.req('POST', '/api/v1/silences', { token: 'write', json: { host: 'x', comment: 'no end' } })).status).toBe(400);
    expect((await d.req('GET', '/api/v1/silences', { token: 'read' })).json.silences.map((x: { id: number }) => x.id)).toContain(sil.json.silence.id);
    expect((await d.req('DELETE', `/api/v1/silences/${sil.json.silence.id}`, { token: 'write' })).status).toBe(200);
    expect((await d.req('DELETE', '/api/v1/silences/99999', { token: 'write' })).status).toBe(404);
  });

  it('users, groups, status, openapi', async () => {
    const users = await d.req('GET', '/api/v1/users', { token: 'read' });
    expect(users.json.users.map((u: { email: string }) => u.email)).toEqual(['guardia@alerts.example', 'oncall@alerts.example', 'second@alerts.example']);
    expect((await d.req('GET', '/api/v1/users/oncall@alerts.example', { token: 'read' })).json.user.phone).toBe('+34600123456');
    expect((await d.req('GET', '/api/v1/users/nobody@x', { token: 'read' })).status).toBe(404);
    const groups = await d.req('GET', '/api/v1/groups', { token: 'read' });
    expect(groups.json.groups).toEqual([{ name: 'noc', members: 2, order: null }]);
    const st = await d.req('GET', '/api/v1/status', { token: 'read' });
    expect(st.json.status.receiver.listening).toBe(true);
    expect(st.json.status.queue).toHaveProperty('openDeliveries');
    expect(st.json.http.port).toBe(d.daemon.http.address()!.port);
    const doc = await d.req('GET', '/api/v1/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toMatch(/^3\./);
    const generic = doc.json.paths['/api/v1/alerts'].post.requestBody.content['application/json'].schema;
    expect(generic.required).toEqual(expect.arrayContaining(['summary', 'action', 'to']));
    expect(generic.properties.action.enum).toEqual(['trigger', 'resolve']);
    expect(doc.json.paths['/api/v1/alerts/alertmanager'].post.requestBody.content['application/json'].schema.properties.alerts.type).toBe('array');
    expect((await d.req('GET', '/api/v1/nothing', { token: 'read' })).status).toBe(404);
  });

  it('event stream: a new alert and its acknowledgement arrive as events', async () => {
    const events: { event: string; data: any }[] = [];
    const url = new URL('/api/v1/events', d.base);
    const req = http.get(url, { headers: { authorization: `Bearer ${d.tokens.read}` } });
    const res = await new Promise<http.IncomingMessage>((r) => req.once('response', r));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      }
    });
    try {
      await waitFor(() => d.daemon.http.address() && true);
      await new Promise((r) => setTimeout(r, 100)); // the stream's cursor is taken when it opens
      const t = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'sse test', dedupKey: 'sse-1', action: 'trigger', to: ['oncall@alerts.example'] } });
      const id = t.json.accepted[0].id;
      await waitFor(() => events.some((e) => e.event === 'alert' && e.data.id === id), 10_000);
      await d.req('POST', `/api/v1/alerts/${id}/ack`, { token: 'write' });
      await waitFor(() => events.some((e) => e.event === 'alert' && e.data.id === id && e.data.state === 'acknowledged'), 10_000);
      // Each change once.
      expect(events.filter((e) => e.event === 'alert' && e.data.id === id && e.data.state === 'acknowledged')).toHaveLength(1);
    } finally {
      req.destroy();
    }
  });

  it('failed authentications above the limit get 429 with Retry-After; a valid token still works', async () => {
    let last = 0;
    for (let i = 0; i < 8; i++) last = (await d.req('GET', '/api/v1/alerts', { token: 'alt_' + 'B'.repeat(43) })).status;
    expect(last).toBe(429);
    const r = await d.req('GET', '/api/v1/alerts', { token: 'alt_' + 'B'.repeat(43) });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(logger.lines.some((l) => l.includes('http.auth_rate_limited'))).toBe(true);
    expect((await d.req('GET', '/api/v1/alerts', { token: 'read' })).status).toBe(200);
  });
});
