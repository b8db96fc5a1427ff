/**
 * Moving a box's data between engines (`alertline migrate-store --from sqlite --to postgres`):
 * every table, row for row with its ids, into an empty migrated target, in one transaction
 * there, then the id sequences moved past the copied ids. The daemon must be stopped (nothing
 * may change the source meanwhile); the source is only read.
 */
import type { Stores } from './index.js';
import type { Param } from './sql/driver.js';

/** Tables in foreign-key order (parents first). Tables a later migration adds are copied after these. */
const ORDER = ['users', 'settings', 'groups', 'alerts', 'deliveries', 'attempts', 'alert_events', 'alert_policies',
  'schedules', 'schedule_layers', 'schedule_overrides', 'policies', 'routes', 'silences', 'api_tokens', 'heartbeats'];
/** What belongs to the running daemons, not to the data: not copied. */
const SKIP = new Set(['daemon_status', 'nodes', 'alertline_schema']);

export class CopyError extends Error {}

async function tables(s: Stores): Promise<string[]> {
  const rows = s.engine === 'sqlite'
    ? await s.sql.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
    : await s.sql.all<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`);
  return rows.map((r) => r.name);
}

async function columns(s: Stores, table: string): Promise<string[]> {
  if (s.engine === 'sqlite') return (await s.sql.all<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, table)).map((r) => r.name);
  return (await s.sql.all<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table)).map((r) => r.name);
}

export interface CopyResult { tables: { table: string; rows: number }[] }

export async function copyStore(from: Stores, to: Stores, o: { batch?: number; progress?: (table: string, rows: number) => void } = {}): Promise<CopyResult> {
  const batch = o.batch ?? 500;
  const src = await tables(from);
  const dst = new Set(await tables(to));
  const fromVersion = (await from.stats()).schemaVersion;
  const toVersion = (await to.stats()).schemaVersion;
  if (fromVersion !== toVersion) throw new CopyError(`schema versions differ (source ${fromVersion}, target ${toVersion}): run the same alertline on both`);
  const list = [...ORDER.filter((t) => src.includes(t)), ...src.filter((t) => !ORDER.includes(t) && !SKIP.has(t)).sort()];
  for (const t of list) {
    if (!dst.has(t)) throw new CopyError(`the target has no table ${t}`);
    const n = await to.sql.get<{ n: number }>(`SELECT count(*) AS n FROM ${t}`);
    if (n && n.n > 0) throw new CopyError(`the target is not empty (${t} has ${n.n} rows): give it an empty database`);
  }
  const out: CopyResult = { tables: [] };
  await to.sql.tx(async (t) => {
    for (const table of list) {
      const have = new Set(await columns(to, table));
      const cols = (await columns(from, table)).filter((c) => have.has(c));
      const hasId = cols.includes('id');
      let rows = 0;
      let last: number | null = null;
      let offset = 0;
      for (;;) {
        // By id where there is one (stable and cheap), else by position.
        const page: Record<string, Param>[] = hasId
          ? await from.sql.all<Record<string, Param>>(`SELECT ${cols.join(', ')} FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`, last ?? -1, batch)
          : await from.sql.all<Record<string, Param>>(`SELECT ${cols.join(', ')} FROM ${table} LIMIT ? OFFSET ?`, batch, offset);
        if (!page.length) break;
        for (const r of page) {
          await t.run(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, ...cols.map((c) => r[c] ?? null));
        }
        rows += page.length;
        offset += page.length;
        if (hasId) last = Number(page[page.length - 1]!.id);
        o.progress?.(table, rows);
      }
      if (hasId && t.dialect === 'postgres') {
        await t.get(`SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT coalesce(max(id), 0) + 1 FROM ${table}), false) AS v`, table);
      }
      out.tables.push({ table, rows });
    }
  });
  return out;
}
