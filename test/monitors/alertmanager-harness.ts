/**
 * Prometheus Alertmanager 0.25 (Debian prometheus-alertmanager) in the foreground with its own
 * config and storage in a temp dir, e-mailing 127.0.0.1:smtpPort (a sink, or a real Alertline
 * daemon): email_configs with the default template and send_resolved, short group intervals, a
 * NodeDown route grouped by alertname. Alerts go in through its API v2.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Proc, freePort } from './harness.js';

const BIN = '/usr/bin/prometheus-alertmanager';

export interface PostedAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
}

export interface Alertmanager {
  api: string;
  proc: Proc;
  /** POST /api/v2/alerts; throws with Alertmanager's answer unless 200. */
  post(alerts: PostedAlert[]): Promise<void>;
  stop(): Promise<void>;
}

function config(smtpPort: number, to: string): string {
  return `global:
  smtp_smarthost: 127.0.0.1:${smtpPort}
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
      - to: ${to}
        send_resolved: true
`;
}

export async function startAlertmanager(smtpPort: number, to = 'oncall@alerts.test'): Promise<Alertmanager> {
  if (!existsSync(BIN)) throw new Error(`${BIN} missing: apt-get install prometheus-alertmanager`);
  const dir = mkdtempSync(join(tmpdir(), 'alertline-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), config(smtpPort, to));
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const proc = Proc.start('alertmanager', BIN, [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${api}`, '--cluster.listen-address=', '--log.level=debug',
  ]);
  const end = Date.now() + 15_000;
  for (;;) {
    try { if ((await fetch(`${api}/-/ready`)).ok) break; } catch { /* not listening yet */ }
    if (Date.now() > end || !proc.running) throw new Error(`Alertmanager did not start\n${proc.output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    api, proc,
    async post(alerts) {
      const r = await fetch(`${api}/api/v2/alerts`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts.map((a) => ({ generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up', ...a }))),
      });
      if (r.status !== 200) throw new Error(`Alertmanager answered ${r.status}: ${await r.text()}`);
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
