/**
 * Alerts and their per-recipient deliveries. An accepted mail becomes one alert row, its raw
 * message, and one delivery per recipient, in one transaction: after commit it is on disk.
 */
import type { Db } from './database.js';
import { prep } from './database.js';
import type { AlertKind, AlertState, AlertView, DeliveryState } from '../core/model.js';
export type { AlertState, DeliveryState } from '../core/model.js';
export { OPEN_ALERT_STATES, OPEN_DELIVERY_STATES } from '../core/model.js';
import type { ParsedAlert } from '../receiver/parse-alert.js';
import type { User } from './users.js';
import { decide, dedupeKey, type FilterDecision } from '../receiver/filter.js';

export interface NewAlert {
  parsed: ParsedAlert;
  raw: Buffer;
  mailFrom?: string;
  rcpt: string[];
  client?: string;
  recipients: User[];
  receivedAt: number;
  /** Channels to use instead of the user's/global order (send-test --channel). */
  plan?: string[];
}

export interface FilterSettings {
  ignore: RegExp[];
  dedupeWindowMs: number;
  notifyResolved: boolean;
}

export interface AlertRow {
  id: number; received_at: number; kind: AlertKind; subject: string; host: string | null; severity: string | null;
  event_id: string | null; problem_key: string; text: string; mail_from: string | null; rcpt: string; message_id: string | null;
  client: string | null; state: AlertState; ack_by: string | null; ack_via: string | null; ack_at: number | null;
  resolved_by: number | null; resolved_at: number | null; updated_at: number;
}

export interface DeliveryRow {
  id: number; alert_id: number; user_email: string; dedupe_key: string; state: DeliveryState; round: number; step: number;
  tries: number; next_at: number; text_only: number; plan: string | null; informed: number; result: string | null; created_at: number; updated_at: number;
}

export interface AttemptRow {
  id: number; delivery_id: number; alert_id: number; channel: string; target: string | null; round: number;
  started_at: number; ended_at: number | null; outcome: string | null; reason: string | null; detail: string | null;
}

export interface AlertEventRow { id: number; alert_id: number; at: number; kind: string; detail: string | null }

export interface InsertResult {
  id: number;
  state: AlertState;
  deliveries: { email: string; decision: FilterDecision | 'cancel' }[];
  resolvedAlerts: number[];
}

const ALERT_COLS = 'id, received_at, kind, subject, host, severity, event_id, problem_key, text, mail_from, rcpt, message_id, client, state, ack_by, ack_via, ack_at, resolved_by, resolved_at, updated_at';

export class AlertStore {
  constructor(private readonly db: Db) {}

