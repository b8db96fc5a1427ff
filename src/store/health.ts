/**
 * Whether the database works: every store call that fails with an error of the database itself
 * (I/O error, corruption, locked beyond the busy timeout, read-only, full, not a database) is
 * counted here, so the appliance can raise its "database errors" alarm and show the figures in
 * status and /metrics. Errors of the caller (a constraint, bad SQL) are not the database's and are
 * not counted. No I/O: the clock is handed in.
 */
import type { Stores } from './index.js';

/** SQLite result codes (and their extended codes) that say the database itself is failing. */
const DATABASE_FAULTS = ['SQLITE_IOERR', 'SQLITE_CORRUPT', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_NOTADB', 'SQLITE_PROTOCOL', 'SQLITE_NOMEM', 'SQLITE_PERM'];

/** The SQLite code of a database fault (SQLITE_IOERR_WRITE...), or null for any other error. */
export function databaseFault(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  return DATABASE_FAULTS.some((c) => code === c || code.startsWith(`${c}_`)) ? code : null;
}

export interface StoreHealthState {
  /** Database faults counted since start, by SQLite code. */
  errors: Record<string, number>;
  /** The last fault: which store call, its code and message, when. */
  last: { op: string; code: string; message: string; at: number } | null;
}

export class StoreHealth {
  private readonly errors: Record<string, number> = {};
  private last: StoreHealthState['last'] = null;
  private total = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts `e` when it is a database fault; returns whether it was one. */
  failed(op: string, e: unknown): boolean {
    const code = databaseFault(e);
    if (!code) return false;
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    this.total++;
    this.last = { op, code, message: (e as Error).message?.slice(0, 300) ?? String(e), at: this.now() };
    return true;
  }

  /** Faults counted since start (callers keep the figure they last saw to learn of new ones). */
  get count(): number {
    return this.total;
  }

  state(): StoreHealthState {
    return { errors: { ...this.errors }, last: this.last ? { ...this.last } : null };
  }
}

type AnyFn = (...args: unknown[]) => unknown;

/** A call that reports database faults (a sync throw or a rejected promise) as `op`. */
function reporting(op: string, fn: AnyFn, self: unknown, health: StoreHealth): AnyFn {
  return (...args: unknown[]) => {
    let r: unknown;
    try {
      r = fn.apply(self, args);
    } catch (e) {
      health.failed(op, e);
      throw e;
    }
    if (r instanceof Promise) return r.catch((e: unknown) => { health.failed(op, e); throw e; });
    return r;
  };
}

/** One store object whose method calls report database faults. */
function watched<T extends object>(name: string, target: T, health: StoreHealth): T {
  // One wrapper per method, made on first use (store calls are on the ingest and dispatch paths).
  const wrappers = new Map<string, { fn: AnyFn; wrapped: AnyFn }>();
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      let w = wrappers.get(prop);
      if (!w || w.fn !== v) wrappers.set(prop, (w = { fn: v as AnyFn, wrapped: reporting(`${name}.${prop}`, v as AnyFn, t, health) }));
      return w.wrapped;
    },
  });
}

/** The same stores, every call of every store reporting database faults to `health`. */
export function watchStores(s: Stores, health: StoreHealth): Stores {
  const out = {} as Record<string, unknown>;
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(s))) {
    // The raw handles pass as they are (`db` is a getter that throws on PostgreSQL: not read here).
    if (d.get || k === 'db' || k === 'sql' || k === 'engine') {
      Object.defineProperty(out, k, d.get ? { get: () => d.get!.call(s), enumerable: true } : d);
      continue;
    }
    const v = d.value as unknown;
    if (typeof v === 'function') out[k] = reporting(k, v as AnyFn, s, health);
    else if (v && typeof v === 'object') out[k] = watched(k, v, health);
    else out[k] = v;
  }
  return out as unknown as Stores;
}
