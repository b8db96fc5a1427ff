/**
 * Applying the migrations on PostgreSQL: alertline_schema holds how many have run (SQLite keeps it
 * in user_version). Every node runs this at start; an advisory lock held to the commit makes the
 * others wait and then find nothing left to do. DDL is transactional there: a failed migration
 * leaves the schema as it was.
 */
import { migrationsFor } from '../migrations.js';
import type { SqlDriver } from './driver.js';

export async function migratePostgres(sql: SqlDriver): Promise<number> {
  const steps = migrationsFor('postgres');
  return sql.tx(async (t) => {
    await t.run("SELECT pg_advisory_xact_lock(hashtext('alertline:migrate'))");
    await t.exec('CREATE TABLE IF NOT EXISTS alertline_schema (version BIGINT NOT NULL)');
    let v = (await t.get<{ v: number | null }>('SELECT max(version) AS v FROM alertline_schema'))?.v ?? 0;
    if (v > steps.length) throw new Error(`the database schema is version ${v}, newer than this alertline (${steps.length}): upgrade alertline on this node`);
    for (; v < steps.length; v++) {
      await t.exec(steps[v]!);
      await t.run('DELETE FROM alertline_schema');
      await t.run('INSERT INTO alertline_schema (version) VALUES (?)', v + 1);
    }
    return v;
  });
}
