/**
 * What the HTTP API reads beyond the other stores: alerts filtered by state, the change feed the
 * event stream polls (alerts by updated_at, attempts by id and end time), the counts /metrics
 * exports, and resolving an alert by hand. Rows and SQL only.
 */
import type { Sql } from './sql/driver.js';
import { signalChange } from './sql/driver.js';
import type { AlertRow, AlertState, AttemptRow } from './rows.js';

const ALERT_COLS = 'id, received_at, kind, subject, host, severity, event_id, problem_key, text, mail_from, rcpt, message_id, client, state, ack_by, ack_via, ack_at, resolved_by, resolved_at, updated_at, level, sentence, monitor';

function inList(states: readonly string[]): string {
  return `(${states.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')})`;
}

export interface AlertChange { id: number; state: AlertState; kind: string; subject: string; updatedAt: number }
export interface AttemptChange { id: number; alertId: number; deliveryId: number; channel: string; target: string | null; round: number; startedAt: number; endedAt: number | null; outcome: string | null; reason: string | null }

export class ChangeStore {
  constructor(private readonly q: Sql) {}

  async listAlerts(opts: { states?: readonly AlertState[]; limit: number; beforeId?: number }): Promise<AlertRow[]> {
    const where: string[] = [];
    const args: number[] = [];
    if (opts.states?.length) where.push(`state IN ${inList(opts.states)}`);
    if (opts.beforeId !== undefined) { where.push('id < ?'); args.push(opts.beforeId); }
    return (await this.q.all(`SELECT ${ALERT_COLS} FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, ...args, opts.limit)) as AlertRow[];
  }

  /** The cursor the feed starts from: now, so a new subscriber sees changes from here on. */
  async cursor(): Promise<{ alertsAt: number; attemptId: number; endedAt: number }> {
    const a = (await this.q.get('SELECT coalesce(max(updated_at), 0) AS t FROM alerts')) as { t: number };
    const t = (await this.q.get('SELECT coalesce(max(id), 0) AS id, coalesce(max(ended_at), 0) AS e FROM attempts')) as { id: number; e: number };
    return { alertsAt: a.t, attemptId: t.id, endedAt: t.e };
  }

  /** Alerts changed at or after `since` (the caller drops what it already sent at the boundary). */
  async alertsChangedSince(since: number, limit = 2000): Promise<AlertChange[]> {
    return ((await this.q.all('SELECT id, state, kind, subject, updated_at FROM alerts WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?', since, limit)) as
      { id: number; state: AlertState; kind: string; subject: string; updated_at: number }[])
      .map((r) => ({ id: r.id, state: r.state, kind: r.kind, subject: r.subject, updatedAt: r.updated_at }));
  }

  /** Attempts started after id `afterId`, or ended at or after `endedSince`. */
  async attemptsChangedSince(afterId: number, endedSince: number, limit = 2000): Promise<AttemptChange[]> {
    const rows = (await this.q.all(`SELECT * FROM attempts WHERE id > ? UNION SELECT * FROM attempts WHERE ended_at >= ? ORDER BY id LIMIT ?`, afterId, endedSince, limit)) as AttemptRow[];
    return rows.map((t) => ({
      id: t.id, alertId: t.alert_id, deliveryId: t.delivery_id, channel: t.channel, target: t.target, round: t.round,
      startedAt: t.started_at, endedAt: t.ended_at, outcome: t.outcome, reason: t.reason,
    }));
  }

  async alertCounts(): Promise<{ state: string; kind: string; n: number }[]> {
    return (await this.q.all('SELECT state, kind, count(*) AS n FROM alerts GROUP BY state, kind')) as { state: string; kind: string; n: number }[];
  }

  async attemptCounts(): Promise<{ channel: string; outcome: string; n: number }[]> {
    return (await this.q.all(`SELECT channel, coalesce(outcome, 'running') AS outcome, count(*) AS n FROM attempts GROUP BY channel, outcome`)) as { channel: string; outcome: string; n: number }[];
  }

  /** The earliest due time among queued deliveries, or null. */
  async oldestDue(): Promise<number | null> {
    return ((await this.q.get(`SELECT min(next_at) AS t FROM deliveries WHERE state = 'queued'`)) as { t: number | null }).t;
  }

  /**
   * Resolves an alert by hand (API, web): only from `fromStates`; its queued deliveries are
   * cancelled and the history says who. True when it moved.
   */
  async resolveByHand(id: number, by: string, via: string, now: number, fromStates: readonly AlertState[]): Promise<boolean> {
    return this.q.tx(async (t) => {
      const ch = (await t.run(`UPDATE alerts SET state = 'resolved', resolved_at = ?, updated_at = ? WHERE id = ? AND state IN ${inList(fromStates)}`, now, now, id));
      if (!ch) return false;
      await t.run(`UPDATE deliveries SET state = 'cancelled', result = ?, updated_at = ? WHERE alert_id = ? AND state = 'queued'`, `resolved by ${by}`, now, id);
      (await t.run('INSERT INTO alert_events (alert_id, at, kind, detail) VALUES (?, ?, ?, ?)', id, now, 'resolved', `by ${by} via ${via}`));
      await signalChange(t, `resolved ${id}`);
      return true;
    });
  }
}
