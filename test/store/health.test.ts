/**
 * Database faults counted from real SQLite errors: a read-only connection refusing a write
 * (SQLITE_READONLY) and a lock held past the busy timeout by another connection (SQLITE_BUSY) count;
 * a caller's own mistake (a constraint) does not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { databaseFault, StoreHealth, watchStores } from '../../src/store/health.js';
import { openStores, type Stores } from '../../src/store/index.js';
import { tempDir } from '../helpers/env.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0).reverse()) c(); });

function stores(): { s: Stores; dir: string } {
  const tmp = tempDir('alertline-storehealth-');
  const s = openStores(tmp.dir);
  cleanups.push(() => tmp.cleanup(), () => void s.close());
  return { s, dir: tmp.dir };
}

describe('store health', () => {
  it('classifies SQLite codes: the database failing, not the caller', () => {
    expect(databaseFault(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }))).toBe('SQLITE_IOERR_WRITE');
    expect(databaseFault(Object.assign(new Error('x'), { code: 'SQLITE_CORRUPT' }))).toBe('SQLITE_CORRUPT');
    expect(databaseFault(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBeNull();
    expect(databaseFault(Object.assign(new Error('x'), { code: 'SQLITE_IOERRX' }))).toBeNull();
    expect(databaseFault(new Error('plain'))).toBeNull();
    expect(databaseFault(null)).toBeNull();
  });

  it('counts faults of every store call (a lock held past the busy timeout), not a constraint; the stores still work', async () => {
    const { s, dir } = stores();
    const health = new StoreHealth(() => 42);
    const w = watchStores(s, health);
    await w.users.add('ana@example.com', {});
    await expect(w.users.add('ana@example.com', {})).rejects.toThrow();
    expect(health.count).toBe(0);

    s.db.pragma('busy_timeout = 50');
    const other = new Database(join(dir, 'alertline.db'));
    cleanups.push(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    await expect(w.probe(1)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    expect(health.count).toBe(1);
    expect(health.state()).toMatchObject({ errors: { SQLITE_BUSY: 1 }, last: { op: 'probe', code: 'SQLITE_BUSY', at: 42 } });
    other.exec('ROLLBACK');
    await w.probe(2);
    expect((await w.users.get('ana@example.com'))?.email).toBe('ana@example.com');
    expect(health.count).toBe(1);
  });

  it('a read-only database refuses the probe with SQLITE_READONLY', async () => {
    const { s, dir } = stores();
    await s.probe(1);
    const ro = new Database(join(dir, 'alertline.db'), { readonly: true });
    cleanups.push(() => ro.close());
    const health = new StoreHealth();
    expect(health.failed('x', (() => { try { ro.prepare('INSERT INTO store_probe (id, at) VALUES (1, 2) ON CONFLICT(id) DO UPDATE SET at = 2').run(); } catch (e) { return e; } })())).toBe(true);
    expect(Object.keys(health.state().errors)[0]).toMatch(/^SQLITE_READONLY/);
  });
});
