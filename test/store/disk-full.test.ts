/**
 * Disk full, on a real tiny file system (a loop-mounted ext4 image; a size-limited tmpfs where loop
 * devices are unavailable) as dataDir:
 *  - below store.minFreeSpace the next mail gets 452 at MAIL FROM (the sender keeps it and retries);
 *  - with the check off and the disk truly full, a commit that fails with SQLITE_FULL gets 451 and
 *    leaves nothing half-stored;
 *  - nothing that got 250 before is lost (integrity_check ok, every alert present), and mail is
 *    accepted again once space returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startDaemon, tempDir } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { diskFree } from '../../src/util/disk.js';
import { memoryLogger } from '../../src/util/log.js';

const MB = 1024 * 1024;
const tmp = tempDir('alertline-diskfull-');
const mnt = join(tmp.dir, 'mnt');
const image = join(tmp.dir, 'fs.img');

function mountTiny(): string {
  mkdirSync(mnt, { recursive: true });
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=1M', 'count=24'], { stdio: 'ignore' });
    execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image], { stdio: 'ignore' });
    execFileSync('mount', ['-o', 'loop', image, mnt], { stdio: 'ignore' });
    return 'ext4 on a loop device';
  } catch {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt], { stdio: 'ignore' });
    return 'tmpfs';
  }
}

beforeAll(() => {
  mountTiny();
});

afterAll(() => {
  try { execFileSync('umount', [mnt], { stdio: 'ignore' }); } catch { /* not mounted */ }
  rmSync(image, { force: true });
  tmp.cleanup();
});

const dataDir = () => join(mnt, 'data');
const mail = (subject: string, body = 'Host: db1\r\nSeverity: High\r\n') => `From: zabbix@monitor.example\r\nSubject: ${subject}\r\n\r\n${body}`;

/** Writes a filler file until the file system has about `leave` bytes free (0: until ENOSPC). */
function fill(file: string, leave: number): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 0x55);
  try {
    for (;;) {
      const st = statfsSync(mnt);
      const free = st.bavail * st.bsize;
      if (leave > 0 && free - chunk.length < leave) break;
      try {
        writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
          // Top off the last few blocks byte-chunk by byte-chunk.
          for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
            try { for (;;) writeSync(fd, chunk.subarray(0, size)); } catch { /* next smaller */ }
          }
          break;
        }
        throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function storedSubjects(): Set<string> {
  const db = new Database(join(dataDir(), 'alertline.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return new Set((db.prepare('SELECT subject FROM alerts').all() as { subject: string }[]).map((r) => r.subject));
  } finally {
    db.close();
  }
}

describe('disk full', () => {
  it('below store.minFreeSpace new mail gets 452 at MAIL FROM; nothing accepted is lost; accepted again once space returns', async () => {
    const d = await startDaemon({ dataDir: dataDir(), store: { minFreeSpace: '4MB' } });
    const filler = join(mnt, 'filler');
    const accepted: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: mail(`Problem: before ${i}`) });
        expect(r.final?.code).toBe(250);
        accepted.push(`Problem: before ${i}`);
      }
      fill(filler, 2 * MB);
      expect(await diskFree(mnt)).toBeLessThan(4 * MB);
      d.daemon.disk.invalidate();

      const refused = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: mail('Problem: while full') });
      expect(refused.rcpt).toEqual([]); // refused at MAIL FROM, before any recipient or data
      expect(refused.final?.code).toBe(452);
      expect(refused.final?.text).toMatch(/4\.3\.1 Insufficient storage/);
      expect(await d.daemon.spaceForAlerts()).toMatchObject({ ok: false, min: 4 * MB });
      expect((await d.daemon.snapshot()).storage).toMatchObject({ diskLow: true, minFreeSpace: 4 * MB });

      unlinkSync(filler);
      d.daemon.disk.invalidate();
      const again = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: mail('Problem: after space returned') });
      expect(again.final?.code).toBe(250);
      accepted.push('Problem: after space returned');
    } finally {
      await d.stop();
      rmSync(filler, { force: true });
    }
    const stored = storedSubjects();
    expect(accepted.filter((s) => !stored.has(s))).toEqual([]);
    expect(stored.has('Problem: while full')).toBe(false);
  }, 60_000);

  it('with the disk truly full, a commit failing with SQLITE_FULL answers 451 and stores nothing half-way', async () => {
    // The check is off here so the mail reaches the commit on a disk with no room at all.
    const logger = memoryLogger();
    const d = await startDaemon({ dataDir: dataDir(), store: { minFreeSpace: 0 }, smtp: { maxMessageSize: '1MB' } }, { users: [], logger });
    const filler = join(mnt, 'filler');
    const accepted: string[] = [];
    let refusal: { code: number; text: string } | null = null;
    try {
      fill(filler, 0);
      expect(await diskFree(mnt)).toBeLessThan(64 * 1024);
      // Big bodies: the write-ahead log must grow past what it already holds.
      const body = `Host: db1\r\nSeverity: High\r\n${'x'.repeat(76)}\r\n`.repeat(5000);
      for (let i = 0; i < 40 && !refusal; i++) {
        const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: mail(`Problem: big ${i}`, body) });
        if (r.final?.code === 250) accepted.push(`Problem: big ${i}`);
        else refusal = { code: r.final?.code ?? 0, text: r.final?.text ?? '' };
      }
      expect(refusal).toMatchObject({ code: 451 });
      expect(refusal!.text).toMatch(/4\.3\.0/);
      // It was the commit that found the disk full (not some other refusal).
      expect(logger.lines.filter((l) => l.includes('smtp.store_failed')).join('\n')).toMatch(/database or disk is full|SQLITE_FULL/);

      rmSync(filler, { force: true });
      d.daemon.disk.invalidate();
      const again = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: mail('Problem: after the disk was cleared') });
      expect(again.final?.code).toBe(250);
      accepted.push('Problem: after the disk was cleared');
    } finally {
      await d.stop();
      rmSync(filler, { force: true });
    }
    const stored = storedSubjects();
    expect(accepted.filter((s) => !stored.has(s))).toEqual([]);
    // The refused message left nothing behind: no alert, no delivery without its alert.
    const db = new Database(join(dataDir(), 'alertline.db'), { readonly: true });
    try {
      const alerts = (db.prepare(`SELECT subject FROM alerts WHERE subject LIKE 'Problem: big %'`).all() as { subject: string }[]).map((r) => r.subject);
      expect(alerts.sort()).toEqual(accepted.filter((s) => s.startsWith('Problem: big')).sort());
      expect((db.prepare('SELECT count(*) n FROM deliveries WHERE alert_id NOT IN (SELECT id FROM alerts)').get() as { n: number }).n).toBe(0);
      expect((db.prepare('SELECT count(*) n FROM alert_events WHERE alert_id NOT IN (SELECT id FROM alerts)').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
  }, 90_000);
});
