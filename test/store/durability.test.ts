/**
 * Durability: kill -9 the daemon process during a flood of alert mail, restart it, and every
 * message that got "250" is in the database and gets dispatched.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { startSink, tempDir, waitFor } from '../helpers/env.js';
import { cli } from '../helpers/cli.js';
import { floodClient } from '../helpers/smtp-client.js';

describe('durability', () => {
  it('kill -9 mid-flood: every message that got 250 is stored and dispatched after restart', async () => {
    const tmp = tempDir();
    const sink = await startSink({ delayMs: 30 });
    const port = await freePort();
    const conf = join(tmp.dir, 'c.yaml');
    writeFileSync(conf, [
      `dataDir: ${join(tmp.dir, 'data')}`, `audioCacheDir: ${join(tmp.dir, 'audio')}`, `smtp: { port: ${port} }`,
      `filter: { dedupeWindow: 0s, maxPending: 100000 }`,
      `channels: { order: [mail], mail: { enabled: true, host: 127.0.0.1, port: ${sink.port}, requireTLS: false, retries: 5, retryBackoff: 200ms } }`,
    ].join('\n'));
    expect(cli(['--config', conf, 'users', 'add', 'oncall@alerts.example']).code).toBe(0);
    const accepted = new Set<string>();
    let daemon = spawnDaemon(conf);
    try {
      await waitForPort(port);
      const stop = { now: false };
      const flood = Promise.all(Array.from({ length: 8 }, (_, i) => floodClient(port, String(i), accepted, stop, 'flood')));
      await waitFor(() => accepted.size >= 150, 30_000, 5);
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon.once('exit', r));
      stop.now = true;
      await flood;
      expect(accepted.size).toBeGreaterThanOrEqual(150);

      // Every 250'd message is in the database, before any restart.
      const db = new Database(join(tmp.dir, 'data', 'alertline.db'), { readonly: true });
      const stored = new Set((db.prepare('SELECT subject FROM alerts').all() as { subject: string }[]).map((r) => r.subject));
      db.close();
      const missing = [...accepted].filter((s) => !stored.has(s));
      expect(missing).toEqual([]);

      // Restart: interrupted attempts are found and everything accepted gets relayed.
      daemon = spawnDaemon(conf);
      await waitForPort(port);
      await waitFor(() => {
        const relayed = new Set(sink.messages.map((m) => /Subject: (.*)\r\n/.exec(m.raw.toString())?.[1]));
        return [...accepted].every((s) => relayed.has(s));
      }, 60_000, 100);
      const db2 = new Database(join(tmp.dir, 'data', 'alertline.db'), { readonly: true });
      const lost = (db2.prepare(`SELECT count(*) n FROM attempts WHERE ended_at IS NULL`).get() as { n: number }).n;
      db2.close();
      expect(lost).toBeLessThanOrEqual(8); // only attempts running right now may be open
    } finally {
      daemon.kill('SIGKILL');
      await sink.close();
      tmp.cleanup();
    }
  }, 120_000);
});
