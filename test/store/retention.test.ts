/**
 * Retention against a real SQLite file: what goes (ended history older than retention.history,
 * raw messages older than retention.raw), what stays (open alerts, recent ones, rows of raw-pruned
 * alerts), the file shrinking (incremental vacuum), and old databases converted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStores, type Stores } from '../../src/store/index.js';
import { databasePath } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { RetentionLoop } from '../../src/store/retention.js';
import { ManualClock } from '../../src/util/clock.js';
import { memoryLogger } from '../../src/util/log.js';
import { admitMail } from '../helpers/admit.js';
import { seedHistory } from '../helpers/seed-history.js';
import { tempDir } from '../helpers/env.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const mail = (subject: string) => `From: zabbix@monitor.example\r\nSubject: ${subject}\r\n\r\nHost: db1\r\nSeverity: High\r\n`;

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

function open(): { s: Stores; dir: string } {
  const tmp = tempDir();
  const s = openStores(join(tmp.dir, 'data'), () => NOW);
  cleanup.push(() => { try { s.db.close(); } catch { /* closed */ } tmp.cleanup(); });
  return { s, dir: join(tmp.dir, 'data') };
}

const count = (s: Stores, sql: string, ...args: unknown[]) => (s.db.prepare(sql).get(...args) as { n: number }).n;

