/** /metrics: Prometheus text format that `promtool check metrics` (Debian prometheus) accepts, with the figures the issue lists. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { startHttpDaemon } from './helpers.js';
import { RawSmtp, dotStuff } from '../helpers/smtp-client.js';
import { FakeChannel } from '../helpers/fake-channel.js';

let d: Awaited<ReturnType<typeof startHttpDaemon>>;
beforeAll(async () => {
  // A channel that reports a modem-like status of its own (what gsm and voip channels do).
  const ch = Object.assign(new FakeChannel('sms', () => ({ kind: 'delivered', reason: 'ok', retryable: false })), {
    status: () => ({ state: 'ready', registered: true, signal: { rssi: 20, dbm: -73, ber: 0 }, registration: { state: 'registered', failures: 0 }, lastErrorAt: 5, operator: 'Movistar' }),
  });
  d = await startHttpDaemon({ channels: { order: ['sms'], sms: { enabled: true } } }, { factories: { sms: async () => ch } });
});
afterAll(async () => {
  await d?.stop();
});

async function sendMail(port: number): Promise<void> {
  const c = await RawSmtp.connect(port);
  await c.read();
  await c.cmd('EHLO metrics');
  await c.cmd('MAIL FROM:<zabbix@monitor.example>');
  await c.cmd('RCPT TO:<oncall@alerts.example>');
  await c.cmd('DATA');
  c.write(Buffer.concat([dotStuff(Buffer.from('From: zabbix@monitor.example\r\nSubject: Problem: metrics mail\r\n\r\nHost: m1\r\n')), Buffer.from('.\r\n')]));
  expect((await c.read(5000))?.code).toBe(250);
  c.close();
}

describe('/metrics', () => {
  it('passes promtool check metrics and carries alerts, latency, queue, channels, heartbeats and event-loop lag', async () => {
    await d.daemon.stores.heartbeats.add('zabbix', { everyMs: 300_000, graceMs: 60_000, group: 'noc' });
    await d.req('POST', '/api/v1/heartbeats/zabbix', { token: 'ingest' });
    expect((await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'm', action: 'trigger', to: ['noc'] } })).status).toBe(200);
    await sendMail(d.port);
    const r = await d.req('GET', '/metrics', { token: 'read' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
    const text = r.text;
    expect(text).toMatch(/^alertline_alerts\{state="[a-z]+",kind="problem"\} [1-9]/m);
    expect(text).toMatch(/^alertline_accept_duration_seconds_count\{receiver="http"\} [1-9]/m);
    expect(text).toMatch(/^alertline_accept_duration_seconds_count\{receiver="smtp"\} 1$/m);
    expect(text).toMatch(/^alertline_queue_open_deliveries \d+$/m);
    expect(text).toMatch(/^alertline_queue_oldest_due_age_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^alertline_channel_enabled\{channel="voip"\} 0$/m);
    expect(text).toMatch(/^alertline_heartbeat_last_seen_timestamp_seconds\{name="zabbix"\} [1-9]/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^alertline_channel_status_value\{channel="sms",field="signal\.dbm"\} -73$/m);
    expect(text).toMatch(/^alertline_channel_status_value\{channel="sms",field="registered"\} 1$/m);
    expect(text).toMatch(/^alertline_channel_status_state\{channel="sms",field="registration\.state",state="registered"\} 1$/m);
    expect(text).not.toMatch(/lastErrorAt|Movistar/);
    expect(text).toMatch(/^alertline_channel_healthy\{channel="sms"\} 1$/m);
  });

  it('with http.metricsPublic no token is needed', async () => {
    const pub = await startHttpDaemon({ http: { metricsPublic: true } });
    try {
      expect((await pub.req('GET', '/metrics', { token: null })).status).toBe(200);
      expect((await pub.req('GET', '/api/v1/alerts', { token: null })).status).toBe(401);
    } finally {
      await pub.stop();
    }
  });
});
