/** The running daemon writes a live snapshot here every few seconds; `alertline status` reads it. */
import type { Sql } from './sql/driver.js';

/** One channel as the daemon sees it. `status` is the channel's own (modem registration, SIP registration). */
export interface ChannelSnapshot {
  enabled: boolean;
  running: boolean;
  healthy: boolean;
  detail: string;
  busy: number;
  kind?: 'voice' | 'text';
  status?: unknown;
}

/** What the running daemon reports about itself: shared by the daemon, `alertline status` and doctor. */
export interface LiveStatus {
  hostname: string;
  uptimeSec: number;
  /** The config file the daemon runs with (null: built-in defaults). */
  configPath: string | null;
  receiver: { listening: true; address: string; port: number; accepted: number } | { listening: false };
  queue: { openDeliveries: number; running: number };
  alertsToday: Record<string, number>;
  channels: Record<string, ChannelSnapshot>;
  order: string[];
  /** Database size and retention (store.stats(), the last pruning run, free disk). */
  storage?: StorageStatus;
  /** The appliance's own alarms: open ones, ones nobody could be told, and why. */
  selfAlarms?: { open: { key: string; summary: string; since: string }[]; unsent: string[]; admins: number | null; problem?: string; unstored?: string[] };
  /** Whether the database works (its probe and the store calls since), and its faults since start by SQLite code. */
  database?: { ok: boolean; error: string | null; since: string | null; errors: Record<string, number>; last: { op: string; code: string; message: string; at: number } | null };
  /** The web console: open screens, and the one-time setup link while no web user exists. */
  console?: { screens: number; setupUrl?: string };
}

export interface StorageStatus {
  dbBytes: number;
  freeBytes: number;
  oldestAlertAt: number | null;
  autoVacuum: string;
  /** Free space on dataDir's file system, and the threshold below which new alerts get 452/503. */
  diskFree: number | null;
  minFreeSpace: number;
  diskLow: boolean;
  lastPrune: { at: number; ms: number; alerts: number; related: number; raw: number; pagesFreed: number; interrupted: boolean } | null;
  lastPruneError: string | null;
}

export interface StatusSnapshot {
  pid: number;
  startedAt: number;
  updatedAt: number;
  status: LiveStatus;
}

/** How old a snapshot may be for its daemon to count as running (it writes every few seconds). */
export const STATUS_STALE_MS = 30_000;

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the snapshot comes from a daemon running now: written recently, by a live process. */
export function snapshotIsLive(snap: StatusSnapshot | null, now: number): snap is StatusSnapshot {
  return Boolean(snap && now - snap.updatedAt < STATUS_STALE_MS && pidAlive(snap.pid));
}

export class DaemonStatusStore {
  constructor(private readonly q: Sql) {}

  async write(pid: number, startedAt: number, now: number, status: LiveStatus): Promise<void> {
    (await this.q.run(`INSERT INTO daemon_status (id, pid, started_at, updated_at, status) VALUES (1, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, updated_at = excluded.updated_at, status = excluded.status`, pid, startedAt, now, JSON.stringify(status)));
  }

  async clear(pid: number): Promise<void> {
    (await this.q.run('DELETE FROM daemon_status WHERE pid = ?', pid));
  }

  async read(): Promise<StatusSnapshot | null> {
    const r = (await this.q.get('SELECT pid, started_at, updated_at, status FROM daemon_status WHERE id = 1')) as
      | { pid: number; started_at: number; updated_at: number; status: string }
      | undefined;
    return r ? { pid: r.pid, startedAt: r.started_at, updatedAt: r.updated_at, status: JSON.parse(r.status) } : null;
  }
}