describe('retention', () => {
  it('a new database gives freed pages back (auto_vacuum = incremental)', async () => {
    const { s } = open();
    expect((await s.stats()).autoVacuum).toBe('incremental');
  });

  it('deletes ended history older than retention.history with its deliveries, attempts and events; keeps open and recent alerts', async () => {
    const { s } = open();
    await s.users.add('oncall@alerts.example', {});
    seedHistory(s.db, { count: 1200, receivedAt: NOW - 200 * DAY, subjectPrefix: 'Problem: ancient' });
    // Old but still open: a pending alert and a delivered one with a delivery still queued.
    seedHistory(s.db, { count: 3, receivedAt: NOW - 300 * DAY, state: 'pending', subjectPrefix: 'Problem: old open' });
    seedHistory(s.db, { count: 2, receivedAt: NOW - 300 * DAY, state: 'notifying', subjectPrefix: 'Problem: old notifying' });
    seedHistory(s.db, { count: 1, receivedAt: NOW - 250 * DAY, subjectPrefix: 'Problem: ended but queued' });
    s.db.prepare(`UPDATE deliveries SET state = 'queued' WHERE alert_id = (SELECT id FROM alerts WHERE subject = 'Problem: ended but queued 0')`).run();
    // Received long ago but changed recently (acknowledged last week): its last change counts.
    seedHistory(s.db, { count: 1, receivedAt: NOW - 400 * DAY, subjectPrefix: 'Problem: acked lately' });
    s.db.prepare(`UPDATE alerts SET state = 'acknowledged', updated_at = ? WHERE subject = 'Problem: acked lately 0'`).run(NOW - 7 * DAY);
    // Recent, real admission path.
    const recent = await admitMail(s, mail('Problem: recent'), ['oncall@alerts.example'], NOW - 10 * DAY);

    const before = await s.stats();
    const r = await s.retention.prune({ now: NOW, historyMs: 180 * DAY, rawMs: 0, batch: 500 });
    expect(r).toMatchObject({ alerts: 1200, related: 1200 * 4, interrupted: false });
    expect(r.batches).toBeGreaterThanOrEqual(3); // small transactions, not one big one
    const subjects = (s.db.prepare('SELECT subject FROM alerts ORDER BY id').all() as { subject: string }[]).map((x) => x.subject);
    expect(subjects).toEqual([
      'Problem: old open 0', 'Problem: old open 1', 'Problem: old open 2', 'Problem: old notifying 0', 'Problem: old notifying 1',
      'Problem: ended but queued 0', 'Problem: acked lately 0', 'Problem: recent',
    ]);
    expect(await s.alerts.get(recent.id)).toMatchObject({ subject: 'Problem: recent' });
    // Nothing orphaned, the file is sound.
    expect(s.db.pragma('foreign_key_check')).toEqual([]);
    expect(count(s, 'SELECT count(*) n FROM deliveries WHERE alert_id NOT IN (SELECT id FROM alerts)')).toBe(0);
    expect(count(s, 'SELECT count(*) n FROM attempts WHERE alert_id NOT IN (SELECT id FROM alerts)')).toBe(0);
    expect(count(s, 'SELECT count(*) n FROM alert_events WHERE alert_id NOT IN (SELECT id FROM alerts)')).toBe(0);
    expect(s.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // The space went back to the file system.
    expect(r.pagesFreed).toBeGreaterThan(100);
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const after = await s.stats();
    expect(after.fileBytes).toBeLessThan(before.fileBytes / 2);
    expect(after.oldestAlertAt).toBe(NOW - 400 * DAY);
  });

  it('empties raw messages of ended alerts older than retention.raw, keeping the row, its text and history', async () => {
    const { s } = open();
    seedHistory(s.db, { count: 700, receivedAt: NOW - 40 * DAY, rawBytes: 5000, subjectPrefix: 'Problem: month old' });
    seedHistory(s.db, { count: 2, receivedAt: NOW - 40 * DAY, rawBytes: 5000, state: 'notifying', subjectPrefix: 'Problem: still calling' });
    seedHistory(s.db, { count: 5, receivedAt: NOW - 5 * DAY, rawBytes: 5000, subjectPrefix: 'Problem: this week' });
    const r = await s.retention.prune({ now: NOW, historyMs: 180 * DAY, rawMs: 30 * DAY, batch: 200 });
    expect(r).toMatchObject({ alerts: 0, raw: 700 });
    expect(count(s, `SELECT count(*) n FROM alerts`)).toBe(707);
    expect(count(s, `SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: month old%' AND length(raw) = 0 AND text = 'text'`)).toBe(700);
    expect(count(s, `SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: still calling%' AND length(raw) = 5000`)).toBe(2);
    expect(count(s, `SELECT count(*) n FROM alerts WHERE subject LIKE 'Problem: this week%' AND length(raw) = 5000`)).toBe(5);
    expect(count(s, `SELECT count(*) n FROM alert_events`)).toBe(707 * 2);
    expect(r.pagesFreed).toBeGreaterThan(500);
    // A second run finds nothing more to do.
    expect(await s.retention.prune({ now: NOW, historyMs: 180 * DAY, rawMs: 30 * DAY })).toMatchObject({ alerts: 0, raw: 0 });
  });

  it('mail admitted between two batches is committed there, not after the whole run', async () => {
    const { s } = open();
    await s.users.add('oncall@alerts.example', {});
    seedHistory(s.db, { count: 2000, receivedAt: NOW - 200 * DAY });
    const admittedDuring: number[] = [];
    let batches = 0;
    const r = await s.retention.prune({
      now: NOW, historyMs: 180 * DAY, rawMs: 0, batch: 250,
      pause: async () => {
        batches++;
        if (batches === 2) admittedDuring.push((await admitMail(s, mail('Problem: during pruning'), ['oncall@alerts.example'], NOW)).id);
      },
    });
    expect(r.alerts).toBe(2000);
    expect(admittedDuring).toHaveLength(1);
    expect(count(s, 'SELECT count(*) n FROM alerts')).toBe(1);
    expect(await s.alerts.deliveries(admittedDuring[0]!)).toEqual([expect.objectContaining({ state: 'queued' })]);
  });

  it('stops between batches when asked (daemon stopping), keeping what was done', async () => {
    const { s } = open();
    seedHistory(s.db, { count: 1000, receivedAt: NOW - 200 * DAY });
    let n = 0;
    const r = await s.retention.prune({ now: NOW, historyMs: 180 * DAY, rawMs: 30 * DAY, batch: 100, stop: () => ++n > 3 });
    expect(r.interrupted).toBe(true);
    expect(r.alerts).toBe(300);
    expect(count(s, 'SELECT count(*) n FROM alerts')).toBe(700);
  });

  it('the loop runs on its clock, logs what it pruned and keeps the figures for status', async () => {
    const { s } = open();
    seedHistory(s.db, { count: 10, receivedAt: NOW - 200 * DAY });
    const clock = new ManualClock(NOW);
    const logger = memoryLogger();
    const loop = new RetentionLoop({ store: s.retention, clock, logger, settings: () => ({ history: 180 * DAY, raw: 30 * DAY, interval: 3_600_000, batch: 500 }) });
    loop.start();
    expect(loop.last).toBeNull();
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(loop.last).toMatchObject({ alerts: 10 });
    expect(logger.lines.join('\n')).toMatch(/retention\.pruned.*alerts.*10/);
    // Next run an hour later: more history has aged meanwhile.
    seedHistory(s.db, { count: 4, receivedAt: NOW - 181 * DAY });
    clock.advance(3_600_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(loop.last).toMatchObject({ alerts: 4 });
    await loop.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an existing database without auto_vacuum is converted at start when small, left alone when large', async () => {
    const tmp = tempDir();
    cleanup.push(tmp.cleanup);
    const dir = join(tmp.dir, 'data');
    // A database as an older Alertline made it: no auto_vacuum.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const old = new Database(databasePath(dir));
    old.pragma('journal_mode = WAL');
    for (let v = 0; v < 4; v++) old.exec(MIGRATIONS[v]!);
    old.pragma('user_version = 4');
    seedHistory(old, { count: 300, receivedAt: NOW - 200 * DAY });
    old.close();

    const s = openStores(dir, () => NOW);
    try {
      expect((await s.stats()).autoVacuum).toBe('none');
      expect(s.retention.convertToIncremental(1024)).toBe('too-large');
      expect((await s.stats()).autoVacuum).toBe('none');
      expect(s.retention.convertToIncremental(64 * 1024 * 1024)).toBe('converted');
      expect((await s.stats()).autoVacuum).toBe('incremental');
      expect(count(s, 'SELECT count(*) n FROM alerts')).toBe(300);
      const r = await s.retention.prune({ now: NOW, historyMs: 180 * DAY, rawMs: 0 });
      expect(r.alerts).toBe(300);
      expect(r.pagesFreed).toBeGreaterThan(50);
      expect(s.retention.convertToIncremental(64 * 1024 * 1024)).toBe('already');
      expect(statSync(databasePath(dir)).size).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });
});
