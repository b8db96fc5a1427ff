/** The durable work queue: deliveries due for a step, and the attempts made for each. */
import type { Db } from './database.js';
import type { AttemptRow, DeliveryRow, DeliveryState } from './alerts.js';
import type { Outcome } from '../channels/channel.js';

export class DeliveryStore {
  constructor(private readonly db: Db) {}

  /** Queued deliveries whose time has come, oldest alert first (FIFO). */
  due(now: number, limit = 200): DeliveryRow[] {
    return this.db
      .prepare(`SELECT * FROM deliveries WHERE state = 'queued' AND next_at <= ? ORDER BY alert_id, id LIMIT ?`)
      .all(now, limit) as DeliveryRow[];
  }

  /** When the next queued delivery becomes due, or null. */
  nextDueAt(): number | null {
    const r = this.db.prepare(`SELECT min(next_at) t FROM deliveries WHERE state = 'queued'`).get() as { t: number | null };
    return r.t;
  }

  get(id: number): DeliveryRow | null {
    return (this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined) ?? null;
  }

  openCount(): number {
    return (this.db.prepare(`SELECT count(*) n FROM deliveries WHERE state IN ('queued','running')`).get() as { n: number }).n;
  }

  /** Marks a delivery running and opens an attempt row, atomically. Returns the attempt id, or null if it was no longer queued. */
  start(deliveryId: number, channel: string, target: string, now: number): number | null {
    const run = this.db.transaction(() => {
      const ch = this.db.prepare(`UPDATE deliveries SET state = 'running', updated_at = ? WHERE id = ? AND state = 'queued'`).run(now, deliveryId);
      if (!ch.changes) return null;
      const d = this.get(deliveryId)!;
      const info = this.db
        .prepare('INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(deliveryId, d.alert_id, channel, target, d.round, now);
      this.db.prepare(`UPDATE alerts SET state = 'notifying', updated_at = ? WHERE id = ? AND state = 'pending'`).run(now, d.alert_id);
      return Number(info.lastInsertRowid);
    });
    return run.immediate();
  }

  /** Records a step that was not tried (channel unhealthy, disabled mid-way) so history shows why. */
  recordSkip(d: DeliveryRow, channel: string, target: string | null, reason: string, now: number): void {
    this.db
      .prepare(`INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at, ended_at, outcome, reason) VALUES (?, ?, ?, ?, ?, ?, ?, 'skipped', ?)`)
      .run(d.id, d.alert_id, channel, target, d.round, now, now, reason);
  }

  finishAttempt(attemptId: number, o: Outcome | { kind: string; reason: string; detail?: Record<string, unknown> }, now: number): void {
    this.db
      .prepare('UPDATE attempts SET ended_at = ?, outcome = ?, reason = ?, detail = ? WHERE id = ?')
      .run(now, o.kind, o.reason.slice(0, 1000), o.detail ? JSON.stringify(o.detail) : null, attemptId);
  }

  /** Puts a delivery back in the queue at a given step/round/time. Only a running or queued delivery moves. */
  reschedule(id: number, p: { step: number; round: number; tries: number; nextAt: number; informed?: boolean }, now: number): void {
    this.db
      .prepare(`UPDATE deliveries SET state = 'queued', step = ?, round = ?, tries = ?, next_at = ?, informed = max(informed, ?), updated_at = ? WHERE id = ? AND state IN ('running','queued')`)
      .run(p.step, p.round, p.tries, p.nextAt, p.informed ? 1 : 0, now, id);
  }

  /** Ends a delivery. Only a running/queued delivery changes (an ack or resolve that came first wins). */
  finish(id: number, state: DeliveryState, result: string, now: number, informed = false): boolean {
    return this.db
      .prepare(`UPDATE deliveries SET state = ?, result = ?, informed = max(informed, ?), updated_at = ? WHERE id = ? AND state IN ('running','queued')`)
      .run(state, result, informed ? 1 : 0, now, id).changes > 0;
  }

  /** At start: attempts left open by a crash are closed as interrupted and their deliveries re-queued at the same step. */
  recoverInterrupted(now: number): { attempts: number; deliveries: number } {
    const run = this.db.transaction(() => {
      const a = this.db.prepare(`UPDATE attempts SET ended_at = ?, outcome = 'interrupted', reason = 'daemon stopped during the attempt' WHERE ended_at IS NULL`).run(now);
      const d = this.db.prepare(`UPDATE deliveries SET state = 'queued', next_at = min(next_at, ?), updated_at = ? WHERE state = 'running'`).run(now, now);
      return { attempts: a.changes, deliveries: d.changes };
    });
    return run.immediate();
  }

  attemptsOf(deliveryId: number): AttemptRow[] {
    return this.db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id').all(deliveryId) as AttemptRow[];
  }

  /** Voice calls placed to a user since a time (rate limit). */
  callsSince(email: string, since: number): number {
    return (this.db.prepare(`SELECT count(*) n FROM attempts t JOIN deliveries d ON d.id = t.delivery_id
      WHERE d.user_email = ? AND t.channel IN ('voip','gsm') AND t.started_at >= ? AND t.outcome IS NOT 'skipped'`).get(email, since) as { n: number }).n;
  }
}
