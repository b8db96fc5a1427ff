/**
 * The SQLite engine behind the Sql seam: one better-sqlite3 connection (synchronous calls, WAL,
 * synchronous=FULL). A transaction holds the connection across awaits, so while one is open the
 * other callers queue behind it (a single-connection mutex) instead of running inside it.
 */
import type Database from 'better-sqlite3';
import type { Db } from '../database.js';
import { prep } from '../database.js';
import type { Param, Sql, SqlDriver, TxOptions } from './driver.js';

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly greatest = 'max';
  readonly least = 'min';
  /** The transactions running or waiting; while > 0, plain calls wait their turn. */
  private pending = 0;
  private chain: Promise<unknown> = Promise.resolve();
  /** The handle a transaction's callback gets: straight to the connection, no queueing. */
  private readonly inner: Sql;

  constructor(readonly db: Db) {
    const st = (sql: string): Database.Statement => prep(db, sql);
    this.inner = {
      dialect: 'sqlite', greatest: 'max', least: 'min',
      get: async <T>(sql: string, ...p: Param[]) => st(sql).get(...p) as T | undefined,
      all: async <T>(sql: string, ...p: Param[]) => st(sql).all(...p) as T[],
      run: async (sql: string, ...p: Param[]) => st(sql).run(...p).changes,
      insert: async (sql: string, ...p: Param[]) => Number((st(`${sql} RETURNING id`).get(...p) as { id: number }).id),
      exec: async (sql: string) => { db.exec(sql); },
      tx: async <T>(fn: (t: Sql) => Promise<T>) => fn(this.inner),
    };
  }

  private gate<T>(f: () => T): Promise<T> {
    if (this.pending === 0) {
      try {
        return Promise.resolve(f());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.exclusive(async () => f());
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    this.pending++;
    const p = this.chain.then(f);
    this.chain = p.then(() => undefined, () => undefined).finally(() => { this.pending--; });
    return p;
  }

  get<T = Record<string, unknown>>(sql: string, ...p: Param[]): Promise<T | undefined> {
    return this.gate(() => prep(this.db, sql).get(...p) as T | undefined);
  }

  all<T = Record<string, unknown>>(sql: string, ...p: Param[]): Promise<T[]> {
    return this.gate(() => prep(this.db, sql).all(...p) as T[]);
  }

  run(sql: string, ...p: Param[]): Promise<number> {
    return this.gate(() => prep(this.db, sql).run(...p).changes);
  }

  insert(sql: string, ...p: Param[]): Promise<number> {
    return this.gate(() => Number((prep(this.db, `${sql} RETURNING id`).get(...p) as { id: number }).id));
  }

  exec(sql: string): Promise<void> {
    return this.gate(() => { this.db.exec(sql); });
  }

  tx<T>(fn: (t: Sql) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    return this.exclusive(async () => {
      // The connection is ours until the commit (the mutex), so the setting covers this transaction only.
      const relaxed = opts.durable === false;
      if (relaxed) this.db.pragma('synchronous = NORMAL');
      try {
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const r = await fn(this.inner);
          this.db.exec('COMMIT');
          return r;
        } catch (e) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw e;
        }
      } finally {
        if (relaxed) this.db.pragma('synchronous = FULL');
      }
    });
  }

  /** Runs f on the raw connection in its turn (pragmas, vacuum): never inside another caller's open transaction. */
  raw<T>(f: (db: Db) => T): Promise<T> {
    return this.gate(() => f(this.db));
  }

  /** One file, one daemon: nothing to coordinate with. */
  async withLock<T>(_name: string, fn: () => Promise<T>): Promise<T | null> {
    return fn();
  }

  async listen(): Promise<() => void> {
    return () => undefined;
  }

  async holdLock(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    await this.chain;
    this.db.close();
  }
}
