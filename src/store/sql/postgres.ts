/**
 * The PostgreSQL engine behind the Sql seam (pg, a kept pool). `?` placeholders become $1..$n;
 * BIGINT and NUMERIC come back as JS numbers (ids and millisecond times fit in 2^53); BYTEA is a
 * Buffer. Every connection runs with synchronous_commit=on, so a resolved tx() is on the
 * server's disk before the receiver answers 250/2xx.
 */
import pg from 'pg';
import type { Param, Sql, SqlDriver, TxOptions } from './driver.js';
import { lockKey } from './driver.js';

pg.types.setTypeParser(20, (v) => Number(v));     // int8
pg.types.setTypeParser(1700, (v) => Number(v));   // numeric (sum(), avg())

/** `?` → `$n`, leaving quoted strings, identifiers and comments alone. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const j = end < 0 ? sql.length : end;
      out += sql.slice(i, j + 1);
      i = j;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const j = end < 0 ? sql.length : end;
      out += sql.slice(i, j);
      i = j - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}

const converted = new Map<string, string>();
function text(sql: string): string {
  let t = converted.get(sql);
  if (t === undefined) {
    t = numberPlaceholders(sql);
    if (converted.size < 5000) converted.set(sql, t);
  }
  return t;
}

type Queryable = { query: (q: { text: string; values: unknown[] }) => Promise<pg.QueryResult> };

function handle(c: Queryable, tx: <T>(fn: (t: Sql) => Promise<T>) => Promise<T>): Sql {
  const q = (sql: string, p: Param[]) => c.query({ text: text(sql), values: p });
  return {
    dialect: 'postgres', greatest: 'greatest', least: 'least',
    get: async <T>(sql: string, ...p: Param[]) => (await q(sql, p)).rows[0] as T | undefined,
    all: async <T>(sql: string, ...p: Param[]) => (await q(sql, p)).rows as T[],
    run: async (sql: string, ...p: Param[]) => (await q(sql, p)).rowCount ?? 0,
    insert: async (sql: string, ...p: Param[]) => Number((await q(`${sql} RETURNING id`, p)).rows[0].id),
    exec: async (sql: string) => { await c.query({ text: sql, values: [] }); },
    tx,
  };
}

export interface PostgresOptions {
  url: string;
  /** Connections kept open (default 8). */
  max?: number;
  /** application_name the server shows for our sessions. */
  applicationName?: string;
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly greatest = 'greatest';
  readonly least = 'least';
  readonly pool: pg.Pool;
  private readonly top: Sql;

  private readonly url: string;

  constructor(o: PostgresOptions) {
    this.url = o.url;
    this.pool = new pg.Pool({
      connectionString: o.url, max: o.max ?? 8, application_name: o.applicationName ?? 'alertline',
      options: '-c synchronous_commit=on',
    });
    // An idle client losing its server (restart, network) must not crash the daemon: the pool drops it.
    this.pool.on('error', () => undefined);
    this.top = handle({ query: (q) => this.pool.query(q) }, (fn) => this.tx(fn));
  }

  get<T = Record<string, unknown>>(sql: string, ...p: Param[]) { return this.top.get<T>(sql, ...p); }
  all<T = Record<string, unknown>>(sql: string, ...p: Param[]) { return this.top.all<T>(sql, ...p); }
  run(sql: string, ...p: Param[]) { return this.top.run(sql, ...p); }
  insert(sql: string, ...p: Param[]) { return this.top.insert(sql, ...p); }
  exec(sql: string) { return this.top.exec(sql); }

  async tx<T>(fn: (t: Sql) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    let inner: Sql;
    inner = handle(client, (f) => f(inner));
    try {
      await client.query('BEGIN');
      if (opts.durable === false) await client.query('SET LOCAL synchronous_commit = off');
      const r = await fn(inner);
      await client.query('COMMIT');
      client.release();
      return r;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      throw e;
    }
  }

  /** Session advisory lock on its own connection for the duration of fn. */
  async withLock<T>(name: string, fn: () => Promise<T>, tryOnly = false): Promise<T | null> {
    const [a, b] = lockKey(name);
    const client = await this.pool.connect();
    try {
      if (tryOnly) {
        const r = await client.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [a, b]);
        if (!r.rows[0].ok) return null;
      } else {
        await client.query('SELECT pg_advisory_lock($1, $2)', [a, b]);
      }
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [a, b]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  private held = new Map<string, pg.Client>();
  private holding = new Map<string, Promise<boolean>>();

  holdLock(name: string): Promise<boolean> {
    let p = this.holding.get(name);
    if (!p) {
      p = this.tryHold(name).finally(() => this.holding.delete(name));
      this.holding.set(name, p);
    }
    return p;
  }

  private async tryHold(name: string): Promise<boolean> {
    const [a, b] = lockKey(name);
    const have = this.held.get(name);
    if (have) {
      try {
        await have.query('SELECT 1');
        return true;
      } catch {
        this.held.delete(name);
        await have.end().catch(() => undefined);
      }
    }
    const c = new pg.Client({ connectionString: this.url, application_name: 'alertline-lock' });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const r = await c.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [a, b]);
      if (r.rows[0].ok) {
        this.held.set(name, c);
        return true;
      }
    } catch { /* the database is unreachable: not ours */ }
    await c.end().catch(() => undefined);
    return false;
  }

  private listeners: { stop: () => void }[] = [];

  async listen(channel: string, fn: (payload: string) => void): Promise<() => void> {
    let stopped = false;
    let client: pg.Client | null = null;
    let retry: NodeJS.Timeout | null = null;
    const connect = async (): Promise<void> => {
      if (stopped) return;
      const c = new pg.Client({ connectionString: this.url, application_name: 'alertline-listen' });
      const again = () => {
        if (stopped || client !== c) return;
        client = null;
        c.end().catch(() => undefined);
        retry = setTimeout(() => void connect(), 2000); // meanwhile the dispatcher's polling covers
        retry.unref();
      };
      c.on('error', again);
      c.on('end', again);
      c.on('notification', (m) => { if (m.channel === channel) fn(m.payload ?? ''); });
      client = c;
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
      } catch {
        again();
      }
    };
    await connect();
    const l = {
      stop: () => {
        stopped = true;
        if (retry) clearTimeout(retry);
        const c = client;
        client = null;
        c?.end().catch(() => undefined);
      },
    };
    this.listeners.push(l);
    return l.stop;
  }

  async close(): Promise<void> {
    for (const l of this.listeners.splice(0)) l.stop();
    for (const c of this.held.values()) await c.end().catch(() => undefined);
    this.held.clear();
    await this.pool.end();
  }
}
