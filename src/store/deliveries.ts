/** The durable work queue: deliveries due for a step, and the attempts made for each. */
import type { Db } from './database.js';
import { prep } from './database.js';
import type { AlertState, AttemptRow, DeliveryRow, DeliveryState } from './rows.js';

export class DeliveryStore {
  constructor(private readonly db: Db) {}

  /** Queued deliveries whose time has come, oldest alert first (FIFO), with their alert's state. */
  async due(now: number, limit = 200): Promise<(DeliveryRow & { alert_state: AlertState; alert_level: string | null })[]> {
    return prep(this.db, `SELECT d.*, a.state AS alert_state, a.level AS alert_level FROM deliveries d JOIN alerts a ON a.id = d.alert_id
      WHERE d.state = 'queued' AND d.next_at <= ? ORDER BY d.alert_id, d.id LIMIT ?`)
      .all(now, limit) as (DeliveryRow & { alert_state: AlertState; alert_level: string | null })[];
  }

  /** Fixes the channels a delivery walks (contact rules chose them at its start). */
  async setPlan(id: number, plan: readonly string[]): Promise<void> {
    prep(this.db, 'UPDATE deliveries SET plan = ? WHERE id = ?').run(JSON.stringify(plan), id);
  }

  /** When the next queued delivery becomes due, or null. */
  async nextDueAt(): Promise<number | null> {
    const r = prep(this.db, `SELECT min(next_at) t FROM deliveries WHERE state = 'queued'`).get() as { t: number | null };
    return r.t;
  }

