/** Heartbeats (dead-man's switches): a monitor that must ping every so often, and what it last did. */
import type { Sql } from './sql/driver.js';
import { ValidationError, validateGroup } from './user-fields.js';

export interface Heartbeat {
  name: string;
  everyMs: number;
  graceMs: number;
  group: string | null;
  createdAt: number;
  lastSeenAt: number | null;
  /** While the quiet-monitor alert is raised: since when, and its alert id. */
  quietSince: number | null;
  quietAlertId: number | null;
}

interface Row {
  name: string; every_ms: number; grace_ms: number; grp: string | null; created_at: number;
  last_seen_at: number | null; quiet_since: number | null; quiet_alert_id: number | null;
}

const fromRow = (r: Row): Heartbeat => ({
  name: r.name, everyMs: r.every_ms, graceMs: r.grace_ms, group: r.grp, createdAt: r.created_at,
  lastSeenAt: r.last_seen_at, quietSince: r.quiet_since, quietAlertId: r.quiet_alert_id,
});

export function validateHeartbeatName(name: string): string {
  const n = name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(n)) throw new ValidationError(`invalid heartbeat name ${JSON.stringify(name)}: letters, digits, . _ - (at most 64)`);
  return n;
}

const COLS = 'name, every_ms, grace_ms, grp, created_at, last_seen_at, quiet_since, quiet_alert_id';

export class HeartbeatStore {
  constructor(private readonly q: Sql, private readonly now: () => number = Date.now) {}

  async add(name: string, f: { everyMs: number; graceMs: number; group?: string | null }): Promise<Heartbeat> {
    const n = validateHeartbeatName(name);
    if (!(f.everyMs >= 1000)) throw new ValidationError('--every must be at least 1s');
    if (!(f.graceMs >= 0)) throw new ValidationError('--grace must not be negative');
    const grp = f.group ? validateGroup(f.group) : null;
    if (await this.get(n)) throw new ValidationError(`heartbeat ${n} already exists`);
    (await this.q.run('INSERT INTO heartbeats (name, every_ms, grace_ms, grp, created_at) VALUES (?, ?, ?, ?, ?)', n, f.everyMs, f.graceMs, grp, this.now()));
    return (await this.get(n))!;
  }

  async get(name: string): Promise<Heartbeat | null> {
    const r = (await this.q.get(`SELECT ${COLS} FROM heartbeats WHERE name = ?`, name.trim())) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  async list(): Promise<Heartbeat[]> {
    return ((await this.q.all(`SELECT ${COLS} FROM heartbeats ORDER BY name`)) as Row[]).map(fromRow);
  }

  async remove(name: string): Promise<boolean> {
    return (await this.q.run('DELETE FROM heartbeats WHERE name = ?', name.trim())) > 0;
  }

  /** Records a ping (committed when this resolves). */
  async seen(name: string, at: number): Promise<Heartbeat | null> {
    const ch = (await this.q.run(`UPDATE heartbeats SET last_seen_at = ${this.q.greatest}(coalesce(last_seen_at, 0), ?) WHERE name = ?`, at, name.trim()));
    return ch ? this.get(name) : null;
  }

  /** Marks the monitor quiet (with its alert) or, with null, up again. Only changes what is not already so. */
  async setQuiet(name: string, quiet: { since: number; alertId: number } | null): Promise<boolean> {
    if (quiet) {
      return (await this.q.run('UPDATE heartbeats SET quiet_since = ?, quiet_alert_id = ? WHERE name = ? AND quiet_since IS NULL', quiet.since, quiet.alertId, name.trim())) > 0;
    }
    return (await this.q.run('UPDATE heartbeats SET quiet_since = NULL, quiet_alert_id = NULL WHERE name = ? AND quiet_since IS NOT NULL', name.trim())) > 0;
  }
}
