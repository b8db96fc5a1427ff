/**
 * The SQL seam every store talks through: one small async interface, two engines (SQLite via
 * better-sqlite3, PostgreSQL via pg). A store never sees which one runs, except through the few
 * per-dialect snippets on `Sql` (greatest/least) and `dialect` for engine-only maintenance.
 *
 * How to convert or add a store (follow this for every new store, e.g. web users/sessions):
 *  - Take a `Sql` in the constructor (never a raw better-sqlite3 handle). Write `?` placeholders,
 *    pass the parameters positionally: `await q.get<Row>('SELECT * FROM t WHERE a = ? AND b = ?', a, b)`.
 *  - `get` returns the first row or undefined, `all` every row, `run` the rows changed, `insert`
 *    the new row's `id` (it appends RETURNING id: the table needs an `id` column).
 *  - Several statements that must hold together: `await q.tx(async (t) => { ... })`, and inside
 *    use ONLY `t` (calling the store's own methods that use `this.q` from inside a transaction
 *    would wait for the transaction itself on SQLite: a deadlock). Pass `t` down to helpers.
 *  - Portable SQL only: no `||` with a parameter (build the text in JS), no scalar max()/min()
 *    with two arguments (use `${q.greatest}(a, ?)` / `${q.least}(a, ?)`), `IS DISTINCT FROM`
 *    rather than `IS NOT ?`, no arithmetic on a bare parameter (compute it in JS), every
 *    non-aggregated column in GROUP BY, `AS` before every column alias, a `?` that is only
 *    compared with NULL needs a cast (`CAST(? AS TEXT) IS NULL`), empty blobs as a Buffer param.
 *  - Integers are JS numbers on both engines (INTEGER columns are BIGINT on PostgreSQL, parsed
 *    back to number); BLOB is BYTEA (a Buffer both ways); TEXT COLLATE NOCASE is CITEXT.
 *  - Schema changes go in migrations.ts as a new entry (one definition; see translate() there).
 *  - Test it with `describe.each(engines())` from test/helpers/pg.ts: the store suite runs on
 *    SQLite and on a throwaway PostgreSQL cluster.
 */

/** The channel stores signal on when alerts change state or arrive (other nodes rescan at once). */
export const CHANGES_CHANNEL = 'alertline_changes';

/** Inside a transaction: tells the other nodes at commit that alerts changed (PostgreSQL NOTIFY; nothing on SQLite). */
export async function signalChange(t: Sql, what: string): Promise<void> {
  if (t.dialect === 'postgres') await t.get('SELECT pg_notify(?, ?) AS n', CHANGES_CHANNEL, what.slice(0, 200));
}

export type Param = string | number | bigint | Buffer | null;
export type Dialect = 'sqlite' | 'postgres';

export interface TxOptions {
  /**
   * false: the commit does not wait for the disk (SQLite synchronous=NORMAL under WAL, PostgreSQL
   * synchronous_commit=off for this transaction). A crash of the process loses nothing; a power cut
   * within milliseconds of it may. Only for records whose loss repeats work, never loses it.
   */
  durable?: boolean;
}

export interface Sql {
  readonly dialect: Dialect;
  /** The two-argument scalar maximum/minimum function: max/min on SQLite, greatest/least on PostgreSQL. */
  readonly greatest: string;
  readonly least: string;
  get<T = Record<string, unknown>>(sql: string, ...params: Param[]): Promise<T | undefined>;
  all<T = Record<string, unknown>>(sql: string, ...params: Param[]): Promise<T[]>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, ...params: Param[]): Promise<number>;
  /** INSERT ... RETURNING id: the new row's id. */
  insert(sql: string, ...params: Param[]): Promise<number>;
  /** Several statements without parameters (schema). */
  exec(sql: string): Promise<void>;
  /** Runs fn in one transaction (committed when it resolves, rolled back when it throws). Nested calls join the outer one. */
  tx<T>(fn: (t: Sql) => Promise<T>, opts?: TxOptions): Promise<T>;
}

export interface SqlDriver extends Sql {
  /** Runs fn while holding a cluster-wide named lock (PostgreSQL advisory lock); on SQLite the file is the only node, fn just runs. Returns null when `tryOnly` and another session holds it. */
  withLock<T>(name: string, fn: () => Promise<T>, tryOnly?: boolean): Promise<T | null>;
  /**
   * Holds a cluster-wide named lock for as long as this process lives (a PostgreSQL session
   * advisory lock on a connection of its own; a dead node's lock goes with its connection).
   * True while this process holds it: call it again each time to take it when it comes free.
   * SQLite: always true (one node).
   */
  holdLock(name: string): Promise<boolean>;
  /**
   * Calls fn whenever another session signals `channel` (PostgreSQL LISTEN/NOTIFY, reconnecting
   * after a lost connection; SQLite: never, one process writes). Returns the stop function.
   */
  listen(channel: string, fn: (payload: string) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** A stable 63-bit-safe key for an advisory lock name (FNV-1a over the name, as a signed 32-bit pair). */
export function lockKey(name: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return [h1 | 0, h2 | 0];
}
