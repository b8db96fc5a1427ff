/**
 * Retention: what an SD card can keep. Ended alerts older than retention.history go with their
 * deliveries, attempts and events; raw messages of ended alerts older than retention.raw are
 * emptied (the row, its text and its history stay). Both run in small transactions with a yield
 * between them, so mail arriving meanwhile is committed between two batches, never behind a long
 * delete; then incremental_vacuum gives the freed pages back to the file system.
 *
 * An open alert (pending, notifying) or one with a queued/running delivery is never touched.
 *
 * Rows and SQL only: the schedule (RetentionLoop) takes its clock and settings from the daemon.
 */
import { statSync } from 'node:fs';
import type { Db } from './database.js';
import type { Sql } from './sql/driver.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** Alert and delivery states that still need work: never pruned. */
const OPEN_ALERTS = `('pending', 'notifying')`;
const OPEN_DELIVERIES = `('queued', 'running')`;

export interface StoreStats {
  /** The database file plus its write-ahead log, in bytes. */
  dbBytes: number;
  fileBytes: number;
  walBytes: number;
  /** Pages inside the file that are free (reused before the file grows; vacuum returns them). */
  freeBytes: number;
  /** SQLite's auto_vacuum mode; 'server' on PostgreSQL (its autovacuum runs on its own). */
  autoVacuum: 'none' | 'full' | 'incremental' | 'server';
  /** When the oldest alert still kept was received (null: no alerts). */
  oldestAlertAt: number | null;
  newestAlertAt: number | null;
  schemaVersion: number;
}

export interface PruneCounts {
  /** Alerts deleted (with their deliveries, attempts and events). */
  alerts: number;
  /** Rows deleted from the tables that hang off those alerts. */
  related: number;
  /** Alerts whose raw message was emptied. */
  raw: number;
  /** Database pages returned to the file system. */
  pagesFreed: number;
  batches: number;
}

export interface PruneResult extends PruneCounts {
  at: number;
  ms: number;
  /** The run stopped early (daemon stopping). */
  interrupted: boolean;
}

