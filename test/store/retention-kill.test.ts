/**
 * kill -9 of the daemon while retention is pruning (mail arriving meanwhile): the database is
 * intact, nothing accepted is lost, nothing open was pruned, and the next start finishes the job.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cli, freePort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { RawSmtp, dotStuff } from '../helpers/smtp-client.js';
import { seedHistory } from '../helpers/seed-history.js';

const DAY = 86_400_000;
const ANCIENT = 30_000;

function flood(port: number) {
  const accepted: string[] = [];
  const state = { stop: false };
  const done = Promise.all([0, 1, 2].map(async (k) => {
    let c: RawSmtp;
    try {
      c = await RawSmtp.connect(port);
      await c.read();
      await c.cmd('EHLO flood');
    } catch {
      return;
    }
    try {
      for (let i = 0; !state.stop; i++) {
        const subject = `Problem: new ${k}-${i}`;
        if ((await c.cmd('MAIL FROM:<zabbix@monitor.example>'))?.code !== 250) break;
        if ((await c.cmd('RCPT TO:<oncall@alerts.example>'))?.code !== 250) break;
        if ((await c.cmd('DATA'))?.code !== 354) break;
        c.write(Buffer.concat([dotStuff(Buffer.from(`From: zabbix@monitor.example\r\nSubject: ${subject}\r\n\r\nHost: db1\r\n`)), Buffer.from('.\r\n')]));
        if ((await c.read(10_000))?.code === 250) accepted.push(subject);
        else break;
      }
    } catch { /* daemon killed */ } finally {
      c.close();
    }
  }));
  return { accepted, stop: async () => { state.stop = true; await done; } };
}

describe('kill -9 during retention pruning', () => {
  it('the database stays intact, nothing accepted or open is lost, and the next start finishes pruning', async () => {
    const tmp = tempDir('alertline-retkill-');
    const port = await freePort();
    const conf = join(tmp.dir, 'c.yaml');
    const dbFile = join(tmp.dir, 'data', 'alertline.db');
    writeFileSync(conf, [
      `dataDir: ${join(tmp.dir, 'data')}`, `audioCacheDir: ${join(tmp.dir, 'audio')}`, 'logLevel: info', `smtp: { port: ${port} }`,
      'filter: { dedupeWindow: 0s, maxPending: 1000000 }',
      'retention: { history: 180d, raw: 30d, interval: 1s, batch: 200 }',
    ].join('\n'));
    expect(cli(['--config', conf, 'users', 'add', 'oncall@alerts.example']).code).toBe(0);
    const seed = new Database(dbFile);
    seedHistory(seed, { count: ANCIENT, receivedAt: Date.now() - 400 * DAY, spreadMs: 100 * DAY, subjectPrefix: 'Problem: ancient' });
    seedHistory(seed, { count: 4, receivedAt: Date.now() - 300 * DAY, state: 'notifying', subjectPrefix: 'Problem: old but open' });
    seedHistory(seed, { count: 1000, receivedAt: Date.now() - 40 * DAY, rawBytes: 4000, subjectPrefix: 'Problem: last month' });
    seed.close();

    const reader = new Database(dbFile, { readonly: true });
    const n = (sql: string) => (reader.prepare(sql).get() as { n: number }).n;
    let daemon = spawnDaemon(conf);
    let f = { accepted: [] as string[], stop: async () => {} };
    try {
      await waitForPort(port);
      f = flood(port);
      // Kill it while the ancient history is half gone.
      await waitFor(() => {
        const left = n(`SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: ancient%'`);
        return left < ANCIENT - 1000 && left > 2000;
      }, 60_000, 2);
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon.once('exit', r));
      await f.stop();
      expect(f.accepted.length).toBeGreaterThan(0);

      expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(reader.pragma('foreign_key_check')).toEqual([]);
      const left = n(`SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: ancient%'`);
      expect(left).toBeGreaterThan(0); // it really was mid-way
      expect(left).toBeLessThan(ANCIENT);
      // Every ancient alert is either whole (with its delivery, attempt and two events) or gone.
      expect(n(`SELECT count(*) n FROM deliveries WHERE alert_id NOT IN (SELECT id FROM alerts)`)).toBe(0);
      expect(n(`SELECT count(*) n FROM attempts WHERE alert_id NOT IN (SELECT id FROM alerts)`)).toBe(0);
      expect(n(`SELECT count(*) n FROM alert_events WHERE alert_id NOT IN (SELECT id FROM alerts)`)).toBe(0);
      expect(n(`SELECT count(*) n FROM alerts a WHERE subject LIKE 'Problem: ancient%' AND (SELECT count(*) FROM alert_events e WHERE e.alert_id = a.id) <> 2`)).toBe(0);
      const stored = new Set((reader.prepare('SELECT subject FROM alerts').all() as { subject: string }[]).map((r) => r.subject));
      expect(f.accepted.filter((s) => !stored.has(s))).toEqual([]);
      expect(n(`SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: old but open%'`)).toBe(4);

      // Restart: pruning picks up where it stopped.
      daemon = spawnDaemon(conf);
      await waitForPort(port);
      await waitFor(() => n(`SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: ancient%'`) === 0
        && n(`SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: last month%' AND length(raw) > 0`) === 0, 60_000, 50);
      expect(n(`SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: last month%'`)).toBe(1000);
      expect(n(`SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: old but open%'`)).toBe(4);
      const after = new Set((reader.prepare('SELECT subject FROM alerts').all() as { subject: string }[]).map((r) => r.subject));
      expect(f.accepted.filter((s) => !after.has(s))).toEqual([]);
      // status shows the figures.
      const st = await waitFor(() => {
        const r = cli(['--config', conf, 'status', '--json']);
        const j = JSON.parse(r.stdout);
        return j.live?.storage?.lastPrune ? j : null;
      }, 30_000, 500);
      expect(st.storage).toMatchObject({ autoVacuum: 'incremental' });
      expect(st.storage.dbBytes).toBeGreaterThan(0);
      expect(st.live.storage.lastPrune).toMatchObject({ interrupted: false });
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await f.stop();
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
      reader.close();
      tmp.cleanup();
    }
  }, 180_000);
});
