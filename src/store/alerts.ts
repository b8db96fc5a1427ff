/**
 * Alerts and their per-recipient deliveries: rows and SQL only. An accepted message becomes one
 * alert row, its raw bytes and one delivery per recipient, in one transaction; what each delivery
 * becomes (queued, suppressed, ...) is decided by the caller's admission rules, given the facts
 * this store reads inside that transaction.
 */
import type { Sql } from './sql/driver.js';
import { signalChange } from './sql/driver.js';
import type { AdmitDecide, AdmitFacts, AdmitInput, AdmitResult, AlertEventRow, AlertRow, AlertState, AttemptRow, DeliveryRow } from './rows.js';

export type * from './rows.js';

const ALERT_COLS = 'id, received_at, kind, subject, host, severity, event_id, problem_key, text, mail_from, rcpt, message_id, client, state, ack_by, ack_via, ack_at, resolved_by, resolved_at, updated_at, level, sentence, monitor, silenced_until';
/** Delivery states that say the person was not actually sent the alert. */
const NOT_SENT = `('suppressed', 'ignored', 'cancelled', 'silenced')`;
/** How many earlier alerts of one problem admission looks at. */
const PROBLEM_HISTORY = 50;
/** Who an alert reached: a channel delivered or answered for them, or they acknowledged. */
/** Who was informed of each of n alerts (the n ids as parameters). */
function informedQuery(n: number): string {
  return `SELECT DISTINCT alert_id, user_email FROM deliveries WHERE alert_id IN (${Array(n).fill('?').join(', ')})
      AND (informed = 1 OR state IN ('acknowledged','done','unacknowledged')
      OR EXISTS (SELECT 1 FROM attempts t WHERE t.delivery_id = deliveries.id AND t.outcome IN ('delivered','answered','acknowledged')))`;
}

function inList(states: readonly string[]): string {
  return `(${states.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')})`;
}

export class AlertStore {
  constructor(private readonly q: Sql) {}

  /**
   * Stores accepted alerts in ONE transaction (group commit) and returns what became of each.
   * Admission runs inside the transaction so duplicates within the same batch are caught.
   */
  async admitBatch(batch: AdmitInput[], decide: AdmitDecide): Promise<AdmitResult[]> {
    return this.q.tx(async (t) => {
      if (t.dialect === 'postgres') {
        // Across nodes sharing one PostgreSQL: admissions of the same problem take turns (held to
        // the commit), so two nodes given the same mail at once see each other's rows and dedupe.
        // Taken up front in one order, so two batches never wait on each other in a circle.
        for (const key of [...new Set(batch.map((b) => b.alert.problemKey))].sort()) await t.get('SELECT pg_advisory_xact_lock(hashtext(?)) AS l', `admit:${key}`);
      }
      const out: AdmitResult[] = [];
      for (const input of batch) out.push(await this.admitOne(t, input, decide));
      await signalChange(t, 'admitted');
      return out;
    });
  }

