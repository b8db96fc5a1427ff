/** The running daemon writes a live snapshot here every few seconds; `alertline status` reads it. */
import type { Db } from './database.js';
import { prep } from './database.js';

export interface StatusSnapshot {
  pid: number;
  startedAt: number;
  updatedAt: number;
  status: Record<string, unknown>;
}

export class DaemonStatusStore {
  constructor(private readonly db: Db) {}

  write(pid: number, startedAt: number, now: number, status: Record<string, unknown>): void {
    prep(this.db, `INSERT INTO daemon_status (id, pid, started_at, updated_at, status) VALUES (1, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, updated_at = excluded.updated_at, status = excluded.status`)
      .run(pid, startedAt, now, JSON.stringify(status));
  }

  clear(pid: number): void {
    prep(this.db, 'DELETE FROM daemon_status WHERE pid = ?').run(pid);
  }

  read(): StatusSnapshot | null {
    const r = prep(this.db, 'SELECT pid, started_at, updated_at, status FROM daemon_status WHERE id = 1').get() as
      | { pid: number; started_at: number; updated_at: number; status: string }
      | undefined;
    return r ? { pid: r.pid, startedAt: r.started_at, updatedAt: r.updated_at, status: JSON.parse(r.status) } : null;
  }
}
