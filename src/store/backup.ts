/**
 * Backup and restore of the SQLite database.
 *
 * Backup uses SQLite's online backup API (better-sqlite3 `db.backup()`) from a read-only
 * connection: in WAL mode it reads one consistent snapshot while the daemon keeps committing.
 * The copy is written beside the destination (`FILE.partial`), checked (integrity_check, an
 * Alertline schema), made self-contained (journal_mode=DELETE) and only then renamed over FILE:
 * a backup killed half-way never leaves a half file under the name you asked for.
 *
 * Restore refuses while a daemon runs on the data dir, checks the file (an Alertline database,
 * integrity ok, schema version no newer than this build), keeps the current database as
 * alertline.db.bak, and replaces it atomically (rename); migrations bring an older copy forward
 * at the next open.
 */
import Database from 'better-sqlite3';
import { pidAlive } from './daemon-status.js';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { openDatabase } from './database.js';

/** Tables every Alertline database has had since the first schema. */
const REQUIRED_TABLES = ['alerts', 'deliveries', 'attempts', 'alert_events', 'users', 'settings', 'daemon_status'];

export class BackupError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface DatabaseFacts {
  file: string;
  bytes: number;
  schemaVersion: number;
  alerts: number;
  users: number;
  integrity: 'ok';
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* some file systems can't fsync a directory */ }
}

function removeWithSidecars(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true });
}

/** Whether a file starts with the SQLite header (so we don't ask SQLite to open a text file). */
function looksLikeSqlite(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const b = Buffer.alloc(16);
      const n = readSync(fd, b, 0, b.length, 0);
      return n === 16 && b.toString('latin1') === 'SQLite format 3\u0000';
    } finally { closeSync(fd); }
  } catch {
    return false;
  }
}

/**
 * Checks that `file` is a sound Alertline database this build can use: SQLite, integrity ok, the
 * Alertline tables, a schema version from 1 to ours. Opens it read-only (a WAL beside it is read).
 */