  async get(id: number): Promise<DeliveryRow | null> {
    return (prep(this.db, 'SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined) ?? null;
  }

  async openCount(): Promise<number> {
    return (prep(this.db, `SELECT count(*) n FROM deliveries WHERE state IN ('queued','running')`).get() as { n: number }).n;
  }

  /** Marks a delivery running and opens an attempt row, atomically. Returns the attempt id, or null if it was no longer queued. */
  async start(deliveryId: number, channel: string, target: string, now: number): Promise<number | null> {
    const run = this.db.transaction(() => {
      const ch = prep(this.db, `UPDATE deliveries SET state = 'running', updated_at = ? WHERE id = ? AND state = 'queued'`).run(now, deliveryId);
      if (!ch.changes) return null;
      const d = prep(this.db, 'SELECT * FROM deliveries WHERE id = ?').get(deliveryId) as DeliveryRow;
      const info = prep(this.db, 'INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(deliveryId, d.alert_id, channel, target, d.round, now);
      prep(this.db, `UPDATE alerts SET state = 'notifying', updated_at = ? WHERE id = ? AND state = 'pending'`).run(now, d.alert_id);
      return Number(info.lastInsertRowid);
    });
    // The phone rings right after this commit: it does not wait for an fsync (WAL,
    // synchronous=NORMAL for this one transaction; the next FULL commit syncs it too). A crash
    // of the daemon loses nothing; a power cut in those milliseconds loses the record, and the
    // delivery, still queued, is called again after the restart: a second call, never none.
    this.db.pragma('synchronous = NORMAL');
    try {
      return run.immediate();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** Records a step that was not tried (channel unhealthy, disabled mid-way) so history shows why. */
  async recordSkip(d: DeliveryRow, channel: string, target: string | null, reason: string, now: number): Promise<void> {
    prep(this.db, `INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at, ended_at, outcome, reason) VALUES (?, ?, ?, ?, ?, ?, ?, 'skipped', ?)`)
      .run(d.id, d.alert_id, channel, target, d.round, now, now, reason);
  }

  async finishAttempt(attemptId: number, o: { kind: string; reason: string; detail?: Record<string, unknown> }, now: number): Promise<void> {
    prep(this.db, 'UPDATE attempts SET ended_at = ?, outcome = ?, reason = ?, detail = ? WHERE id = ?')
      .run(now, o.kind, o.reason.slice(0, 1000), o.detail ? JSON.stringify(o.detail) : null, attemptId);
  }

  /** Puts a delivery back in the queue at a given step/round/time. Only a running or queued delivery moves. */
  async reschedule(id: number, p: { step: number; round: number; tries: number; nextAt: number; informed?: boolean }, now: number): Promise<void> {
    prep(this.db, `UPDATE deliveries SET state = 'queued', step = ?, round = ?, tries = ?, next_at = ?, informed = max(informed, ?), updated_at = ? WHERE id = ? AND state IN ('running','queued')`)
      .run(p.step, p.round, p.tries, p.nextAt, p.informed ? 1 : 0, now, id);
  }

  /**
   * Every channel that could reach the person is down: the delivery stays where it is and looks
   * again at nextAt. Returns when it started waiting: the first wait sets it and it stays, so a
   * delivery waits escalation.maxWait at most in all.
   */
  async waitForChannel(id: number, nextAt: number, now: number): Promise<number> {
    prep(this.db, `UPDATE deliveries SET next_at = ?, waiting_since = coalesce(waiting_since, ?), updated_at = ? WHERE id = ? AND state = 'queued'`).run(nextAt, now, now, id);
    const r = prep(this.db, 'SELECT waiting_since FROM deliveries WHERE id = ?').get(id) as { waiting_since: number | null } | undefined;
    return r?.waiting_since ?? now;
  }

  /**
   * Deliveries waiting for a channel to come back now (due, and waiting), and since when the oldest
   * waits; `exceptMonitor` leaves out the alerts of that monitor (the appliance's own alarms).
   */
  async waiting(now: number = Date.now(), exceptMonitor?: string): Promise<{ count: number; since: number | null }> {
    const r = (exceptMonitor === undefined
      ? prep(this.db, `SELECT count(*) n, min(waiting_since) since FROM deliveries WHERE state = 'queued' AND waiting_since IS NOT NULL AND next_at <= ? + 10000`).get(now)
      : prep(this.db, `SELECT count(*) n, min(d.waiting_since) since FROM deliveries d JOIN alerts a ON a.id = d.alert_id
          WHERE d.state = 'queued' AND d.waiting_since IS NOT NULL AND d.next_at <= ? + 10000 AND a.monitor IS NOT ?`).get(now, exceptMonitor)) as { n: number; since: number | null };
    return { count: r.n, since: r.since };
  }

  /**
   * A channel's failing streak: since when every finished attempt through it failed (technical
   * failure, no success after), and the last reason; null when its latest attempt did not fail.
   * Looks at the most recent attempts only (bounded by rowid, so it costs the same on any history).
   */
  async failingStreak(channel: string, window = 2000): Promise<{ since: number; reason: string | null; count: number } | null> {
    const rows = prep(this.db, `SELECT outcome, started_at, reason FROM attempts
      WHERE id > (SELECT coalesce(max(id), 0) FROM attempts) - ? AND channel = ? AND outcome IS NOT NULL AND outcome NOT IN ('skipped', 'interrupted')
      ORDER BY id DESC LIMIT 100`).all(window, channel) as { outcome: string; started_at: number; reason: string | null }[];
    let since: number | null = null;
    let count = 0;
    for (const r of rows) {
      if (r.outcome !== 'failed') break;
      since = r.started_at;
      count++;
    }
    return since === null ? null : { since, reason: rows[0]!.reason, count };
  }

  /** When the oldest queued delivery became due (null: nothing is due). */
  async oldestDue(now: number): Promise<number | null> {
    const r = prep(this.db, `SELECT min(next_at) t FROM deliveries WHERE state = 'queued' AND next_at <= ?`).get(now) as { t: number | null };
    return r.t;
  }

  /** Ends a delivery. Only a running/queued delivery changes (an ack or resolve that came first wins). */
  async finish(id: number, state: DeliveryState, result: string, now: number, informed = false): Promise<boolean> {
    return prep(this.db, `UPDATE deliveries SET state = ?, result = ?, informed = max(informed, ?), updated_at = ? WHERE id = ? AND state IN ('running','queued')`)
      .run(state, result, informed ? 1 : 0, now, id).changes > 0;
  }

  /** At start: attempts left open by a crash are closed as interrupted and their deliveries re-queued at the same step. */
  async recoverInterrupted(now: number): Promise<{ attempts: number; deliveries: number }> {
    const run = this.db.transaction(() => {
      const a = prep(this.db, `UPDATE attempts SET ended_at = ?, outcome = 'interrupted', reason = 'daemon stopped during the attempt' WHERE ended_at IS NULL`).run(now);
      const d = prep(this.db, `UPDATE deliveries SET state = 'queued', next_at = min(next_at, ?), updated_at = ? WHERE state = 'running'`).run(now, now);
      return { attempts: a.changes, deliveries: d.changes };
    });
    return run.immediate();
  }

  async attemptsOf(deliveryId: number): Promise<AttemptRow[]> {
    return prep(this.db, 'SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id').all(deliveryId) as AttemptRow[];
  }

  /** Calls placed to a user since a time over the given (voice) channels (rate limit). */
  async callsSince(email: string, since: number, channels: readonly string[]): Promise<number> {
    if (!channels.length) return 0;
    return (prep(this.db, `SELECT count(*) n FROM attempts t JOIN deliveries d ON d.id = t.delivery_id
      WHERE d.user_email = ? AND t.channel IN (${channels.map(() => '?').join(', ')}) AND t.started_at >= ? AND t.outcome IS NOT 'skipped'`).get(email, ...channels, since) as { n: number }).n;
  }

}
