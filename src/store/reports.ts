/** What the web console's board and statistics read: calls running now, alerts and attempts in a time range. */
import type { Sql } from './sql/driver.js';

export interface RunningAttempt { alertId: number; attemptId: number; user: string; channel: string; target: string | null; startedAt: number }

export interface AlertFact {
  id: number; receivedAt: number; kind: string; state: string; severity: string | null; level: string | null; host: string | null; subject: string;
  ackAt: number | null; ackBy: string | null; resolvedAt: number | null;
}

export interface AttemptFact { alertId: number; user: string; channel: string; outcome: string | null; startedAt: number; endedAt: number | null; alertReceivedAt: number; ackAt: number | null }

export class ReportStore {
  constructor(private readonly q: Sql) {}

  /** Attempts still running (a call ringing or speaking, a message being sent). */
  async runningAttempts(): Promise<RunningAttempt[]> {
    return this.q.all<RunningAttempt>(`SELECT t.alert_id AS "alertId", t.id AS "attemptId", d.user_email AS "user", t.channel, t.target, t.started_at AS "startedAt"
      FROM attempts t JOIN deliveries d ON d.id = t.delivery_id WHERE t.ended_at IS NULL ORDER BY t.id LIMIT 500`);
  }

  /** Alerts received in [from, to), oldest first (at most `limit`). */
  async alertsBetween(from: number, to: number, limit = 100_000): Promise<AlertFact[]> {
    return this.q.all<AlertFact>(`SELECT id, received_at AS "receivedAt", kind, state, severity, level, host, subject, ack_at AS "ackAt", ack_by AS "ackBy", resolved_at AS "resolvedAt"
      FROM alerts WHERE received_at >= ? AND received_at < ? ORDER BY received_at LIMIT ?`, from, to, limit);
  }

  /** Attempts started in [from, to), with their person and their alert's arrival and acknowledgement. */
  async attemptsBetween(from: number, to: number, limit = 200_000): Promise<AttemptFact[]> {
    return this.q.all<AttemptFact>(`SELECT t.alert_id AS "alertId", d.user_email AS "user", t.channel, t.outcome, t.started_at AS "startedAt", t.ended_at AS "endedAt",
        a.received_at AS "alertReceivedAt", a.ack_at AS "ackAt"
      FROM attempts t JOIN deliveries d ON d.id = t.delivery_id JOIN alerts a ON a.id = t.alert_id
      WHERE t.started_at >= ? AND t.started_at < ? ORDER BY t.started_at LIMIT ?`, from, to, limit);
  }
}