  private async admitOne(t: Sql, input: AdmitInput, decide: AdmitDecide): Promise<AdmitResult> {
    const a = input.alert;
    const id = await t.insert(`INSERT INTO alerts (received_at, kind, subject, host, severity, level, sentence, monitor, event_id, problem_key, text, mail_from, rcpt, message_id, client, raw, state, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
    a.receivedAt, a.kind, a.subject, a.host, a.severity, a.level, a.sentence, a.monitor, a.eventId, a.problemKey, a.text,
    a.mailFrom, JSON.stringify(a.rcpt), a.messageId, a.client, a.raw, a.receivedAt);
    await this.eventIn(t, id, a.receivedAt, 'received', `from ${a.mailFrom || '<>'} via ${a.client ?? 'local'} for ${a.rcpt.join(', ')}`);

    // One index range per kind, each already in id order (the index ends in the id), so a problem
    // with thousands of earlier alerts costs PROBLEM_HISTORY rows, not a sort of all of them.
    const problems = await t.all<{ id: number; state: AlertState; received_at: number; resolved_at: number | null; level: string | null }>(
      `SELECT * FROM (SELECT id, state, received_at, resolved_at, level FROM alerts
        WHERE problem_key = ? AND kind = 'problem' AND id <> ? ORDER BY id DESC LIMIT ${PROBLEM_HISTORY}) AS p
      UNION ALL SELECT * FROM (SELECT id, state, received_at, resolved_at, level FROM alerts
        WHERE problem_key = ? AND kind = 'update' AND id <> ? ORDER BY id DESC LIMIT ${PROBLEM_HISTORY}) AS u
      ORDER BY id DESC LIMIT ${PROBLEM_HISTORY}`, a.problemKey, id, a.problemKey, id);
    // Who was informed of the earlier problems matters only to a recovery (core/admission.ts):
    // read only then, for all of them in one query.
    const informedBy = new Map<number, string[]>(problems.map((p) => [p.id, []]));
    if (a.kind === 'resolved' && problems.length) {
      for (const r of await t.all<{ alert_id: number; user_email: string }>(informedQuery(problems.length), ...problems.map((p) => p.id))) {
        informedBy.get(r.alert_id)?.push(r.user_email.toLowerCase());
      }
    }
    const facts: AdmitFacts = { problems: [], lastSent: new Map() };
    for (const p of problems) {
      facts.problems.push({ id: p.id, state: p.state, receivedAt: p.received_at, resolvedAt: p.resolved_at, level: p.level, informed: informedBy.get(p.id)! });
    }
    for (const email of input.recipients) {
      facts.lastSent.set(email, (await t.get<{ at: number; level: string | null }>(`SELECT d.created_at AS at, a.level FROM deliveries d JOIN alerts a ON a.id = d.alert_id
      WHERE d.user_email = ? AND d.dedupe_key = ? AND d.state NOT IN ${NOT_SENT} ORDER BY d.created_at DESC LIMIT 1`, email, input.dedupeKey)) ?? null);
    }
    const plan = decide(input, facts);

    const resolved: number[] = [];
    for (const pid of plan.resolve) {
      const ch = await t.run(`UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ? AND state <> 'resolved'`, id, a.receivedAt, a.receivedAt, pid);
      if (!ch) continue;
      await t.run(`UPDATE deliveries SET state = 'cancelled', result = ?, updated_at = ? WHERE alert_id = ? AND state = 'queued'`, `problem resolved (alert ${id})`, a.receivedAt, pid);
      await this.eventIn(t, pid, a.receivedAt, 'resolved', `by alert ${id}`);
      resolved.push(pid);
    }
    const acknowledged = plan.acknowledge ? await this.ackIn(t, plan.acknowledge.ids, plan.acknowledge.by, plan.acknowledge.via, a.receivedAt, `alert ${id}`) : [];

    const plannedJson = input.plan ? JSON.stringify(input.plan) : null;
    for (const d of plan.deliveries) {
      await t.run(`INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, text_only, plan, result, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, d.email, input.dedupeKey, d.state, a.receivedAt, d.textOnly ? 1 : 0, plannedJson, d.note, a.receivedAt, a.receivedAt);
    }
    if (plan.alertState !== 'pending') {
      await t.run('UPDATE alerts SET state = ?, updated_at = ? WHERE id = ?', plan.alertState, a.receivedAt, id);
      await this.eventIn(t, id, a.receivedAt, plan.alertState, plan.note ?? '');
    }
    if (plan.alertState === 'silenced' && input.silence) {
      await t.run('UPDATE alerts SET silenced_until = ? WHERE id = ?', input.silence.until, id);
    }
    for (const p of plan.alertState === 'pending' || plan.alertState === 'silenced' ? input.policies ?? [] : []) {
      await t.run(`INSERT INTO alert_policies (alert_id, policy, definition, started_at, done, next_at) VALUES (?, ?, ?, ?, ?, ?)`,
        id, p.name, p.definition, p.startedAt, JSON.stringify(p.done), plan.alertState === 'silenced' ? input.silence?.until ?? p.nextAt : p.nextAt);
      await this.eventIn(t, id, a.receivedAt, 'policy', `escalation policy ${p.name}`);
    }
    return { id, state: plan.alertState, deliveries: plan.deliveries.map((d) => ({ email: d.email, state: d.state })), resolved, acknowledged };
  }

  /**
   * An alert that went out before it could be stored (the database refused it: self-alarm
   * "database errors"), written to history once writes work, with the attempts made for it.
   */
  async recordSent(input: AdmitInput, attempts: readonly { email: string; channel: string; target: string; startedAt: number; endedAt: number; outcome: string; reason: string }[], note: string): Promise<number> {
    const reached = new Set(attempts.filter((t) => ['delivered', 'answered', 'acknowledged'].includes(t.outcome)).map((t) => t.email.toLowerCase()));
    return this.q.tx(async (t) => {
      const a = input.alert;
      const state: AlertState = reached.size ? 'delivered' : 'failed';
      const end = Math.max(a.receivedAt, ...attempts.map((x) => x.endedAt));
      const id = await t.insert(`INSERT INTO alerts (received_at, kind, subject, host, severity, level, sentence, monitor, event_id, problem_key, text, mail_from, rcpt, message_id, client, raw, state, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.receivedAt, a.kind, a.subject, a.host, a.severity, a.level, a.sentence, a.monitor, a.eventId, a.problemKey, a.text,
      a.mailFrom, JSON.stringify(a.rcpt), a.messageId, a.client, a.raw, state, end);
      await this.eventIn(t, id, a.receivedAt, 'received', `raised by ${a.client ?? 'the appliance'} for ${a.rcpt.join(', ')}`);
      await this.eventIn(t, id, a.receivedAt, 'sent-unstored', note);
      for (const email of input.recipients) {
        const mine = attempts.filter((x) => x.email.toLowerCase() === email);
        const ok = reached.has(email);
        const d = await t.insert(`INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, text_only, informed, result, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
          id, email, input.dedupeKey, ok ? 'done' : 'failed', a.receivedAt, ok ? 1 : 0, ok ? 'sent before it could be stored' : 'no channel reached them', a.receivedAt, end);
        for (const x of mine) {
          await t.run('INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at, ended_at, outcome, reason) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)',
            d, id, x.channel, x.target, x.startedAt, x.endedAt, x.outcome, x.reason.slice(0, 1000));
        }
      }
      await this.eventIn(t, id, end, state, reached.size ? `reached ${[...reached].join(', ')}` : 'reached nobody');
      await signalChange(t, 'admitted');
      return id;
    });
  }

  private async eventIn(t: Sql, alertId: number, at: number, kind: string, detail?: string): Promise<void> {
    await t.run('INSERT INTO alert_events (alert_id, at, kind, detail) VALUES (?, ?, ?, ?)', alertId, at, kind, detail || null);
  }

  async event(alertId: number, at: number, kind: string, detail?: string): Promise<void> {
    await this.eventIn(this.q, alertId, at, kind, detail);
  }

  /** Marks alerts acknowledged and stops their queued deliveries; returns the ids that changed. */
  private async ackIn(t: Sql, ids: number[], by: string, via: string, now: number, cause?: string, fromStates?: readonly AlertState[]): Promise<number[]> {
    const from = fromStates ?? ['pending', 'notifying', 'unacknowledged', 'delivered', 'failed'];
    const done: number[] = [];
    for (const id of ids) {
      const ch = await t.run(`UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_via = ?, ack_at = ?, updated_at = ? WHERE id = ? AND state IN ${inList(from)}`, by, via, now, now, id);
      if (!ch) continue;
      await t.run(`UPDATE deliveries SET state = 'acknowledged', result = ?, updated_at = ? WHERE alert_id = ? AND state = 'queued'`, `acknowledged by ${by}`, now, id);
      await this.eventIn(t, id, now, 'acknowledged', `by ${by} via ${via}${cause ? ` (${cause})` : ''}`);
      done.push(id);
    }
    return done;
  }

  /**
   * Acknowledges an alert, and with `siblingStates` the other alerts of its problem in those states
   * (sent to other people), atomically. Only alerts in `fromStates` change. Returns the ids acknowledged.
   */
  async acknowledge(req: { alertId: number; by: string; via: string; now: number; fromStates: readonly AlertState[]; siblingStates: readonly AlertState[] | null }): Promise<number[]> {
    return this.q.tx(async (t) => {
      const a = await this.getIn(t, req.alertId);
      if (!a) return [];
      const siblings = req.siblingStates
        ? ((await t.all(`SELECT id FROM alerts WHERE problem_key = ? AND kind IN ('problem','update') AND id <> ? AND state IN ${inList(req.siblingStates)}`, a.problem_key, a.id)) as { id: number }[]).map((r) => r.id)
        : [];
      const mine = await this.ackIn(t, [a.id], req.by, req.via, req.now, undefined, req.fromStates);
      const others = await this.ackIn(t, siblings, req.by, req.via, req.now, `same problem as alert ${a.id}`, req.fromStates);
      if (mine.length || others.length) await signalChange(t, `acknowledged ${[...mine, ...others].join(',')}`);
      return [...mine, ...others];
    });
  }

  private async getIn(t: Sql, id: number): Promise<AlertRow | null> {
    return ((await t.get(`SELECT ${ALERT_COLS} FROM alerts WHERE id = ?`, id)) as AlertRow | undefined) ?? null;
  }

  async get(id: number): Promise<AlertRow | null> {
    return this.getIn(this.q, id);
  }

  async raw(id: number): Promise<Buffer | null> {
    const r = (await this.q.get('SELECT raw FROM alerts WHERE id = ?', id)) as { raw: Buffer } | undefined;
    return r?.raw ?? null;
  }

  /** Moves an alert to `state` only from one of `fromStates`; true when it moved. */
  async setState(id: number, state: AlertState, now: number, fromStates: readonly AlertState[]): Promise<boolean> {
    return (await this.q.run(`UPDATE alerts SET state = ?, updated_at = ? WHERE id = ? AND state IN ${inList(fromStates)}`, state, now, id)) > 0;
  }

  async list(limit = 50): Promise<AlertRow[]> {
    return (await this.q.all(`SELECT ${ALERT_COLS} FROM alerts ORDER BY id DESC LIMIT ?`, limit)) as AlertRow[];
  }

  async deliveries(alertId: number): Promise<DeliveryRow[]> {
    return (await this.q.all('SELECT * FROM deliveries WHERE alert_id = ? ORDER BY id', alertId)) as DeliveryRow[];
  }

  async attempts(alertId: number): Promise<AttemptRow[]> {
    return (await this.q.all('SELECT * FROM attempts WHERE alert_id = ? ORDER BY started_at, id', alertId)) as AttemptRow[];
  }

  async events(alertId: number): Promise<AlertEventRow[]> {
    return (await this.q.all('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY at, id', alertId)) as AlertEventRow[];
  }

  /** Latest alert in one of `states` a user was sent (for "ack" without an id, e.g. an SMS reply "1"). */
  async latestFor(email: string, states: readonly AlertState[]): Promise<number | null> {
    const r = (await this.q.get(`SELECT a.id FROM alerts a JOIN deliveries d ON d.alert_id = a.id
      WHERE d.user_email = ? AND a.state IN ${inList(states)} AND a.kind NOT IN ('resolved', 'ack')
      ORDER BY a.id DESC LIMIT 1`, email)) as { id: number } | undefined;
    return r?.id ?? null;
  }

  /** Other alerts still being notified to this person (merged into a call's message: "and 3 more alerts"). */
  async otherOpenFor(email: string, alertId: number): Promise<number> {
    return ((await this.q.get(`SELECT count(DISTINCT a.id) AS n FROM alerts a JOIN deliveries d ON d.alert_id = a.id
      WHERE d.user_email = ? AND a.id <> ? AND a.state IN ('pending','notifying') AND a.kind NOT IN ('resolved','test','ack')
        AND d.state IN ('queued','running')`, email, alertId)) as { n: number }).n;
  }

  /** Alerts acknowledged at or before `before`, still not resolved, whose acknowledger was not reminded yet. */
  async ackTimedOut(before: number, limit = 50): Promise<AlertRow[]> {
    return (await this.q.all(`SELECT ${ALERT_COLS} FROM alerts a WHERE state = 'acknowledged' AND ack_at IS NOT NULL AND ack_at <= ?
      AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = a.id AND e.kind = 'ack-reminder') ORDER BY id LIMIT ?`, before, limit)) as AlertRow[];
  }

  /** Alerts held by a silence that ended by `now`, still silenced. */
  async silenceEnded(now: number, limit = 100): Promise<AlertRow[]> {
    return (await this.q.all(`SELECT ${ALERT_COLS} FROM alerts WHERE state = 'silenced' AND silenced_until IS NOT NULL AND silenced_until <= ? ORDER BY id LIMIT ?`, now, limit)) as AlertRow[];
  }

  /**
   * The silence over this alert ended: it becomes pending and its silenced deliveries queued,
   * atomically, unless its problem was resolved meanwhile (then it is resolved too).
   */
  async releaseSilenced(alertId: number, now: number): Promise<'released' | 'resolved' | 'not-silenced'> {
    return this.q.tx(async (t) => {
      const a = await this.getIn(t, alertId);
      if (!a || a.state !== 'silenced') return 'not-silenced' as const;
      const resolved = (await t.get(`SELECT id FROM alerts WHERE problem_key = ? AND kind = 'resolved' AND id > ? LIMIT 1`, a.problem_key, a.id)) as { id: number } | undefined;
      if (resolved) {
        (await t.run(`UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ?`, resolved.id, now, now, a.id));
        (await t.run(`UPDATE deliveries SET state = 'cancelled', result = 'resolved while silenced', updated_at = ? WHERE alert_id = ? AND state = 'silenced'`, now, a.id));
        await this.eventIn(t, a.id, now, 'resolved', `while silenced, by alert ${resolved.id}`);
        return 'resolved' as const;
      }
      (await t.run(`UPDATE alerts SET state = 'pending', updated_at = ? WHERE id = ?`, now, a.id));
      (await t.run(`UPDATE deliveries SET state = 'queued', next_at = ?, result = NULL, updated_at = ? WHERE alert_id = ? AND state = 'silenced'`, now, now, a.id));
      await this.eventIn(t, a.id, now, 'unsilenced', 'the silence ended and the problem is still open: delivering now');
      return 'released' as const;
    });
  }

  /** Resolves an alert by a person's word (key 9, SMS "12r", CLI, API): queued deliveries stop. */
  async resolveByPerson(req: { alertId: number; by: string; via: string; now: number; fromStates: readonly AlertState[] }): Promise<boolean> {
    return this.q.tx(async (t) => {
      const ch = (await t.run(`UPDATE alerts SET state = 'resolved', resolved_at = ?, updated_at = ? WHERE id = ? AND state IN ${inList(req.fromStates)}`, req.now, req.now, req.alertId));
      if (!ch) return false;
      await t.run(`UPDATE deliveries SET state = 'cancelled', result = ?, updated_at = ? WHERE alert_id = ? AND state = 'queued'`, `resolved by ${req.by}`, req.now, req.alertId);
      (await t.run(`UPDATE alert_policies SET ended = 1 WHERE alert_id = ?`, req.alertId));
      await this.eventIn(t, req.alertId, req.now, 'resolved', `by ${req.by} via ${req.via}`);
      await signalChange(t, `resolved ${req.alertId}`);
      return true;
    });
  }

  /** Holds every queued delivery of an alert until `until` (snooze); returns how many. */
  async snooze(req: { alertId: number; by: string; via: string; now: number; until: number }): Promise<number> {
    return this.q.tx(async (t) => {
      const n = (await t.run(`UPDATE deliveries SET next_at = ${t.greatest}(next_at, ?), updated_at = ? WHERE alert_id = ? AND state = 'queued'`, req.until, req.now, req.alertId));
      await this.eventIn(t, req.alertId, req.now, 'snoozed', `by ${req.by} via ${req.via} until ${new Date(req.until).toISOString()}`);
      return n;
    });
  }

  /** Queues a delivery of an existing alert for people who have none yet (a policy's next step). Returns who was added. */
  async addDeliveries(alertId: number, emails: readonly string[], now: number, note: string): Promise<string[]> {
    return this.q.tx(async (t) => {
      const a = await this.getIn(t, alertId);
      if (!a) return [];
      const added: string[] = [];
      for (const email of emails.map((e) => e.toLowerCase())) {
        if ((await t.get('SELECT 1 FROM deliveries WHERE alert_id = ? AND user_email = ?', alertId, email))) continue;
        (await t.run(`INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, text_only, plan, result, created_at, updated_at)
          VALUES (?, ?, ?, 'queued', ?, 0, NULL, NULL, ?, ?)`, alertId, email, `${a.kind}:${a.problem_key}`, now, now, now));
        added.push(email);
      }
      if (added.length) await this.eventIn(t, alertId, now, 'escalated', `${note}: ${added.join(', ')}`);
      return added;
    });
  }

  /** The people an alert reached (a channel delivered or answered, or they acknowledged). */
  async informedOf(alertId: number): Promise<string[]> {
    return (await this.q.all<{ user_email: string }>(informedQuery(1), alertId)).map((r) => r.user_email);
  }

  async wasSentTo(alertId: number, email: string): Promise<boolean> {
    return (await this.q.get('SELECT 1 FROM deliveries WHERE alert_id = ? AND user_email = ?', alertId, email)) !== undefined;
  }

  async countByState(since = 0): Promise<Record<string, number>> {
    const rows = (await this.q.all('SELECT state, count(*) AS n FROM alerts WHERE received_at >= ? GROUP BY state', since)) as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }
}
