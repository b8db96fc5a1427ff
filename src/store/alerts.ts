/**
 * Alerts and their per-recipient deliveries: rows and SQL only. An accepted message becomes one
 * alert row, its raw bytes and one delivery per recipient, in one transaction; what each delivery
 * becomes (queued, suppressed, ...) is decided by the caller's admission rules, given the facts
 * this store reads inside that transaction.
 */
import type { Db } from './database.js';
import { prep } from './database.js';
import type { AdmitDecide, AdmitFacts, AdmitInput, AdmitResult, AlertEventRow, AlertRow, AlertState, AttemptRow, DeliveryRow } from './rows.js';

export type * from './rows.js';

const ALERT_COLS = 'id, received_at, kind, subject, host, severity, event_id, problem_key, text, mail_from, rcpt, message_id, client, state, ack_by, ack_via, ack_at, resolved_by, resolved_at, updated_at, level, sentence, monitor, silenced_until';
/** Delivery states that say the person was not actually sent the alert. */
const NOT_SENT = `('suppressed', 'ignored', 'cancelled', 'silenced')`;
/** How many earlier alerts of one problem admission looks at. */
const PROBLEM_HISTORY = 50;

function inList(states: readonly string[]): string {
  return `(${states.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')})`;
}

export class AlertStore {
  constructor(private readonly db: Db) {}

  /**
   * Stores accepted alerts in ONE transaction (group commit) and returns what became of each.
   * Admission runs inside the transaction so duplicates within the same batch are caught.
   */
  async admitBatch(batch: AdmitInput[], decide: AdmitDecide): Promise<AdmitResult[]> {
    return this.admitBatchSync(batch, decide);
  }