export function inspectDatabase(file: string): DatabaseFacts {
  if (!existsSync(file)) throw new BackupError(`${file}: no such file`);
  if (!statSync(file).isFile()) throw new BackupError(`${file}: not a file`);
  if (!looksLikeSqlite(file)) throw new BackupError(`${file}: not an SQLite database`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new BackupError(`${file}: cannot open: ${(e as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    let integrity: string;
    try {
      integrity = (db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    } catch (e) {
      throw new BackupError(`${file}: integrity check failed: ${(e as Error).message}`);
    }
    if (integrity !== 'ok') throw new BackupError(`${file}: integrity check failed: ${integrity.slice(0, 500)}`);
    const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (missing.length) throw new BackupError(`${file}: not an Alertline database (no table ${missing.join(', ')})`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < 1) throw new BackupError(`${file}: not an Alertline database (schema version ${version})`);
    if (version > MIGRATIONS.length) throw new BackupError(`${file}: made by a newer Alertline (schema version ${version}, this one knows up to ${MIGRATIONS.length}); upgrade first`);
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return { file, bytes: statSync(file).size, schemaVersion: version, alerts: n('SELECT count(*) n FROM alerts'), users: n('SELECT count(*) n FROM users'), integrity: 'ok' };
  } finally {
    db.close();
  }
}

/** Online copy of `from` (a live database) to `to`, written to `to.partial` first. */
async function copyDatabase(from: string, to: string, onProgress?: (p: { totalPages: number; remainingPages: number }) => void): Promise<void> {
  const partial = `${to}.partial`;
  removeWithSidecars(partial);
  const src = new Database(from, { readonly: true, fileMustExist: true });
  try {
    src.pragma('busy_timeout = 5000');
    // Large steps: a snapshot read in one go is not restarted by the daemon's commits meanwhile
    // (WAL readers don't block the writer, and the writer doesn't block this reader).
    await src.backup(partial, {
      progress: (p) => {
        onProgress?.(p);
        return 4096;
      },
    });
  } finally {
    src.close();
  }
  // Make the copy one self-contained file, not a daemon's snapshot: no WAL, no live status row.
  const copy = new Database(partial);
  try {
    copy.pragma('journal_mode = DELETE');
    if ((copy.prepare(`SELECT count(*) n FROM sqlite_master WHERE type = 'table' AND name = 'daemon_status'`).get() as { n: number }).n) {
      copy.prepare('DELETE FROM daemon_status').run();
    }
  } finally {
    copy.close();
  }
  fsyncFile(partial);
}

/** `alertline backup FILE`: an online, checked copy of the database at `dbFile`. */
export async function backupDatabase(dbFile: string, dest: string, onProgress?: (p: { totalPages: number; remainingPages: number }) => void): Promise<DatabaseFacts> {
  const target = resolve(dest);
  if (!existsSync(dbFile)) throw new BackupError(`no database at ${dbFile} (nothing to back up)`);
  if (samePath(target, dbFile)) throw new BackupError(`${dest} is the live database itself; choose another file`, 2);
  if (!existsSync(dirname(target))) throw new BackupError(`${dirname(target)}: no such directory`);
  await copyDatabase(dbFile, target, onProgress);
  const partial = `${target}.partial`;
  let facts: DatabaseFacts;
  try {
    facts = inspectDatabase(partial);
  } catch (e) {
    removeWithSidecars(partial);
    throw new BackupError(`the copy failed its check, nothing written to ${dest}: ${(e as Error).message}`);
  }
  renameSync(partial, target);
  fsyncDir(dirname(target));
  return { ...facts, file: target };
}

function samePath(a: string, b: string): boolean {
  const ra = resolve(a);
  const rb = resolve(b);
  if (ra === rb) return true;
  try {
    const sa = statSync(ra);
    const sb = statSync(rb);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}


/** How recently a daemon must have written its status for a live pid to count as that daemon. */
const STATUS_FRESH_MS = 60_000;

/**
 * The daemon running on this database, if any: its daemon_status row names a live pid that
 * wrote recently or is an alertline process (a pid reused after a crash is neither).
 */
export function runningDaemon(dbFile: string, now = Date.now()): { pid: number; updatedAt: number } | null {
  if (!existsSync(dbFile)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const r = db.prepare('SELECT pid, updated_at FROM daemon_status WHERE id = 1').get() as { pid: number; updated_at: number } | undefined;
    if (!r || r.pid === process.pid || !pidAlive(r.pid)) return null;
    let cmdline = '';
    try { cmdline = readFileSync(`/proc/${r.pid}/cmdline`, 'utf8'); } catch { /* not Linux, or gone */ }
    if (now - r.updated_at < STATUS_FRESH_MS || /alertline/i.test(cmdline)) return { pid: r.pid, updatedAt: r.updated_at };
    return null;
  } catch {
    return null; // no daemon_status table: not a database a daemon ran on
  } finally {
    db?.close();
  }
}

export interface RestoreResult {
  restored: DatabaseFacts;
  /** Where the previous database was kept (null: there was none). */
  previous: string | null;
  /** Schema version after migrations ran on the restored copy. */
  schemaVersion: number;
}

/** `alertline restore FILE`: replaces the database at `dbFile` with a checked copy of `source`. */
export async function restoreDatabase(source: string, dbFile: string): Promise<RestoreResult> {
  const src = resolve(source);
  if (samePath(src, dbFile)) throw new BackupError(`${source} is the live database itself`, 2);
  const facts = inspectDatabase(src);
  const daemon = runningDaemon(dbFile);
  if (daemon) throw new BackupError(`a daemon is running on this database (pid ${daemon.pid}); stop it first (systemctl stop alertline)`);

  mkdirSync(dirname(dbFile), { recursive: true });
  const bak = `${dbFile}.bak`;
  let previous: string | null = null;
  if (existsSync(dbFile)) {
    removeWithSidecars(bak);
    try {
      // Keep the current database, WAL included, as one file: alertline.db.bak. The old
      // write-ahead log must not outlive its database: fold it in and drop it, or SQLite would
      // replay it onto the restored file.
      await copyDatabase(dbFile, bak);
      renameSync(`${bak}.partial`, bak);
      const old = new Database(dbFile);
      try {
        old.pragma('busy_timeout = 5000');
        old.pragma('wal_checkpoint(TRUNCATE)');
        old.pragma('journal_mode = DELETE');
      } finally {
        old.close();
      }
    } catch {
      // The current file is too damaged to copy (often why one restores): keep it as it is, its
      // WAL renamed along with it so the pair still belongs together.
      removeWithSidecars(bak);
      renameSync(dbFile, bak);
      if (existsSync(`${dbFile}-wal`)) renameSync(`${dbFile}-wal`, `${bak}-wal`);
      rmSync(`${dbFile}-shm`, { force: true });
    }
    previous = bak;
  }
  await copyDatabase(src, dbFile);
  try {
    inspectDatabase(`${dbFile}.partial`);
  } catch (e) {
    removeWithSidecars(`${dbFile}.partial`);
    throw new BackupError(`the copy failed its check, the database is unchanged: ${(e as Error).message}`);
  }
  for (const f of [`${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) rmSync(f, { force: true });
  renameSync(`${dbFile}.partial`, dbFile);
  fsyncDir(dirname(dbFile));
  // Bring an older copy up to this build's schema now, not at the daemon's next start.
  const db = openDatabase(dbFile);
  let version: number;
  try {
    version = db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
  return { restored: facts, previous, schemaVersion: version };
}