  /**
   * Stores accepted alerts in ONE transaction (group commit) and returns what became of each.
   * The filter runs inside the transaction so duplicates within the same batch are caught.
   */
  insertBatch(batch: NewAlert[], filter: FilterSettings): InsertResult[] {
    const insertAlert = prep(this.db, `INSERT INTO alerts (received_at, kind, subject, host, severity, event_id, problem_key, text, mail_from, rcpt, message_id, client, raw, state, updated_at)
      VALUES (@received_at, @kind, @subject, @host, @severity, @event_id, @problem_key, @text, @mail_from, @rcpt, @message_id, @client, @raw, @state, @received_at)`);
    const insertDelivery = prep(this.db, `INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, text_only, plan, result, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const seen = prep(this.db, `SELECT 1 FROM deliveries WHERE user_email = ? AND dedupe_key = ? AND created_at >= ? AND state NOT IN ('suppressed', 'ignored', 'cancelled') LIMIT 1`);
    const setState = prep(this.db, 'UPDATE alerts SET state = ?, updated_at = ? WHERE id = ?');

    const run = this.db.transaction((items: NewAlert[]) => {
      const results: InsertResult[] = [];
      for (const a of items) {
        const p = a.parsed;
        const info = insertAlert.run({
          received_at: a.receivedAt, kind: p.kind, subject: p.subject, host: p.host ?? null, severity: p.severity ?? null,
          event_id: p.eventId ?? null, problem_key: p.problemKey, text: p.text, mail_from: a.mailFrom ?? null,
          rcpt: JSON.stringify(a.rcpt), message_id: p.messageId ?? null, client: a.client ?? null, raw: a.raw, state: 'pending',
        });
        const id = Number(info.lastInsertRowid);
        this.event(id, a.receivedAt, 'received', `from ${a.mailFrom || '<>'} via ${a.client ?? 'local'} for ${a.rcpt.join(', ')}`);

        let resolvedAlerts: number[] = [];
        let informedOfProblem: Set<string> | null = null;
        if (p.kind === 'resolved') {
          ({ resolvedAlerts, informed: informedOfProblem } = this.resolveProblems(p.problemKey, id, a.receivedAt));
        }

        const key = dedupeKey(p.kind, p.problemKey);
        const unique = new Map(a.recipients.map((u) => [u.email.toLowerCase(), u]));
        const deliveries: InsertResult['deliveries'] = [];
        for (const email of unique.keys()) {
          let decision: FilterDecision | 'cancel' = decide({
            subject: p.subject, ignore: filter.ignore, now: a.receivedAt, dedupeWindowMs: filter.dedupeWindowMs,
            seenSince: (since) => seen.get(email, key, since) !== undefined,
          });
          let note: string | null = null;
          if (decision === 'deliver' && p.kind === 'resolved') {
            if (!filter.notifyResolved) { decision = 'cancel'; note = 'resolved notices are off (escalation.notifyResolved)'; }
            else if (informedOfProblem && resolvedAlerts.length && !informedOfProblem.has(email)) { decision = 'cancel'; note = 'was not notified of the problem'; }
          }
          const state: DeliveryState = decision === 'deliver' ? 'queued' : decision === 'ignore' ? 'ignored' : decision === 'suppress' ? 'suppressed' : 'cancelled';
          insertDelivery.run(id, email, key, state, a.receivedAt, p.kind === 'resolved' ? 1 : 0, a.plan ? JSON.stringify(a.plan) : null, note, a.receivedAt, a.receivedAt);
          deliveries.push({ email, decision });
        }
        let state: AlertState = 'pending';
        if (deliveries.every((d) => d.decision === 'ignore')) state = 'ignored';
        else if (deliveries.every((d) => d.decision !== 'deliver')) state = deliveries.some((d) => d.decision === 'suppress') ? 'suppressed' : 'cancelled';
        if (state !== 'pending') {
          setState.run(state, a.receivedAt, id);
          this.event(id, a.receivedAt, state, deliveries.map((d) => `${d.email}: ${d.decision}`).join(', '));
        }
        results.push({ id, state, deliveries, resolvedAlerts });
      }
      return results;
    });
    return run.immediate(batch);
  }

  /** Marks open problems with this key resolved and cancels their queued deliveries. */
  private resolveProblems(problemKey: string, resolvedBy: number, now: number): { resolvedAlerts: number[]; informed: Set<string> } {
    const problems = prep(this.db, `SELECT id, state FROM alerts WHERE problem_key = ? AND kind IN ('problem', 'update') AND id <> ?`)
      .all(problemKey, resolvedBy) as { id: number; state: AlertState }[];
    const informed = new Set<string>();
    const resolvedAlerts: number[] = [];
    for (const pr of problems) {
      for (const r of prep(this.db, `SELECT DISTINCT user_email FROM deliveries WHERE alert_id = ? AND (informed = 1 OR state IN ('acknowledged','done','unacknowledged') OR EXISTS (SELECT 1 FROM attempts t WHERE t.delivery_id = deliveries.id AND t.outcome IN ('delivered','answered','acknowledged')))`).all(pr.id) as { user_email: string }[]) {
        informed.add(r.user_email.toLowerCase());
      }
      if (!(['pending', 'notifying', 'unacknowledged', 'failed', 'delivered'] as AlertState[]).includes(pr.state)) continue;
      prep(this.db, `UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ?`).run(resolvedBy, now, now, pr.id);
      prep(this.db, `UPDATE deliveries SET state = 'cancelled', result = 'problem resolved (alert ' || ? || ')', updated_at = ? WHERE alert_id = ? AND state = 'queued'`).run(resolvedBy, now, pr.id);
      this.event(pr.id, now, 'resolved', `by alert ${resolvedBy}`);
      resolvedAlerts.push(pr.id);
    }
    return { resolvedAlerts, informed };
  }

  event(alertId: number, at: number, kind: string, detail?: string): void {
    prep(this.db, 'INSERT INTO alert_events (alert_id, at, kind, detail) VALUES (?, ?, ?, ?)').run(alertId, at, kind, detail ?? null);
  }

  /**
   * Acknowledges an alert (and open alerts for the same problem sent to other people): queued
   * deliveries stop; running ones are aborted by the dispatcher when it sees the state.
   * Returns the ids acknowledged, empty when the alert was not open.
   */
  acknowledge(alertId: number, by: string, via: string, now: number): number[] {
    const run = this.db.transaction(() => {
      const a = this.get(alertId);
      if (!a) return [];
      const siblings = a.kind === 'resolved' ? [] : (prep(this.db, `SELECT id FROM alerts WHERE problem_key = ? AND kind IN ('problem','update') AND id <> ? AND state IN ('pending','notifying','unacknowledged')`)
        .all(a.problem_key, a.id) as { id: number }[]).map((r) => r.id);
      const ids: number[] = [];
      for (const id of [a.id, ...siblings]) {
        const cur = this.get(id)!;
        if (!(['pending', 'notifying', 'unacknowledged', 'delivered', 'failed'] as AlertState[]).includes(cur.state)) continue;
        prep(this.db, `UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_via = ?, ack_at = ?, updated_at = ? WHERE id = ?`).run(by, via, now, now, id);
        prep(this.db, `UPDATE deliveries SET state = 'acknowledged', result = 'acknowledged by ' || ?, updated_at = ? WHERE alert_id = ? AND state = 'queued'`).run(by, now, id);
        this.event(id, now, 'acknowledged', `by ${by} via ${via}${id !== alertId ? ` (same problem as alert ${alertId})` : ''}`);
        ids.push(id);
      }
      return ids;
    });
    return run.immediate();
  }

  get(id: number): AlertRow | null {
    return (prep(this.db, `SELECT ${ALERT_COLS} FROM alerts WHERE id = ?`).get(id) as AlertRow | undefined) ?? null;
  }

  raw(id: number): Buffer | null {
    const r = prep(this.db, 'SELECT raw FROM alerts WHERE id = ?').get(id) as { raw: Buffer } | undefined;
    return r?.raw ?? null;
  }

  view(id: number): AlertView | null {
    const a = this.get(id);
    if (!a) return null;
    return {
      id: a.id, kind: a.kind, subject: a.subject, text: a.text, receivedAt: a.received_at, raw: this.raw(id)!,
      ...(a.host ? { host: a.host } : {}), ...(a.severity ? { severity: a.severity } : {}),
      ...(a.event_id ? { eventId: a.event_id } : {}), ...(a.mail_from ? { from: a.mail_from } : {}),
    };
  }

  setState(id: number, state: AlertState, now: number): void {
    prep(this.db, 'UPDATE alerts SET state = ?, updated_at = ? WHERE id = ?').run(state, now, id);
  }

  list(limit = 50): AlertRow[] {
    return prep(this.db, `SELECT ${ALERT_COLS} FROM alerts ORDER BY id DESC LIMIT ?`).all(limit) as AlertRow[];
  }

  deliveries(alertId: number): DeliveryRow[] {
    return prep(this.db, 'SELECT * FROM deliveries WHERE alert_id = ? ORDER BY id').all(alertId) as DeliveryRow[];
  }

  attempts(alertId: number): AttemptRow[] {
    return prep(this.db, 'SELECT * FROM attempts WHERE alert_id = ? ORDER BY started_at, id').all(alertId) as AttemptRow[];
  }

  events(alertId: number): AlertEventRow[] {
    return prep(this.db, 'SELECT * FROM alert_events WHERE alert_id = ? ORDER BY at, id').all(alertId) as AlertEventRow[];
  }

  /** Latest open alert a user was sent (for "ack" without an id, e.g. an SMS reply "1"). */
  latestOpenFor(email: string): number | null {
    const r = prep(this.db, `SELECT a.id FROM alerts a JOIN deliveries d ON d.alert_id = a.id
      WHERE d.user_email = ? AND a.state IN ('pending','notifying','unacknowledged') AND a.kind <> 'resolved'
      ORDER BY a.id DESC LIMIT 1`).get(email) as { id: number } | undefined;
    return r?.id ?? null;
  }

  /** Other alerts still open for this person (merged into a call's message: "and 3 more alerts"). */
  otherOpenFor(email: string, alertId: number): number {
    return (prep(this.db, `SELECT count(DISTINCT a.id) n FROM alerts a JOIN deliveries d ON d.alert_id = a.id
      WHERE d.user_email = ? AND a.id <> ? AND a.state IN ('pending','notifying') AND a.kind NOT IN ('resolved','test')
        AND d.state IN ('queued','running')`).get(email, alertId) as { n: number }).n;
  }

  wasSentTo(alertId: number, email: string): boolean {
    return prep(this.db, 'SELECT 1 FROM deliveries WHERE alert_id = ? AND user_email = ?').get(alertId, email) !== undefined;
  }

  countByState(since = 0): Record<string, number> {
    const rows = prep(this.db, 'SELECT state, count(*) n FROM alerts WHERE received_at >= ? GROUP BY state').all(since) as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
}
