/**
 * One handle on the database with every store. Every method is async: this interface is the seam
 * where a second engine (PostgreSQL) plugs in; SQLite (better-sqlite3, WAL) is the embedded one.
 */
import { openDatabase, databasePath, prep, type Db } from './database.js';
import { UserStore } from './users.js';
import { SettingsStore } from './settings.js';
import { AlertStore } from './alerts.js';
import { DeliveryStore } from './deliveries.js';
import { DaemonStatusStore } from './daemon-status.js';
import { OncallStore } from './oncall.js';
import { PolicyRunStore } from './policy-runs.js';
import { RetentionStore, type StoreStats } from './retention.js';
import { TokenStore } from './tokens.js';
import { HeartbeatStore } from './heartbeats.js';
import { ChangeStore } from './changes.js';
import { WebUserStore } from './web-users.js';
import { ReportStore } from './reports.js';

export interface Stores {
  db: Db;
  users: UserStore;
  settings: SettingsStore;
  alerts: AlertStore;
  deliveries: DeliveryStore;
  daemonStatus: DaemonStatusStore;
  /** Schedules, overrides, policies, routes, silences. */
  oncall: OncallStore;
  /** Escalation policies running for alerts. */
  policyRuns: PolicyRunStore;
  /** Pruning old history and raw messages (retention.*), and incremental vacuum. */
  retention: RetentionStore;
  /** Database size, free pages, oldest alert kept (for status, doctor and self-alarms). */
  stats(): Promise<StoreStats>;
  tokens: TokenStore;
  heartbeats: HeartbeatStore;
  changes: ChangeStore;
  /** Web console logins and sessions. */
  webUsers: WebUserStore;
  /** The console's board and statistics. */
  reports: ReportStore;
  /** A cheap round trip to the database (health checks). */
  ping(): Promise<void>;
  /** A read and one small committed write (store_probe): rejects with the database's error when it takes no writes. */
  probe(now: number): Promise<void>;
  close(): Promise<void>;
}

export function openStores(dataDir: string, now: () => number = Date.now): Stores {
  const file = dataDir === ':memory:' ? null : databasePath(dataDir);
  const db = openDatabase(file ?? ':memory:');
  const retention = new RetentionStore(db, file);
  return {
    db,
    users: new UserStore(db, now),
    settings: new SettingsStore(db, now),
    alerts: new AlertStore(db),
    deliveries: new DeliveryStore(db),
    daemonStatus: new DaemonStatusStore(db),
    oncall: new OncallStore(db, now),
    policyRuns: new PolicyRunStore(db),
    retention,
    stats: () => retention.stats(),
    tokens: new TokenStore(db, now),
    heartbeats: new HeartbeatStore(db, now),
    changes: new ChangeStore(db),
    webUsers: new WebUserStore(db, now),
    reports: new ReportStore(db),
    ping: async () => { db.prepare('SELECT count(*) AS n FROM sqlite_master').get(); },
    probe: async (now) => {
      prep(db, 'SELECT count(*) AS n FROM sqlite_master').get();
      prep(db, 'INSERT INTO store_probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at').run(now);
    },
    close: async () => { db.close(); },
  };
}
