/**
 * A real Alertmanager (Debian prometheus-alertmanager) with webhook_configs receivers pointing at
 * Alertline: alerts posted to its API v2 fire, group and resolve into stored Alertline alerts;
 * its always-firing Watchdog alert feeds a heartbeat, and stopping Alertmanager raises the
 * quiet-monitor alert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHttpDaemon } from './helpers.js';
import { freePort } from '../helpers/cli.js';
import { waitFor } from '../helpers/env.js';

let d: Awaited<ReturnType<typeof startHttpDaemon>>;
let am: ChildProcess | null = null;
let amOut = '';
let amUrl = '';

beforeAll(async () => {
  d = await startHttpDaemon({ http: { heartbeatCheckInterval: '200ms' } });
  await d.daemon.stores.heartbeats.add('alertmanager', { everyMs: 2000, graceMs: 1000, group: 'noc' });
  const dir = join(d.dir, 'am');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const auth = (t: string) => `        http_config:\n          authorization:\n            type: Bearer\n            credentials: ${t}`;
  writeFileSync(join(dir, 'alertmanager.yml'), `
route:
  receiver: alertline
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="Watchdog"']
      receiver: heartbeat
      group_wait: 0s
      group_interval: 1s
      repeat_interval: 1s
receivers:
  - name: alertline
    webhook_configs:
      - url: ${d.base}/api/v1/alerts/alertmanager?to=noc
        send_resolved: true
${auth(d.tokens.ingest)}
  - name: heartbeat
    webhook_configs:
      - url: ${d.base}/api/v1/heartbeats/alertmanager
        send_resolved: false
${auth(d.tokens.ingest)}
`);
  const port = await freePort();
  amUrl = `http://127.0.0.1:${port}`;
  am = spawn('prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  am.stdout!.on('data', (b) => (amOut += b));
  am.stderr!.on('data', (b) => (amOut += b));
  await waitFor(async () => {
    try {
      return (await fetch(`${amUrl}/-/ready`)).ok;
    } catch {
      return false;
    }
  }, 20_000, 100).catch((e) => { throw new Error(`alertmanager did not start: ${amOut}\n${(e as Error).message}`); });
}, 60_000);

afterAll(async () => {
  if (am && am.exitCode === null) am.kill('SIGTERM');
  await d?.stop();
});

async function postAlerts(alerts: object[]): Promise<void> {
  const r = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  expect(r.status).toBe(200);
}

const rows = (sql: string, ...args: unknown[]) => d.daemon.stores.db.prepare(sql).all(...args) as Record<string, any>[];

describe('real Alertmanager', () => {
  it('fires, groups and resolves: one stored alert per fingerprint, grouped in one request, resolution resolves', async () => {
    const startsAt = new Date().toISOString();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const base = { alertname: 'DiskFull', severity: 'critical', job: 'node' };
    await postAlerts([
      { labels: { ...base, instance: 'db1' }, annotations: { summary: 'Disk full on db1' }, startsAt, endsAt: later, generatorURL: 'http://prom/graph' },
      { labels: { ...base, instance: 'db2' }, annotations: { summary: 'Disk full on db2' }, startsAt, endsAt: later, generatorURL: 'http://prom/graph' },
    ]);
    const fired = await waitFor(() => {
      const r = rows(`SELECT * FROM alerts WHERE monitor = 'alertmanager' AND kind = 'problem' AND subject LIKE '%DiskFull%' ORDER BY host`);
      return r.length >= 2 && r;
    }, 20_000, 100);
    expect(fired.map((a) => a.sentence)).toEqual(['Disk full on db1', 'Disk full on db2']);
    expect(fired.map((a) => a.level)).toEqual(['critical', 'critical']);
    expect(new Set(fired.map((a) => a.problem_key)).size).toBe(2);
    // Grouped by alertname: both came in the same notification.
    expect(fired[0]!.received_at).toBe(fired[1]!.received_at);
    expect(fired[0]!.text).toMatch(/Group: .*alertname="DiskFull".* \(2 firing\)/);
    const deliveries = rows('SELECT user_email FROM deliveries WHERE alert_id = ? ORDER BY user_email', fired[0]!.id).map((r) => r.user_email);
    expect(deliveries).toEqual(['guardia@alerts.example', 'second@alerts.example']);

    // db1 recovers: Alertmanager sends it as resolved, and its alert is resolved.
    await postAlerts([{ labels: { ...base, instance: 'db1' }, annotations: { summary: 'Disk full on db1' }, startsAt, endsAt: new Date(Date.now() - 1000).toISOString() }]);
    await waitFor(() => rows(`SELECT 1 FROM alerts WHERE id = ? AND state = 'resolved'`, fired[0]!.id).length === 1, 20_000, 100);
    const resolvedMsg = rows(`SELECT * FROM alerts WHERE kind = 'resolved' AND problem_key = ?`, fired[0]!.problem_key);
    expect(resolvedMsg.length).toBeGreaterThanOrEqual(1);
    // db2 still firing.
    expect(rows('SELECT state FROM alerts WHERE id = ?', fired[1]!.id)[0]!.state).not.toBe('resolved');
  }, 60_000);

  it('the always-firing Watchdog feeds a heartbeat; stopping Alertmanager raises "monitor alertmanager went quiet"', async () => {
    await postAlerts([{ labels: { alertname: 'Watchdog', severity: 'none' }, annotations: { summary: 'the alerting pipeline works' }, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString() }]);
    // Pings keep coming (at least two distinct ones).
    const first = await waitFor(async () => (await d.daemon.stores.heartbeats.get('alertmanager'))!.lastSeenAt, 20_000, 100);
    await waitFor(async () => ((await d.daemon.stores.heartbeats.get('alertmanager'))!.lastSeenAt ?? 0) > first, 20_000, 100);
    expect((await d.daemon.stores.heartbeats.get('alertmanager'))!.quietSince).toBeNull();
    // The Watchdog is a ping, not an alert that calls people.
    expect(rows(`SELECT 1 FROM alerts WHERE subject LIKE '%Watchdog%'`)).toEqual([]);

    am!.kill('SIGTERM');
    await new Promise((r) => am!.once('exit', r));
    const quiet = await waitFor(() => rows(`SELECT * FROM alerts WHERE monitor = 'alertline' AND kind = 'problem'`)[0], 20_000, 100);
    expect(quiet.sentence).toBe('monitor alertmanager went quiet');
    expect(rows('SELECT user_email FROM deliveries WHERE alert_id = ? ORDER BY user_email', quiet.id).map((r) => r.user_email)).toEqual(['guardia@alerts.example', 'second@alerts.example']);
    expect((await d.daemon.stores.heartbeats.get('alertmanager'))!.quietAlertId).toBe(quiet.id);
  }, 60_000);
});
