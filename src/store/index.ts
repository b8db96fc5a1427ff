/**
 * One handle on the database with every store. Every method is async: this interface is the seam
 * where a second engine (PostgreSQL) plugs in; SQLite (better-sqlite3, WAL) is the embedded one.
 */
import { openDatabase, databasePath, type Db } from './database.js';
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
import { NodeStore } from './nodes.js';
import type { SqlDriver } from './sql/driver.js';
import { SqliteDriver } from './sql/sqlite.js';

export type StoreEngine = 'sqlite' | 'postgres';

export interface Stores {
  engine: StoreEngine;
  /** The SQL seam the stores run on (tests, maintenance, locks). */
  sql: SqlDriver;
  /** The raw SQLite handle (SQLite only: tests and SQLite maintenance); throws on PostgreSQL. */
  readonly db: Db;
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
  /** The appliances sharing this database (heartbeats, channels, what they run). */
  nodes: NodeStore;
  /** A cheap round trip to the database (health checks). */
  ping(): Promise<void>;
  /** A read and one small committed write (store_probe): rejects with the database's error when it takes no writes. */
  probe(now: number): Promise<void>;
  close(): Promise<void>;
}

/** Where the data lives: the embedded SQLite file under dataDir (default), or a shared PostgreSQL. */
export interface StoreLocation {
  engine: StoreEngine;
  /** postgres://user@host/alertline (engine postgres). */
  url?: string;
}

function build(sql: SqlDriver, file: string | null, db: Db | null, now: () => number): Stores {
  const retention = new RetentionStore(sql, file, db, sql instanceof SqliteDriver ? (f) => sql.raw(f) : undefined);
  return {
    engine: sql.dialect,
    sql,
    get db(): Db {
      if (!db) throw new Error('the raw SQLite handle is not available: this store runs on PostgreSQL');
      return db;
    },
    users: new UserStore(sql, now),
    settings: new SettingsStore(sql, now),
    alerts: new AlertStore(sql),
    deliveries: new DeliveryStore(sql),
    daemonStatus: new DaemonStatusStore(sql),
    oncall: new OncallStore(sql, now),
    policyRuns: new PolicyRunStore(sql),
    retention,
    stats: () => retention.stats(),
    tokens: new TokenStore(sql, now),
    heartbeats: new HeartbeatStore(sql, now),
    changes: new ChangeStore(sql),
    nodes: new NodeStore(sql),
    webUsers: new WebUserStore(sql, now),
    reports: new ReportStore(sql),
    ping: async () => { await sql.get('SELECT 1 AS one'); },
    probe: async (at) => {
      await sql.get('SELECT 1 AS one');
      await sql.run('INSERT INTO store_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at', at);
    },
    close: () => sql.close(),
  };
}

/** The embedded engine: SQLite in dataDir (or ':memory:'), opened and migrated synchronously. */
export function openStores(dataDir: string, now: () => number = Date.now): Stores {
  const file = dataDir === ':memory:' ? null : databasePath(dataDir);
  const db = openDatabase(file ?? ':memory:');
  return build(new SqliteDriver(db), file, db, now);
}

/** Opens the configured engine; on PostgreSQL connects and applies the migrations (under an advisory lock). */
export async function openStoresAt(where: StoreLocation, dataDir: string, now: () => number = Date.now): Promise<Stores> {
  if (where.engine === 'sqlite') return openStores(dataDir, now);
  if (!where.url) throw new Error('store.engine is postgres but store.url is not set (postgres://user@host/alertline)');
  // Loaded only here: a box on SQLite never loads the PostgreSQL client.
  const { PostgresDriver } = await import('./sql/postgres.js');
  const { migratePostgres } = await import('./sql/migrate.js');
  const sql = new PostgresDriver({ url: where.url });
  try {
    await migratePostgres(sql);
  } catch (e) {
    await sql.close().catch(() => undefined);
    throw e;
  }
  return build(sql, null, null, now);
}
