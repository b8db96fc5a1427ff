/**
 * Prometheus Alertmanager 0.25 (Debian prometheus-alertmanager) as a foreground process with its
 * own config and storage in a temp dir, e-mailing a real SMTP sink on loopback (email_configs,
 * default template, send_resolved). Alerts go in through its API v2; what comes out is parsed
 * with parseAlertMail and checked: kind, host, level, firing count, sentence, and that the
 * identity holds from problem to recovery, across a re-occurrence, and while a group shrinks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertMail } from '../../src/receiver/parse-alert.js';
import type { ParsedAlert } from '../../src/core/model.js';
import { saveFixture, startSink, until } from './harness.js';
import { startAlertmanager, type Alertmanager, type PostedAlert } from './alertmanager-harness.js';

type Sink = Awaited<ReturnType<typeof startSink>>;

let sink: Sink;
let am: Alertmanager;

const post = (alerts: PostedAlert[]) => am.post(alerts);

/** Waits for the n-th mail (1-based) and parses it. */
async function mail(n: number, name: string): Promise<ParsedAlert> {
  const m = await until(`Alertmanager mail #${n} (${name})`, () => sink.messages[n - 1], 20_000, () => am.proc.output);
  saveFixture(name, m.raw);
  expect(m.to).toEqual(['oncall@alerts.test']);
  return parseAlertMail(m.raw);
}

const now = () => new Date().toISOString();
const HIGHCPU = { alertname: 'HighCPU', instance: 'web01:9100', job: 'node', severity: 'critical' };
const HIGHCPU_NOTES = { summary: 'CPU usage above 90% on web01', description: 'web01 CPU has been above 90% for 5 minutes.' };

beforeAll(async () => {
  sink = await startSink();
  am = await startAlertmanager(sink.port);
}, 30_000);

afterAll(async () => {
  await am?.stop();
  await sink?.close();
});

describe('Alertmanager 0.25 e-mail, live', () => {
  it('firing → resolved → firing again: one identity, kind follows, HTML-only body read', async () => {
    await post([{ labels: HIGHCPU, annotations: HIGHCPU_NOTES, startsAt: now() }]);
    const p1 = await mail(1, 'real-am025-firing.eml');
    expect(p1).toMatchObject({ kind: 'problem', monitor: 'alertmanager', host: 'web01:9100', severity: 'critical', level: 'critical', firing: 1 });
    expect(p1.subject).toBe('[FIRING:1] HighCPU web01:9100 (node critical)');
    expect(p1.sentence).toBe('CPU usage above 90% on web01');
    expect(p1.text).toContain('severity = critical');

    await post([{ labels: HIGHCPU, annotations: HIGHCPU_NOTES, endsAt: now() }]);
    const r1 = await mail(2, 'real-am025-resolved.eml');
    expect(r1).toMatchObject({ kind: 'resolved', host: 'web01:9100', level: 'critical', firing: 0 });
    expect(r1.problemKey).toBe(p1.problemKey);

    await post([{ labels: HIGHCPU, annotations: HIGHCPU_NOTES, startsAt: now() }]);
    const p2 = await mail(3, 'real-am025-refiring.eml');
    expect(p2).toMatchObject({ kind: 'problem', firing: 1, host: 'web01:9100' });
    expect(p2.problemKey).toBe(p1.problemKey);

    await post([{ labels: HIGHCPU, annotations: HIGHCPU_NOTES, endsAt: now() }]);
    const r2 = await mail(4, 'real-am025-reresolved.eml');
    expect(r2.kind).toBe('resolved');
    expect(r2.problemKey).toBe(p1.problemKey);
  }, 60_000);

  it('a group of two resolving one by one keeps its identity while the subject changes', async () => {
    const base = sink.messages.length;
    const a = { alertname: 'NodeDown', instance: 'dbA:9100', job: 'node', severity: 'critical', team: 'db' };
    const b = { ...a, instance: 'dbB:9100' };
    const notes = (h: string) => ({ summary: `Node ${h} is down`, description: `${h} has not answered scrapes for 1 minute.` });
    await post([{ labels: a, annotations: notes('dbA'), startsAt: now() }, { labels: b, annotations: notes('dbB'), startsAt: now() }]);
    const g2 = await mail(base + 1, 'real-am025-group-firing2.eml');
    expect(g2.subject).toBe('[FIRING:2] NodeDown (node critical db)');
    expect(g2).toMatchObject({ kind: 'problem', firing: 2, level: 'critical', host: 'dbA:9100, dbB:9100' });
    expect(g2.sentence).toBe('Node dbA is down (+1 more)');

    await post([{ labels: a, annotations: notes('dbA'), endsAt: now() }]);
    const g1 = await mail(base + 2, 'real-am025-group-firing1.eml');
    expect(g1).toMatchObject({ kind: 'problem', firing: 1, host: 'dbB:9100' });
    expect(g1.sentence).toBe('Node dbB is down');
    expect(g1.problemKey).toBe(g2.problemKey);

    await post([{ labels: b, annotations: notes('dbB'), endsAt: now() }]);
    const g0 = await mail(base + 3, 'real-am025-group-resolved.eml');
    expect(g0.subject).toBe('[RESOLVED] NodeDown (dbB:9100 node critical db)');
    expect(g0).toMatchObject({ kind: 'resolved', firing: 0 });
    expect(g0.problemKey).toBe(g2.problemKey);
    // …and it is not the HighCPU group's identity.
    expect(g0.problemKey).not.toBe((await parseAlertMail(sink.messages[0]!.raw)).problemKey);
  }, 60_000);
});