export interface PruneOptions {
  now: number;
  /** Keep ended alerts this long (ms since their last change); 0 keeps forever. */
  historyMs: number;
  /** Keep raw messages this long (ms since received); 0 keeps forever. */
  rawMs: number;
  /** Rows per transaction. */
  batch?: number;
  /** Checked between batches: true stops the run (what is done stays done). */
  stop?: () => boolean;
  /** Called between batches; the default yields to the event loop (setImmediate). */
  pause?: () => Promise<void>;
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** A table with a foreign key to `parent`: deleting a parent row deletes these first. */
interface Child { table: string; column: string; parent: string; parentKey: string }

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export class RetentionStore {
  private childCache: { schema: number; kids: Child[] } | null = null;

  /**
   * `db`: the raw SQLite handle for pragmas (null on PostgreSQL); `lite` runs a call on it in
   * its turn (never inside another caller's open transaction).
   */
  constructor(private readonly q: Sql, private readonly file: string | null, private readonly db: Db | null,
    private readonly lite: <T>(f: (db: Db) => T) => Promise<T> = async (f) => f(db!)) {}

  async stats(): Promise<StoreStats> {
    const db = this.db;
    if (!db) {
      const r = (await this.q.get<{ bytes: number; oldest: number | null; newest: number | null }>(
        'SELECT pg_database_size(current_database()) AS bytes, (SELECT min(received_at) FROM alerts) AS oldest, (SELECT max(received_at) FROM alerts) AS newest'))!;
      const v = await this.q.get<{ version: number }>('SELECT max(version) AS version FROM alertline_schema');
      return {
        dbBytes: r.bytes, fileBytes: r.bytes, walBytes: 0, freeBytes: 0, autoVacuum: 'server',
        oldestAlertAt: r.oldest, newestAlertAt: r.newest, schemaVersion: v?.version ?? 0,
      };
    }
    const [pageSize, pageCount, freelist, av, version] = await this.lite((d) => ['page_size', 'page_count', 'freelist_count', 'auto_vacuum', 'user_version']
      .map((k) => d.pragma(k, { simple: true }) as number));
    const size = (f: string) => {
      try { return statSync(f).size; } catch { return 0; }
    };
    const fileBytes = this.file ? size(this.file) : pageSize * pageCount;
    const walBytes = this.file ? size(`${this.file}-wal`) : 0;
    const oldest = (await this.q.get<{ t: number | null }>('SELECT min(received_at) AS t FROM alerts'))!;
    const newest = (await this.q.get<{ t: number | null }>('SELECT max(received_at) AS t FROM alerts'))!;
    return {
      dbBytes: fileBytes + walBytes, fileBytes, walBytes, freeBytes: freelist * pageSize,
      autoVacuum: av === 2 ? 'incremental' : av === 1 ? 'full' : 'none',
      oldestAlertAt: oldest.t, newestAlertAt: newest.t,
      schemaVersion: version!,
    };
  }

  /**
   * The tables hanging off alerts (deliveries, attempts, events, and whatever later migrations
   * add with a foreign key), found from the schema so a new table can't make a delete fail.
   * Two levels: children of alerts, and children of those children.
   */
  private async children(): Promise<Child[]> {
    type Fk = { tbl: string; col: string; parent: string; pk: string | null };
    const schema = this.db
      ? await this.lite((d) => d.pragma('schema_version', { simple: true }) as number)
      : (await this.q.get<{ v: number }>('SELECT max(version) AS v FROM alertline_schema'))?.v ?? 0;
    if (this.childCache?.schema === schema) return this.childCache.kids;
    const fks = this.db
      ? await this.q.all<Fk>(`SELECT m.name AS tbl, f."from" AS col, f."table" AS parent, f."to" AS pk
      FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`)
      : await this.q.all<Fk>(`SELECT c.conrelid::regclass::text AS tbl, a.attname AS col, c.confrelid::regclass::text AS parent, pa.attname AS pk
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`);
    const direct = fks.filter((f) => f.parent === 'alerts' && f.tbl !== 'alerts');
    const second = fks.filter((f) => f.tbl !== f.parent && direct.some((d) => d.tbl === f.parent) && f.parent !== 'alerts');
    const kids: Child[] = [
      ...second.map((f) => ({ table: f.tbl, column: f.col, parent: f.parent, parentKey: f.pk ?? 'rowid' })),
      ...direct.map((f) => ({ table: f.tbl, column: f.col, parent: 'alerts', parentKey: f.pk ?? 'rowid' })),
    ];
    this.childCache = { schema, kids };
    return kids;
  }

  /** Deletes one batch of alerts (ids) and everything hanging off them, in one transaction. */
  private async deleteAlerts(candidates: number[], cutoff: number): Promise<{ alerts: number; related: number }> {
    const kids = await this.children();
    const direct = kids.filter((k) => k.parent === 'alerts');
    return this.q.tx(async (t) => {
      // Checked again inside the transaction: only what is still ended and idle goes.
      const ids: number[] = [];
      for (const id of candidates) {
        if (await t.get(`SELECT 1 FROM alerts a WHERE id = ? AND updated_at < ? AND state NOT IN ${OPEN_ALERTS}
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.state IN ${OPEN_DELIVERIES})`, id, cutoff)) ids.push(id);
      }
      if (!ids.length) return { alerts: 0, related: 0 };
      const list = `(${ids.map(() => '?').join(',')})`;
      let related = 0;
      // Children of children first (attempts of the deliveries), then children, then the alerts.
      for (const k of kids) {
        if (k.parent === 'alerts') continue;
        for (const via of direct.filter((d) => d.table === k.parent)) {
          related += await t.run(`DELETE FROM ${ident(k.table)} WHERE ${ident(k.column)} IN
            (SELECT ${ident(k.parentKey)} FROM ${ident(k.parent)} WHERE ${ident(via.column)} IN ${list})`, ...ids);
        }
      }
      for (const k of direct) related += await t.run(`DELETE FROM ${ident(k.table)} WHERE ${ident(k.column)} IN ${list}`, ...ids);
      const alerts = await t.run(`DELETE FROM alerts WHERE id IN ${list}`, ...ids);
      return { alerts, related };
    });
  }

  /** Highest alert id received before `cutoff` (the scan never walks past it). */
  private async maxIdBefore(cutoff: number): Promise<number> {
    const r = await this.q.get<{ id: number | null }>('SELECT max(id) AS id FROM alerts WHERE received_at < ?', cutoff);
    return r?.id ?? 0;
  }

  /** Deletes ended alerts whose last change is before `cutoff`, batch by batch. */
  async pruneHistory(cutoff: number, o: { batch?: number; stop?: () => boolean; pause?: () => Promise<void> } = {}): Promise<{ alerts: number; related: number; batches: number; interrupted: boolean }> {
    const batch = o.batch ?? 500;
    const pause = o.pause ?? yieldToLoop;
    const maxId = await this.maxIdBefore(cutoff);
    const pick = `SELECT id FROM alerts a WHERE id > ? AND id <= ? AND updated_at < ? AND state NOT IN ${OPEN_ALERTS}
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.state IN ${OPEN_DELIVERIES})
      ORDER BY id LIMIT ?`;
    let cursor = 0;
    const out = { alerts: 0, related: 0, batches: 0, interrupted: false };
    while (cursor < maxId) {
      if (o.stop?.()) { out.interrupted = true; break; }
      const ids = (await this.q.all<{ id: number }>(pick, cursor, maxId, cutoff, batch)).map((r) => r.id);
      if (!ids.length) break;
      cursor = ids[ids.length - 1]!;
      const d = await this.deleteAlerts(ids, cutoff);
      out.alerts += d.alerts;
      out.related += d.related;
      out.batches++;
      await pause();
    }
    return out;
  }

  /** Empties the raw message of ended alerts received before `cutoff`, batch by batch. */
  async pruneRaw(cutoff: number, o: { batch?: number; stop?: () => boolean; pause?: () => Promise<void> } = {}): Promise<{ raw: number; batches: number; interrupted: boolean }> {
    const batch = o.batch ?? 500;
    const pause = o.pause ?? yieldToLoop;
    const maxId = await this.maxIdBefore(cutoff);
    const pick = `SELECT id FROM alerts WHERE id > ? AND id <= ? AND received_at < ? AND state NOT IN ${OPEN_ALERTS} AND length(raw) > 0 ORDER BY id LIMIT ?`;
    let cursor = 0;
    const out = { raw: 0, batches: 0, interrupted: false };
    while (cursor < maxId) {
      if (o.stop?.()) { out.interrupted = true; break; }
      const ids = (await this.q.all<{ id: number }>(pick, cursor, maxId, cutoff, batch)).map((r) => r.id);
      if (!ids.length) break;
      cursor = ids[ids.length - 1]!;
      const list = `(${ids.map(() => '?').join(',')})`;
      out.raw += await this.q.tx((t) => t.run(`UPDATE alerts SET raw = ? WHERE id IN ${list} AND state NOT IN ${OPEN_ALERTS}`, Buffer.alloc(0), ...ids));
      out.batches++;
      await pause();
    }
    return out;
  }

  /**
   * Gives free pages back to the file system, `step` pages at a time (auto_vacuum=INCREMENTAL),
   * then a passive checkpoint so the file shrinks without waiting for readers. Returns pages freed.
   * On PostgreSQL the server's autovacuum does this: 0.
   */
  async vacuum(o: { step?: number; stop?: () => boolean; pause?: () => Promise<void> } = {}): Promise<number> {
    const db = this.db;
    if (!db || (await this.lite((d) => d.pragma('auto_vacuum', { simple: true }) as number)) !== 2) return 0;
    const step = o.step ?? 1000;
    const pause = o.pause ?? yieldToLoop;
    let freed = 0;
    for (;;) {
      if (o.stop?.()) break;
      const [before, after] = await this.lite((d) => {
        const b = d.pragma('freelist_count', { simple: true }) as number;
        if (b) d.pragma(`incremental_vacuum(${step})`);
        return [b, d.pragma('freelist_count', { simple: true }) as number];
      });
      if (!before) break;
      freed += before - after;
      if (after >= before) break;
      await pause();
    }
    if (freed) await this.lite((d) => d.pragma('wal_checkpoint(PASSIVE)'));
    return freed;
  }

  /** One whole run: history, raw messages, vacuum. */
  async prune(o: PruneOptions): Promise<PruneResult> {
    const t0 = performance.now();
    const common = { batch: o.batch ?? 500, ...(o.stop ? { stop: o.stop } : {}), ...(o.pause ? { pause: o.pause } : {}) };
    const h = o.historyMs > 0 ? await this.pruneHistory(o.now - o.historyMs, common) : { alerts: 0, related: 0, batches: 0, interrupted: false };
    const r = o.rawMs > 0 && !h.interrupted ? await this.pruneRaw(o.now - o.rawMs, common) : { raw: 0, batches: 0, interrupted: h.interrupted };
    const pagesFreed = this.db && (h.alerts || r.raw || (await this.lite((d) => d.pragma('freelist_count', { simple: true }) as number)) > 0)
      ? await this.vacuum(common) : 0;
    return {
      at: o.now, ms: Math.round(performance.now() - t0), alerts: h.alerts, related: h.related, raw: r.raw, pagesFreed,
      batches: h.batches + r.batches, interrupted: h.interrupted || r.interrupted || Boolean(o.stop?.()),
    };
  }

  /**
   * A database created before auto_vacuum=INCREMENTAL was set for new ones keeps its free pages
   * inside the file. Converting takes one VACUUM (rewrites the whole file, needs as much free disk
   * again, blocks writers meanwhile): done when the file is at most `maxBytes`, else left for the
   * operator (README: "Retention"). Not inside a transaction. PostgreSQL: nothing to convert.
   */
  convertToIncremental(maxBytes: number): 'already' | 'converted' | 'too-large' | 'memory' {
    const db = this.db;
    if (!db) return 'already';
    if (!this.file) return 'memory';
    if ((db.pragma('auto_vacuum', { simple: true }) as number) === 2) return 'already';
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    if (pageSize * pages > maxBytes) return 'too-large';
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
    return (db.pragma('auto_vacuum', { simple: true }) as number) === 2 ? 'converted' : 'too-large';
  }
}

export interface RetentionSettings {
  history: number;
  raw: number;
  interval: number;
  batch: number;
}

/**
 * The schedule: the first run shortly after start (not during it), then every interval. Runs
 * never overlap; stop() ends a run between two batches.
 */
export class RetentionLoop {
  private cancel: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  last: PruneResult | null = null;
  lastError: string | null = null;

