/**
 * A real Alertmanager 0.25 (Debian prometheus-alertmanager) e-mailing a real Alertline daemon over
 * SMTP, Alertline relaying to a real SMTP sink: what Alertline stores, who is notified and what is
 * relayed, through problem → recovery → re-occurrence → recovery, and a group of two resolving one
 * by one (the subject's labels change, the identity does not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Proc, freePort, until } from '../monitors/harness.js';
import { defaultFactories } from '../../src/daemon.js';
import { silentLogger } from '../../src/util/log.js';
import { startDaemon, startSink, type SinkMessage } from '../helpers/env.js';
import type { AlertRow } from '../../src/store/rows.js';

const BIN = '/usr/bin/prometheus-alertmanager';
let dir: string;
let am: Proc;
let api: string;
let sink: Awaited<ReturnType<typeof startSink>>;
let d: Awaited<ReturnType<typeof startDaemon>>;

async function post(alerts: { labels: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; endsAt?: string }[]): Promise<void> {
  const r = await fetch(`${api}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  expect(r.status, await r.text()).toBe(200);
}

const now = () => new Date().toISOString();

/** Waits until Alertline has stored n alerts, and returns them oldest first. */
async function waitStored(n: number): Promise<AlertRow[]> {
  const end = Date.now() + 30_000;
  for (;;) {
    const rows = (await d.daemon.stores.alerts.list(100)).reverse();
    if (rows.length >= n) return rows;
    if (Date.now() > end) throw new Error(`only ${rows.length} of ${n} alerts stored\n${am.output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The relayed mails whose subject starts with a prefix. */
const relayed = (prefix: string): SinkMessage[] => sink.messages.filter((m) => m.raw.toString('latin1').match(/^Subject: (.*)$/m)?.[1]?.startsWith(prefix));

async function settled(id: number): Promise<AlertRow> {
  const end = Date.now() + 20_000;
  for (;;) {
    const a = (await d.daemon.stores.alerts.get(id))!;
    if (!['pending', 'notifying'].includes(a.state)) return a;
    if (Date.now() > end) throw new Error(`alert ${id} still ${a.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} missing: apt-get install prometheus-alertmanager`);
  sink = await startSink();
  d = await startDaemon({
    channels: { order: ['mail'], mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, from: 'alertline@appliance.example', timeout: '5s' } },
  }, { factories: defaultFactories(silentLogger), users: [['oncall@alerts.test', {}]] });
  dir = mkdtempSync(join(tmpdir(), 'alertline-am-e2e-'));
  writeFileSync(join(dir, 'alertmanager.yml'), `global:
  smtp_smarthost: 127.0.0.1:${d.port}
  smtp_from: alertmanager@monitor.test
  smtp_hello: monitor.test
  smtp_require_tls: false
route:
  receiver: alertline
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: [ 'alertname="NodeDown"' ]
      group_by: [alertname]
receivers:
  - name: alertline
    email_configs:
      - to: oncall@alerts.test
        send_resolved: true
`);
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  am = Proc.start('alertmanager', BIN, [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${api}`, '--cluster.listen-address=',
  ]);
  const end = Date.now() + 15_000;
  for (;;) {
    try { if ((await fetch(`${api}/-/ready`)).ok) break; } catch { /* not yet */ }
    if (Date.now() > end || !am.running) throw new Error(`Alertmanager did not start\n${am.output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 40_000);

afterAll(async () => {
  await am?.stop();
  await d?.stop();
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Alertmanager → Alertline (real peers)', () => {
  const CPU = { alertname: 'HighCPU', instance: 'web01:9100', job: 'node', severity: 'critical' };
  const CPU_NOTES = { summary: 'CPU usage above 90% on web01' };

  it('a problem that comes back after its recovery is a new problem, and each recovery is told', async () => {
    await post([{ labels: CPU, annotations: CPU_NOTES, startsAt: now() }]);
    let rows = await waitStored(1);
    const p1 = await settled(rows[0]!.id);
    expect(p1).toMatchObject({ kind: 'problem', state: 'delivered', host: 'web01:9100', level: 'critical', sentence: 'CPU usage above 90% on web01', monitor: 'alertmanager' });

    await post([{ labels: CPU, annotations: CPU_NOTES, endsAt: now() }]);
    rows = await waitStored(2);
    expect(rows[1]!.kind).toBe('resolved');
    expect((await d.daemon.stores.alerts.get(p1.id))!.state).toBe('resolved');
    await settled(rows[1]!.id);

    // 16 minutes later in real life; here at once: inside filter.dedupeWindow (30m), still news.
    await post([{ labels: CPU, annotations: CPU_NOTES, startsAt: now() }]);
    rows = await waitStored(3);
    const p2 = await settled(rows[2]!.id);
    expect(p2).toMatchObject({ kind: 'problem', state: 'delivered' });
    expect(p2.problem_key).toBe(p1.problem_key);

    await post([{ labels: CPU, annotations: CPU_NOTES, endsAt: now() }]);
    rows = await waitStored(4);
    const r2 = await settled(rows[3]!.id);
    expect(r2.kind).toBe('resolved');
    expect(r2.state).not.toBe('suppressed');
    expect((await d.daemon.stores.alerts.get(p2.id))!.state).toBe('resolved');

    // Who was told: oncall@, twice of the problem and twice of its recovery, through the relay.
    await until('4 relayed mails', () => relayed('[FIRING:1] HighCPU').length === 2 && relayed('[RESOLVED] HighCPU').length === 2, 20_000);
    for (const m of [...relayed('[FIRING:1] HighCPU'), ...relayed('[RESOLVED] HighCPU')]) expect(m.to).toEqual(['oncall@alerts.test']);
  }, 90_000);

  it('a group of two resolving one by one: the partial resolution is news, the last recovery resolves the group', async () => {
    const before = (await d.daemon.stores.alerts.list(100)).length;
    const a = { alertname: 'NodeDown', instance: 'dbA:9100', job: 'node', severity: 'critical', team: 'db' };
    const b = { ...a, instance: 'dbB:9100' };
    await post([{ labels: a, annotations: { summary: 'Node dbA is down' }, startsAt: now() }, { labels: b, annotations: { summary: 'Node dbB is down' }, startsAt: now() }]);
    let rows = await waitStored(before + 1);
    const g2 = await settled(rows[before]!.id);
    expect(g2).toMatchObject({ kind: 'problem', state: 'delivered', subject: '[FIRING:2] NodeDown (node critical db)' });

    await post([{ labels: a, annotations: { summary: 'Node dbA is down' }, endsAt: now() }]);
    rows = await waitStored(before + 2);
    const g1 = await settled(rows[before + 1]!.id);
    expect(g1).toMatchObject({ kind: 'problem', state: 'delivered', subject: '[FIRING:1] NodeDown (node critical db)' }); // not suppressed
    expect(g1.problem_key).toBe(g2.problem_key);

    await post([{ labels: b, annotations: { summary: 'Node dbB is down' }, endsAt: now() }]);
    rows = await waitStored(before + 3);
    const g0 = rows[before + 2]!;
    expect(g0.kind).toBe('resolved');
    expect(g0.subject).toBe('[RESOLVED] NodeDown (dbB:9100 node critical db)'); // other labels than the problem's subject…
    expect((await d.daemon.stores.alerts.get(g2.id))!.state).toBe('resolved'); // …and still its recovery
    expect((await d.daemon.stores.alerts.get(g1.id))!.state).toBe('resolved');
  }, 90_000);
});
