/**
 * Never silent about its own database: the SQLite file and its write-ahead log made immutable
 * under the running daemon (chattr +i on ext4: every write then fails with SQLITE_IOERR_WRITE,
 * as from a failing card, while reads still work). The alarm cannot be stored in the database
 * that fails, so it goes straight through the mail channel to a real SMTP sink; new mail gets a
 * temporary failure (nothing accepted is lost); once writes work again the alarm is written to
 * history and resolves itself through the normal path. Where the temp directory's file system has
 * no immutable flag (tmpfs), a loop-mounted ext4 image holds the data directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { fixture, startSink, tempDir, testConfig, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { openStores } from '../../src/store/index.js';
import { memoryLogger } from '../../src/util/log.js';

const tmp = tempDir('alertline-dbfault-');
let base = tmp.dir;
let mounted = false;

function chattrWorks(dir: string): boolean {
  const f = join(dir, 'probe');
  writeFileSync(f, 'x');
  try {
    execFileSync('chattr', ['+i', f], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', f], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(f, { force: true });
  }
}

beforeAll(() => {
  if (chattrWorks(tmp.dir)) return;
  const image = join(tmp.dir, 'fs.img');
  base = join(tmp.dir, 'mnt');
  mkdirSync(base);
  execFileSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=1M', 'count=32'], { stdio: 'ignore' });
  execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'ignore' });
  execFileSync('mount', ['-o', 'loop', image, base], { stdio: 'ignore' });
  mounted = true;
});

const files = () => [join(base, 'data', 'alertline.db'), join(base, 'data', 'alertline.db-wal')];
/** Writes refused (the -shm index is mmapped: it stays, as a failing disk would leave it). */
const breakWrites = () => execFileSync('chattr', ['+i', ...files()]);
const mendWrites = () => execFileSync('chattr', ['-i', ...files()]);

afterAll(() => {
  try { execFileSync('chattr', ['-i', ...files()], { stdio: 'ignore' }); } catch { /* not set */ }
  if (mounted) try { execFileSync('umount', [base], { stdio: 'ignore' }); } catch { /* not mounted */ }
  tmp.cleanup();
});

function subjectOf(raw: Buffer): string {
  return /^Subject: (.*)$/m.exec(raw.toString('utf8'))?.[1] ?? '';
}

describe('never silent: database errors', () => {
  it('writes refused under the daemon: new mail gets 451, the admin gets "database errors" by mail without the database; writes back: history has it and it resolves', async () => {
    const sink = await startSink();
    const config = testConfig(base, {
      filter: { dedupeWindow: '0s' },
      channels: { order: ['mail'], mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, retries: 0, timeout: '5s' } },
      admins: { group: 'admins', databaseErrorsAfter: '1s' },
    });
    const s = openStores(config.dataDir);
    await s.users.add('admin@alerts.example', { group: 'admins' });
    await s.users.add('ops@alerts.example', {});
    await s.close();
    const logger = memoryLogger();
    const d = await Daemon.start({ config, logger, pollIntervalMs: 100, statusIntervalMs: 200, selfAlarms: { clockSynced: async () => null, repageMs: 0 } });
    let broken = false;
    try {
      await d.channelsReady;
      // The admins are known from an evaluation while the database worked.
      await waitFor(() => d.selfAlarms.status().admins === 1, 10_000);
      const before = await sendRaw(d.smtpPort(), { to: ['ops@alerts.example'], data: fixture('zabbix-problem.eml') });
      expect(before.final!.code).toBe(250);
      const beforeId = Number(/alert (\d+)/.exec(before.final!.text)![1]);
      await waitFor(async () => (await d.stores.alerts.attempts(beforeId)).some((a) => a.outcome === 'delivered'), 10_000);

      breakWrites();
      broken = true;
      // A mail arriving now is refused for a retry, not accepted and lost.
      const during = await sendRaw(d.smtpPort(), { to: ['ops@alerts.example'], data: fixture('zabbix-problem.eml').toString('latin1').replace(/^Subject: .*$/m, 'Subject: Problem: while the disk refused writes') });
      expect(during.final!.code).toBe(451);

      const toAdmin = () => sink.messages.filter((m) => m.to.includes('admin@alerts.example')).map((m) => subjectOf(m.raw));
      await waitFor(() => toAdmin().some((x) => /^Alertline: database errors: SQLITE_IOERR_WRITE/.test(x)), 20_000);
      // Status and metrics say so while it lasts; the alarm is not in history yet (it cannot be).
      const snap = await d.snapshot();
      expect(snap.database).toMatchObject({ ok: false });
      expect(snap.database!.error).toMatch(/SQLITE_IOERR_WRITE/);
      expect(snap.database!.errors.SQLITE_IOERR_WRITE).toBeGreaterThan(0);
      expect(snap.selfAlarms!.open.map((o) => o.key)).toContain('self:database');
      expect(snap.selfAlarms!.unstored).toEqual(['self:database']);
      const metrics = await d.metrics.render();
      expect(metrics).toMatch(/^alertline_database_healthy 0$/m);
      expect(metrics).toMatch(/^alertline_database_errors_total\{code="SQLITE_IOERR_WRITE"\} [1-9]/m);
      expect((await d.stores.alerts.list(50)).some((a) => a.problem_key === 'self:database')).toBe(false);
      // Paged once, not at every evaluation.
      await new Promise((r) => setTimeout(r, 1000));
      expect(toAdmin().filter((x) => x.startsWith('Alertline: database errors')).length).toBe(1);

      mendWrites();
      broken = false;
      await waitFor(() => toAdmin().some((x) => /^Resolved: Alertline: database errors/.test(x)), 20_000);
      const alarm = (await d.stores.alerts.list(50)).find((a) => a.problem_key === 'self:database' && a.kind === 'problem')!;
      expect(alarm.state).toBe('resolved');
      expect((await d.stores.alerts.attempts(alarm.id)).map((a) => `${a.channel}:${a.target}:${a.outcome}`)).toEqual(['mail:admin@alerts.example:delivered']);
      expect((await d.stores.alerts.events(alarm.id)).map((e) => e.kind)).toEqual(expect.arrayContaining(['received', 'sent-unstored', 'resolved']));
      expect((await d.snapshot()).database).toMatchObject({ ok: true, error: null });
      expect(await d.metrics.render()).toMatch(/^alertline_database_healthy 1$/m);

      // The sender's retry now goes through; what was accepted before is all there.
      const retry = await sendRaw(d.smtpPort(), { to: ['ops@alerts.example'], data: fixture('zabbix-problem.eml').toString('latin1').replace(/^Subject: .*$/m, 'Subject: Problem: while the disk refused writes') });
      expect(retry.final!.code).toBe(250);
      expect((await d.stores.alerts.get(beforeId))!.subject).toBeTruthy();
      expect(d.stores.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      if (broken) mendWrites();
      await d.stop(0);
      await sink.close();
    }
  }, 90_000);
});