  constructor(private readonly d: {
    store: RetentionStore;
    settings: () => RetentionSettings;
    clock: Clock;
    logger: Logger;
    /** After a run that freed something (the disk check measures again). */
    onPruned?: (r: PruneResult) => void;
    /** Delay before the first run (default: the interval, at most one minute). */
    firstDelayMs?: number;
    /** Several nodes on one database: only the node this says true on prunes (default: always). */
    leader?: () => Promise<boolean>;
  }) {}

  start(): void {
    const s = this.d.settings();
    this.schedule(this.d.firstDelayMs ?? Math.min(s.interval, 60_000));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.cancel?.();
    this.cancel = this.d.clock.setTimer(() => {
      this.cancel = null;
      const lead = this.d.leader ? this.d.leader() : Promise.resolve(true);
      this.running = lead.then((yes) => (yes ? this.runOnce() : null)).then(() => {}).finally(() => {
        this.running = null;
        this.schedule(this.d.settings().interval);
      });
    }, ms);
  }

  /** One run now (also used by tests and a future `alertline prune`). */
  async runOnce(): Promise<PruneResult | null> {
    const s = this.d.settings();
    if (s.history <= 0 && s.raw <= 0) return null;
    try {
      const r = await this.d.store.prune({ now: this.d.clock.now(), historyMs: s.history, rawMs: s.raw, batch: s.batch, stop: () => this.stopped });
      this.last = r;
      this.lastError = null;
      if (r.alerts || r.raw || r.pagesFreed) {
        this.d.logger.info('retention.pruned', { alerts: r.alerts, rows: r.related, raw: r.raw, pagesFreed: r.pagesFreed, batches: r.batches, ms: r.ms, interrupted: r.interrupted });
        this.d.onPruned?.(r);
      }
      return r;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.d.logger.error('retention.failed', { error: e as Error });
      return null;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
    await this.running?.catch(() => {});
  }
}
