/**
 * kill -9 of a daemon subprocess during a flood of Alertmanager webhooks: every alert whose
 * request got a 2xx is in the database afterwards (read by another process, before any restart).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import Database from 'better-sqlite3';
import { cli, freePort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/env.js';

function post(port: number, path: string, token: string, body: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function payload(tag: string, i: number): string {
  return JSON.stringify({
    version: '4', status: 'firing', receiver: 'alertline', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am',
    alerts: [0, 1].map((k) => ({
      status: 'firing', labels: { alertname: 'Flood', instance: `h${tag}`, n: `${i}-${k}` }, annotations: { summary: `flood ${tag}-${i}-${k}` },
      startsAt: '2026-12-01T00:00:00Z', fingerprint: `f${tag}x${i}x${k}`,
    })),
  });
}

async function flooder(port: number, token: string, tag: string, accepted: Set<string>, stop: { now: boolean }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; !stop.now; i++) {
    try {
      const code = await post(port, '/api/v1/alerts/alertmanager', token, payload(tag, i), agent);
      if (code !== 200) break;
      accepted.add(`alertmanager:f${tag}x${i}x0`);
      accepted.add(`alertmanager:f${tag}x${i}x1`);
    } catch {
      break;
    }
  }
  agent.destroy();
}

describe('webhook durability', () => {
  it('kill -9 mid-flood: every alert that got 2xx is stored', async () => {
    const tmp = tempDir();
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const conf = join(tmp.dir, 'c.yaml');
    writeFileSync(conf, [
      `dataDir: ${join(tmp.dir, 'data')}`, `audioCacheDir: ${join(tmp.dir, 'audio')}`, `smtp: { port: ${smtpPort} }`,
      `http: { port: ${httpPort}, defaultTo: [oncall@alerts.example] }`, `filter: { dedupeWindow: 0s, maxPending: 1000000 }`,
    ].join('\n'));
    expect(cli(['--config', conf, 'users', 'add', 'oncall@alerts.example']).code).toBe(0);
    const tok = cli(['--config', conf, 'tokens', 'create', 'flood', '--scope', 'ingest']);
    expect(tok.code).toBe(0);
    const token = tok.stdout.trim();
    const accepted = new Set<string>();
    const daemon = spawnDaemon(conf);
    try {
      await waitForPort(httpPort);
      const stop = { now: false };
      const flood = Promise.all(Array.from({ length: 8 }, (_, i) => flooder(httpPort, token, String(i), accepted, stop)));
      await waitFor(() => accepted.size >= 300, 30_000, 5);
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon.once('exit', r));
      stop.now = true;
      await flood;
      expect(accepted.size).toBeGreaterThanOrEqual(300);
      const db = new Database(join(tmp.dir, 'data', 'alertline.db'), { readonly: true });
      const stored = new Set((db.prepare(`SELECT problem_key FROM alerts WHERE monitor = 'alertmanager'`).all() as { problem_key: string }[]).map((r) => r.problem_key));
      db.close();
      expect([...accepted].filter((k) => !stored.has(k))).toEqual([]);
    } finally {
      daemon.kill('SIGKILL');
      tmp.cleanup();
    }
  }, 120_000);
});