  private admitBatchSync(batch: AdmitInput[], decide: AdmitDecide): AdmitResult[] {
    const insertAlert = prep(this.db, `INSERT INTO alerts (received_at, kind, subject, host, severity, level, sentence, monitor, event_id, problem_key, text, mail_from, rcpt, message_id, client, raw, state, updated_at)
      VALUES (@received_at, @kind, @subject, @host, @severity, @level, @sentence, @monitor, @event_id, @problem_key, @text, @mail_from, @rcpt, @message_id, @client, @raw, 'pending', @received_at)`);
    const insertDelivery = prep(this.db, `INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, text_only, plan, result, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const lastSent = prep(this.db, `SELECT d.created_at at, a.level FROM deliveries d JOIN alerts a ON a.id = d.alert_id
      WHERE d.user_email = ? AND d.dedupe_key = ? AND d.state NOT IN ${NOT_SENT} ORDER BY d.created_at DESC LIMIT 1`);
    // One index range per kind, each already in id order (the index ends in the rowid), so a
    // problem with thousands of earlier alerts costs PROBLEM_HISTORY rows, not a sort of all of them.
    const problems = prep(this.db, `SELECT * FROM (SELECT id, state, received_at, resolved_at, level FROM alerts
        WHERE problem_key = @key AND kind = 'problem' AND id <> @id ORDER BY id DESC LIMIT ${PROBLEM_HISTORY})
      UNION ALL SELECT * FROM (SELECT id, state, received_at, resolved_at, level FROM alerts
        WHERE problem_key = @key AND kind = 'update' AND id <> @id ORDER BY id DESC LIMIT ${PROBLEM_HISTORY})
      ORDER BY id DESC LIMIT ${PROBLEM_HISTORY}`);
    const informed = prep(this.db, `SELECT DISTINCT alert_id, user_email FROM deliveries WHERE alert_id IN (SELECT value FROM json_each(?)) AND (informed = 1 OR state IN ('acknowledged','done','unacknowledged')
      OR EXISTS (SELECT 1 FROM attempts t WHERE t.delivery_id = deliveries.id AND t.outcome IN ('delivered','answered','acknowledged')))`);

    const run = this.db.transaction((items: AdmitInput[]) => items.map((input) => {
      const a = input.alert;
      const id = Number(insertAlert.run({
        received_at: a.receivedAt, kind: a.kind, subject: a.subject, host: a.host, severity: a.severity, level: a.level,
        sentence: a.sentence, monitor: a.monitor, event_id: a.eventId, problem_key: a.problemKey, text: a.text,
        mail_from: a.mailFrom, rcpt: JSON.stringify(a.rcpt), message_id: a.messageId, client: a.client, raw: a.raw,
      }).lastInsertRowid);
      this.eventSync(id, a.receivedAt, 'received', `from ${a.mailFrom || '<>'} via ${a.client ?? 'local'} for ${a.rcpt.join(', ')}`);

      const rows = problems.all({ key: a.problemKey, id }) as { id: number; state: AlertState; received_at: number; resolved_at: number | null; level: string | null }[];
      // Who was informed of each earlier problem matters only to a recovery: read on first use, in one query.
      let informedBy: Map<number, string[]> | null = null;
      const informedOf = (pid: number): string[] => {
        if (!informedBy) {
          informedBy = new Map(rows.map((r) => [r.id, [] as string[]]));
          for (const r of informed.all(JSON.stringify(rows.map((p) => p.id))) as { alert_id: number; user_email: string }[]) {
            informedBy.get(r.alert_id)!.push(r.user_email.toLowerCase());
          }
        }
        return informedBy.get(pid)!;
      };
      const facts: AdmitFacts = {
        problems: rows.map((p) => ({
          id: p.id, state: p.state, receivedAt: p.received_at, resolvedAt: p.resolved_at, level: p.level,
          get informed() { return informedOf(p.id); },
        })),
        lastSent: new Map(input.recipients.map((email) => [email, (lastSent.get(email, input.dedupeKey) as { at: number; level: string | null } | undefined) ?? null])),
      };
      const plan = decide(input, facts);

      const resolved: number[] = [];
      for (const pid of plan.resolve) {
        const ch = prep(this.db, `UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ? AND state <> 'resolved'`).run(id, a.receivedAt, a.receivedAt, pid);
        if (!ch.changes) continue;
        prep(this.db, `UPDATE deliveries SET state = 'cancelled', result = 'problem resolved (alert ' || ? || ')', updated_at = ? WHERE alert_id = ? AND state = 'queued'`).run(id, a.receivedAt, pid);
        this.eventSync(pid, a.receivedAt, 'resolved', `by alert ${id}`);
        resolved.push(pid);
      }
      const acknowledged = plan.acknowledge ? this.ackSync(plan.acknowledge.ids, plan.acknowledge.by, plan.acknowledge.via, a.receivedAt, `alert ${id}`) : [];

      const plannedJson = input.plan ? JSON.stringify(input.plan) : null;
      for (const d of plan.deliveries) {
        insertDelivery.run(id, d.email, input.dedupeKey, d.state, a.receivedAt, d.textOnly ? 1 : 0, plannedJson, d.note, a.receivedAt, a.receivedAt);
      }
      if (plan.alertState !== 'pending') {
        prep(this.db, 'UPDATE alerts SET state = ?, updated_at = ? WHERE id = ?').run(plan.alertState, a.receivedAt, id);
        this.eventSync(id, a.receivedAt, plan.alertState, plan.note ?? '');
      }
      if (plan.alertState === 'silenced' && input.silence) {
        prep(this.db, 'UPDATE alerts SET silenced_until = ? WHERE id = ?').run(input.silence.until, id);
      }
      for (const p of plan.alertState === 'pending' || plan.alertState === 'silenced' ? input.policies ?? [] : []) {
        prep(this.db, `INSERT INTO alert_policies (alert_id, policy, definition, started_at, done, next_at) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(id, p.name, p.definition, p.startedAt, JSON.stringify(p.done), plan.alertState === 'silenced' ? input.silence?.until ?? p.nextAt : p.nextAt);
        this.eventSync(id, a.receivedAt, 'policy', `escalation policy ${p.name}`);
      }
      return { id, state: plan.alertState, deliveries: plan.deliveries.map((d) => ({ email: d.email, state: d.state })), resolved, acknowledged } satisfies AdmitResult;
    }));
    return run.immediate(batch);
  }

  /**
   * History for an alert that went out before it could be stored (the appliance's own alarm while
   * the database failed, sent straight through a channel): its row, one delivery per person and
   * the attempts as they happened, in one transaction. It is stored open ('delivered' when someone
   * was reached, else 'failed'), so its resolved notice later finds it like any problem's.
   */
  async recordSent(input: AdmitInput, attempts: readonly { email: string; channel: string; target: string; startedAt: number; endedAt: number; outcome: string; reason: string }[], note: string): Promise<number> {
    const reached = new Set(attempts.filter((t) => ['delivered', 'answered', 'acknowledged'].includes(t.outcome)).map((t) => t.email.toLowerCase()));
    const run = this.db.transaction(() => {
      const a = input.alert;
      const state: AlertState = reached.size ? 'delivered' : 'failed';
      const end = Math.max(a.receivedAt, ...attempts.map((t) => t.endedAt));
      const id = Number(prep(this.db, `INSERT INTO alerts (received_at, kind, subject, host, severity, level, sentence, monitor, event_id, problem_key, text, mail_from, rcpt, message_id, client, raw, state, updated_at)
        VALUES (@received_at, @kind, @subject, @host, @severity, @level, @sentence, @monitor, @event_id, @problem_key, @text, @mail_from, @rcpt, @message_id, @client, @raw, @state, @updated_at)`).run({
        received_at: a.receivedAt, kind: a.kind, subject: a.subject, host: a.host, severity: a.severity, level: a.level,
        sentence: a.sentence, monitor: a.monitor, event_id: a.eventId, problem_key: a.problemKey, text: a.text,
        mail_from: a.mailFrom, rcpt: JSON.stringify(a.rcpt), message_id: a.messageId, client: a.client, raw: a.raw, state, updated_at: end,
      }).lastInsertRowid);
      this.eventSync(id, a.receivedAt, 'received', `raised by ${a.client ?? 'the appliance'} for ${a.rcpt.join(', ')}`);
      this.eventSync(id, a.receivedAt, 'sent-unstored', note);
      for (const email of input.recipients) {
        const mine = attempts.filter((t) => t.email.toLowerCase() === email);
        const ok = reached.has(email);
        const d = Number(prep(this.db, `INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, text_only, informed, result, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`)
          .run(id, email, input.dedupeKey, ok ? 'done' : 'failed', a.receivedAt, ok ? 1 : 0, ok ? 'sent before it could be stored' : 'no channel reached them', a.receivedAt, end).lastInsertRowid);
        for (const t of mine) {
          prep(this.db, 'INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at, ended_at, outcome, reason) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)')
            .run(d, id, t.channel, t.target, t.startedAt, t.endedAt, t.outcome, t.reason.slice(0, 1000));
        }
      }
      this.eventSync(id, end, state, reached.size ? `reached ${[...reached].join(', ')}` : 'reached nobody');
      return id;
    });
    return run.immediate();
  }

  private eventSync(alertId: number, at: number, kind: string, detail?: string): void {
    prep(this.db, 'INSERT INTO alert_events (alert_id, at, kind, detail) VALUES (?, ?, ?, ?)').run(alertId, at, kind, detail || null);
  }

  async event(alertId: number, at: number, kind: string, detail?: string): Promise<void> {
    this.eventSync(alertId, at, kind, detail);
  }

  /** Marks alerts acknowledged and stops their queued deliveries; returns the ids that changed. */
  private ackSync(ids: number[], by: string, via: string, now: number, cause?: string, fromStates?: readonly AlertState[]): number[] {
    const from = fromStates ?? ['pending', 'notifying', 'unacknowledged', 'delivered', 'failed'];
    const done: number[] = [];
    for (const id of ids) {
      const ch = prep(this.db, `UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_via = ?, ack_at = ?, updated_at = ? WHERE id = ? AND state IN ${inList(from)}`).run(by, via, now, now, id);
      if (!ch.changes) continue;
      prep(this.db, `UPDATE deliveries SET state = 'acknowledged', result = 'acknowledged by ' || ?, updated_at = ? WHERE alert_id = ? AND state = 'queued'`).run(by, now, id);
      this.eventSync(id, now, 'acknowledged', `by ${by} via ${via}${cause ? ` (${cause})` : ''}`);
      done.push(id);
    }
    return done;
  }

  /**
   * Acknowledges an alert, and with `siblingStates` the other alerts of its problem in those states
   * (sent to other people), atomically. Only alerts in `fromStates` change. Returns the ids acknowledged.
   */
  async acknowledge(req: { alertId: number; by: string; via: string; now: number; fromStates: readonly AlertState[]; siblingStates: readonly AlertState[] | null }): Promise<number[]> {
    const run = this.db.transaction(() => {
      const a = this.getSync(req.alertId);
      if (!a) return [];
      const siblings = req.siblingStates
        ? (prep(this.db, `SELECT id FROM alerts WHERE problem_key = ? AND kind IN ('problem','update') AND id <> ? AND state IN ${inList(req.siblingStates)}`)
          .all(a.problem_key, a.id) as { id: number }[]).map((r) => r.id)
        : [];
      const mine = this.ackSync([a.id], req.by, req.via, req.now, undefined, req.fromStates);
      const others = this.ackSync(siblings, req.by, req.via, req.now, `same problem as alert ${a.id}`, req.fromStates);
      return [...mine, ...others];
    });
    return run.immediate();
  }

  private getSync(id: number): AlertRow | null {
    return (prep(this.db, `SELECT ${ALERT_COLS} FROM alerts WHERE id = ?`).get(id) as AlertRow | undefined) ?? null;
  }

  async get(id: number): Promise<AlertRow | null> {
    return this.getSync(id);
  }

  async raw(id: number): Promise<Buffer | null> {
    const r = prep(this.db, 'SELECT raw FROM alerts WHERE id = ?').get(id) as { raw: Buffer } | undefined;
    return r?.raw ?? null;
  }

  /** Moves an alert to `state` only from one of `fromStates`; true when it moved. */
  async setState(id: number, state: AlertState, now: number, fromStates: readonly AlertState[]): Promise<boolean> {
    return prep(this.db, `UPDATE alerts SET state = ?, updated_at = ? WHERE id = ? AND state IN ${inList(fromStates)}`).run(state, now, id).changes > 0;
  }

  async list(limit = 50): Promise<AlertRow[]> {
    return prep(this.db, `SELECT ${ALERT_COLS} FROM alerts ORDER BY id DESC LIMIT ?`).all(limit) as AlertRow[];
  }

  async deliveries(alertId: number): Promise<DeliveryRow[]> {
    return prep(this.db, 'SELECT * FROM deliveries WHERE alert_id = ? ORDER BY id').all(alertId) as DeliveryRow[];
  }

  async attempts(alertId: number): Promise<AttemptRow[]> {
    return prep(this.db, 'SELECT * FROM attempts WHERE alert_id = ? ORDER BY started_at, id').all(alertId) as AttemptRow[];
  }

  async events(alertId: number): Promise<AlertEventRow[]> {
    return prep(this.db, 'SELECT * FROM alert_events WHERE alert_id = ? ORDER BY at, id').all(alertId) as AlertEventRow[];
  }

  /** Latest alert in one of `states` a user was sent (for "ack" without an id, e.g. an SMS reply "1"). */
  async latestFor(email: string, states: readonly AlertState[]): Promise<number | null> {
    const r = prep(this.db, `SELECT a.id FROM alerts a JOIN deliveries d ON d.alert_id = a.id
      WHERE d.user_email = ? AND a.state IN ${inList(states)} AND a.kind NOT IN ('resolved', 'ack')
      ORDER BY a.id DESC LIMIT 1`).get(email) as { id: number } | undefined;
    return r?.id ?? null;
  }

  /** Other alerts still being notified to this person (merged into a call's message: "and 3 more alerts"). */
  async otherOpenFor(email: string, alertId: number): Promise<number> {
    return (prep(this.db, `SELECT count(DISTINCT a.id) n FROM alerts a JOIN deliveries d ON d.alert_id = a.id
      WHERE d.user_email = ? AND a.id <> ? AND a.state IN ('pending','notifying') AND a.kind NOT IN ('resolved','test','ack')
        AND d.state IN ('queued','running')`).get(email, alertId) as { n: number }).n;
  }

  /** Alerts acknowledged at or before `before`, still not resolved, whose acknowledger was not reminded yet. */
  async ackTimedOut(before: number, limit = 50): Promise<AlertRow[]> {
    return prep(this.db, `SELECT ${ALERT_COLS} FROM alerts a WHERE state = 'acknowledged' AND ack_at IS NOT NULL AND ack_at <= ?
      AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = a.id AND e.kind = 'ack-reminder') ORDER BY id LIMIT ?`).all(before, limit) as AlertRow[];
  }

  /** Alerts held by a silence that ended by `now`, still silenced. */
  async silenceEnded(now: number, limit = 100): Promise<AlertRow[]> {
    return prep(this.db, `SELECT ${ALERT_COLS} FROM alerts WHERE state = 'silenced' AND silenced_until IS NOT NULL AND silenced_until <= ? ORDER BY id LIMIT ?`).all(now, limit) as AlertRow[];
  }

  /**
   * The silence over this alert ended: it becomes pending and its silenced deliveries queued,
   * atomically, unless its problem was resolved meanwhile (then it is resolved too).
   */
  async releaseSilenced(alertId: number, now: number): Promise<'released' | 'resolved' | 'not-silenced'> {
    const run = this.db.transaction(() => {
      const a = this.getSync(alertId);
      if (!a || a.state !== 'silenced') return 'not-silenced' as const;
      const resolved = prep(this.db, `SELECT id FROM alerts WHERE problem_key = ? AND kind = 'resolved' AND id > ? LIMIT 1`).get(a.problem_key, a.id) as { id: number } | undefined;
      if (resolved) {
        prep(this.db, `UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ?`).run(resolved.id, now, now, a.id);
        prep(this.db, `UPDATE deliveries SET state = 'cancelled', result = 'resolved while silenced', updated_at = ? WHERE alert_id = ? AND state = 'silenced'`).run(now, a.id);
        this.eventSync(a.id, now, 'resolved', `while silenced, by alert ${resolved.id}`);
        return 'resolved' as const;
      }
      prep(this.db, `UPDATE alerts SET state = 'pending', updated_at = ? WHERE id = ?`).run(now, a.id);
      prep(this.db, `UPDATE deliveries SET state = 'queued', next_at = ?, result = NULL, updated_at = ? WHERE alert_id = ? AND state = 'silenced'`).run(now, now, a.id);
      this.eventSync(a.id, now, 'unsilenced', 'the silence ended and the problem is still open: delivering now');
      return 'released' as const;
    });
    return run.immediate();
  }

  /** Resolves an alert by a person's word (key 9, SMS "12r", CLI, API): queued deliveries stop. */
  async resolveByPerson(req: { alertId: number; by: string; via: string; now: number; fromStates: readonly AlertState[] }): Promise<boolean> {
    const run = this.db.transaction(() => {
      const ch = prep(this.db, `UPDATE alerts SET state = 'resolved', resolved_at = ?, updated_at = ? WHERE id = ? AND state IN ${inList(req.fromStates)}`).run(req.now, req.now, req.alertId);
      if (!ch.changes) return false;
      prep(this.db, `UPDATE deliveries SET state = 'cancelled', result = 'resolved by ' || ?, updated_at = ? WHERE alert_id = ? AND state = 'queued'`).run(req.by, req.now, req.alertId);
      prep(this.db, `UPDATE alert_policies SET ended = 1 WHERE alert_id = ?`).run(req.alertId);
      this.eventSync(req.alertId, req.now, 'resolved', `by ${req.by} via ${req.via}`);
      return true;
    });
    return run.immediate();
  }

  /** Holds every queued delivery of an alert until `until` (snooze); returns how many. */
  async snooze(req: { alertId: number; by: string; via: string; now: number; until: number }): Promise<number> {
    const run = this.db.transaction(() => {
      const n = prep(this.db, `UPDATE deliveries SET next_at = max(next_at, ?), updated_at = ? WHERE alert_id = ? AND state = 'queued'`).run(req.until, req.now, req.alertId).changes;
      this.eventSync(req.alertId, req.now, 'snoozed', `by ${req.by} via ${req.via} until ${new Date(req.until).toISOString()}`);
      return n;
    });
    return run.immediate();
  }

  /** Queues a delivery of an existing alert for people who have none yet (a policy's next step). Returns who was added. */
  async addDeliveries(alertId: number, emails: readonly string[], now: number, note: string): Promise<string[]> {
    const run = this.db.transaction(() => {
      const a = this.getSync(alertId);
      if (!a) return [];
      const added: string[] = [];
      for (const email of emails.map((e) => e.toLowerCase())) {
        if (prep(this.db, 'SELECT 1 FROM deliveries WHERE alert_id = ? AND user_email = ?').get(alertId, email)) continue;
        prep(this.db, `INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, text_only, plan, result, created_at, updated_at)
          VALUES (?, ?, ?, 'queued', ?, 0, NULL, NULL, ?, ?)`).run(alertId, email, `${a.kind}:${a.problem_key}`, now, now, now);
        added.push(email);
      }
      if (added.length) this.eventSync(alertId, now, 'escalated', `${note}: ${added.join(', ')}`);
      return added;
    });
    return run.immediate();
  }

  /** The people an alert reached (a channel delivered or answered, or they acknowledged). */
  async informedOf(alertId: number): Promise<string[]> {
    return (prep(this.db, `SELECT DISTINCT user_email FROM deliveries WHERE alert_id = ? AND (informed = 1 OR state IN ('acknowledged','done','unacknowledged')
      OR EXISTS (SELECT 1 FROM attempts t WHERE t.delivery_id = deliveries.id AND t.outcome IN ('delivered','answered','acknowledged')))`).all(alertId) as { user_email: string }[]).map((r) => r.user_email);
  }

  async wasSentTo(alertId: number, email: string): Promise<boolean> {
    return prep(this.db, 'SELECT 1 FROM deliveries WHERE alert_id = ? AND user_email = ?').get(alertId, email) !== undefined;
  }

  async countByState(since = 0): Promise<Record<string, number>> {
    const rows = prep(this.db, 'SELECT state, count(*) n FROM alerts WHERE received_at >= ? GROUP BY state').all(since) as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
}
