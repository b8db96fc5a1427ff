/**
 * The durable work queue: deliveries due for a step, and the attempts made for each.
 *
 * Several nodes may share the queue (PostgreSQL): a node works on a delivery only while it holds
 * its lease (lease_node, lease_until). start() takes a step (claim() holds a queued one), renew() keeps
 * the running ones while their calls last; reschedule()/finish() give it back. A node that dies
 * stops renewing: once lease_until has passed, takeOver() on another node closes its open
 * attempt as interrupted and queues the delivery at the step it was on (the call is made again).
 * The conditional UPDATEs are the arbiter: of two nodes, one changes the row, the other 0 rows.
 */
import type { Sql } from './sql/driver.js';
import type { AlertState, AttemptRow, DeliveryRow, DeliveryState } from './rows.js';

/** How a step ended, as its attempt row records it. */
export interface AttemptEnd { kind: string; reason: string; detail?: Record<string, unknown> }

/** Where a delivery goes back in the queue. */
export interface ReschedulePosition { step: number; round: number; tries: number; nextAt: number; informed?: boolean }

/** What happens to a delivery once a step ended: queued again at a position, or ended. */
export type DeliveryMove =
  | ({ kind: 'reschedule' } & ReschedulePosition)
  | { kind: 'finish'; state: DeliveryState; result: string; informed?: boolean };

/** Closes an attempt that is still open: one another node closed as interrupted (lease taken over) stays so. */
function closeAttempt(q: Sql, attemptId: number, o: AttemptEnd, now: number): Promise<number> {
  return q.run('UPDATE attempts SET ended_at = ?, outcome = ?, reason = ?, detail = ? WHERE id = ? AND ended_at IS NULL',
    now, o.kind, o.reason.slice(0, 1000), o.detail ? JSON.stringify(o.detail) : null, attemptId);
}

/** This node's name and how long a lease lasts without renewal. */
export interface LeaseConfig { node: string; ms: number }

export class DeliveryStore {
  private lease: LeaseConfig = { node: 'local', ms: 30_000 };

  constructor(private readonly q: Sql) {}

  /** Sets this node's name and lease length (node.name, node.lease). */
  setLease(l: LeaseConfig): void {
    this.lease = { ...l };
  }

  get node(): string {
    return this.lease.node;
  }

  /** How long a lease lasts without renewal (ms). */
  get leaseMs(): number {
    return this.lease.ms;
  }

  /**
   * Takes a queued delivery for this node (nobody else's lease is running on it). False when
   * another node holds it or it is no longer queued.
   */
  async claim(id: number, now: number): Promise<boolean> {
    return (await this.q.run(`UPDATE deliveries SET lease_node = ?, lease_until = ? WHERE id = ? AND state = 'queued'
      AND (lease_node IS NULL OR lease_node = ? OR lease_until < ?)`, this.lease.node, now + this.lease.ms, id, this.lease.node, now)) > 0;
  }

  /** Gives a claimed queued delivery back without moving it (another node has the channel it needs). */
  async release(id: number): Promise<void> {
    await this.q.run(`UPDATE deliveries SET lease_node = NULL, lease_until = NULL WHERE id = ? AND state = 'queued' AND lease_node = ?`, id, this.lease.node);
  }

  /** Keeps this node's leases (running steps and claimed ones) for another lease period; returns how many. */
  async renew(now: number): Promise<number> {
    return this.q.run(`UPDATE deliveries SET lease_until = ? WHERE lease_node = ? AND state IN ('queued','running')`, now + this.lease.ms, this.lease.node);
  }

  /**
   * Running deliveries whose lease ran out (their node stopped renewing: it died or lost the
   * database): the open attempt is closed as interrupted and the delivery queued again at the
   * same step, for any node. Returns what was taken over.
   */
  async takeOver(now: number): Promise<{ id: number; alertId: number; from: string | null }[]> {
    const expired = await this.q.all<{ id: number }>(`SELECT id FROM deliveries WHERE state = 'running' AND lease_until IS NOT NULL AND lease_until < ? LIMIT 100`, now);
    if (!expired.length) return [];
    return this.q.tx(async (t) => {
      const lock = t.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
      const rows = await t.all<{ id: number; alert_id: number; lease_node: string | null }>(
        `SELECT id, alert_id, lease_node FROM deliveries WHERE state = 'running' AND lease_until IS NOT NULL AND lease_until < ? LIMIT 100${lock}`, now);
      const out: { id: number; alertId: number; from: string | null }[] = [];
      for (const r of rows) {
        await t.run(`UPDATE attempts SET ended_at = ?, outcome = 'interrupted', reason = ? WHERE delivery_id = ? AND ended_at IS NULL`,
          now, `node ${r.lease_node ?? '?'} stopped renewing its lease during the attempt; taken over by ${this.lease.node}`, r.id);
        const n = await t.run(`UPDATE deliveries SET state = 'queued', next_at = ${t.least}(next_at, ?), lease_node = NULL, lease_until = NULL, updated_at = ?
          WHERE id = ? AND state = 'running' AND lease_until < ?`, now, now, r.id, now);
        if (n) out.push({ id: r.id, alertId: r.alert_id, from: r.lease_node });
      }
      return out;
    });
  }

  /** Queued deliveries whose time has come, oldest alert first (FIFO), with their alert's state. */
  async due(now: number, limit = 200): Promise<(DeliveryRow & { alert_state: AlertState; alert_level: string | null })[]> {
    return (await this.q.all(`SELECT d.*, a.state AS alert_state, a.level AS alert_level FROM deliveries d JOIN alerts a ON a.id = d.alert_id
      WHERE d.state = 'queued' AND d.next_at <= ? AND (d.lease_node IS NULL OR d.lease_node = ? OR d.lease_until < ?)
      ORDER BY d.alert_id, d.id LIMIT ?`, now, this.lease.node, now, limit)) as (DeliveryRow & { alert_state: AlertState; alert_level: string | null })[];
  }

  /** Fixes the channels a delivery walks (contact rules chose them at its start). */
  async setPlan(id: number, plan: readonly string[]): Promise<void> {
    (await this.q.run('UPDATE deliveries SET plan = ? WHERE id = ?', JSON.stringify(plan), id));
  }

  /** When the next queued delivery becomes due, or null. */
  async nextDueAt(): Promise<number | null> {
    const r = (await this.q.get(`SELECT min(next_at) AS t FROM deliveries WHERE state = 'queued'`)) as { t: number | null };
    return r.t;
  }

  async get(id: number): Promise<DeliveryRow | null> {
    return ((await this.q.get('SELECT * FROM deliveries WHERE id = ?', id)) as DeliveryRow | undefined) ?? null;
  }

  async openCount(): Promise<number> {
    return ((await this.q.get(`SELECT count(*) AS n FROM deliveries WHERE state IN ('queued','running')`)) as { n: number }).n;
  }

  /** Marks a delivery running and opens an attempt row, atomically. Returns the attempt id, or null if it was no longer queued. */
  async start(deliveryId: number, channel: string, target: string, now: number): Promise<number | null> {
    return this.q.tx(async (t) => {
      const ch = await t.run(`UPDATE deliveries SET state = 'running', lease_node = ?, lease_until = ?, updated_at = ? WHERE id = ? AND state = 'queued'
        AND (lease_node IS NULL OR lease_node = ? OR lease_until < ?)`, this.lease.node, now + this.lease.ms, now, deliveryId, this.lease.node, now);
      if (!ch) return null;
      const d = (await t.get('SELECT * FROM deliveries WHERE id = ?', deliveryId)) as DeliveryRow;
      const id = await t.insert('INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at, node) VALUES (?, ?, ?, ?, ?, ?, ?)', deliveryId, d.alert_id, channel, target, d.round, now, this.lease.node);
      await t.run(`UPDATE alerts SET state = 'notifying', updated_at = ? WHERE id = ? AND state = 'pending'`, now, d.alert_id);
      return id;
      // The phone rings right after this commit: it does not wait for the disk (the next durable
      // commit syncs it too). A crash of the daemon loses nothing; a power cut in those milliseconds
      // loses the record, and the delivery, still queued, is called again after the restart (or
      // by another node once the lease runs out): a second call, never none.
    }, { durable: false });
  }

  /** Records a step that was not tried (channel unhealthy, disabled mid-way) so history shows why. */
  async recordSkip(d: DeliveryRow, channel: string, target: string | null, reason: string, now: number): Promise<void> {
    (await this.q.run(`INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at, ended_at, outcome, reason) VALUES (?, ?, ?, ?, ?, ?, ?, 'skipped', ?)`, d.id, d.alert_id, channel, target, d.round, now, now, reason));
  }

  async finishAttempt(attemptId: number, o: AttemptEnd, now: number): Promise<void> {
    await closeAttempt(this.q, attemptId, o, now);
  }

  /**
   * A step ended: its attempt is closed and the delivery moves on (next step, later round, or its
   * end) in one transaction, so no node can see the step over but the delivery still running (it
   * would make the step again). Only while this node holds the delivery: one taken over meanwhile
   * (its attempt already closed as interrupted) is the other node's. Returns whether it moved.
   */
  async complete(attemptId: number, o: AttemptEnd, deliveryId: number, move: DeliveryMove | null, now: number): Promise<boolean> {
    return this.q.tx(async (t) => {
      // Closed already: another node took the step over (interrupted) and owns the delivery now.
      if (!(await closeAttempt(t, attemptId, o, now)) || !move) return false;
      return move.kind === 'reschedule'
        ? (await this.rescheduleIn(t, deliveryId, move, now)) > 0
        : (await this.finishIn(t, deliveryId, move.state, move.result, now, move.informed ?? false)) > 0;
    });
  }

  /** Puts a delivery back in the queue at a given step/round/time. Only a running or queued delivery moves. */
  async reschedule(id: number, p: ReschedulePosition, now: number): Promise<void> {
    await this.rescheduleIn(this.q, id, p, now);
  }

  private rescheduleIn(q: Sql, id: number, p: ReschedulePosition, now: number): Promise<number> {
    return q.run(`UPDATE deliveries SET state = 'queued', step = ?, round = ?, tries = ?, next_at = ?, informed = ${q.greatest}(informed, ?), lease_node = NULL, lease_until = NULL, updated_at = ?
      WHERE id = ? AND state IN ('running','queued') AND (lease_node IS NULL OR lease_node = ?)`, p.step, p.round, p.tries, p.nextAt, p.informed ? 1 : 0, now, id, this.lease.node);
  }

  /**
   * Every channel that could reach the person is down: the delivery stays where it is and looks
   * again at nextAt. Returns when it started waiting: the first wait sets it and it stays, so a
   * delivery waits escalation.maxWait at most in all.
   */
  async waitForChannel(id: number, nextAt: number, now: number): Promise<number> {
    (await this.q.run(`UPDATE deliveries SET next_at = ?, waiting_since = coalesce(waiting_since, ?), lease_node = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND state = 'queued'`, nextAt, now, now, id));
    const r = (await this.q.get('SELECT waiting_since FROM deliveries WHERE id = ?', id)) as { waiting_since: number | null } | undefined;
    return r?.waiting_since ?? now;
  }

  /**
   * Deliveries waiting for a channel to come back now (due, and waiting), and since when the oldest
   * waits; `exceptMonitor` leaves out the alerts of that monitor (the appliance's own alarms).
   */
  async waiting(now: number = Date.now(), exceptMonitor?: string): Promise<{ count: number; since: number | null }> {
    const r = (exceptMonitor === undefined
      ? (await this.q.get(`SELECT count(*) AS n, min(waiting_since) AS since FROM deliveries WHERE state = 'queued' AND waiting_since IS NOT NULL AND next_at <= ?`, now + 10000))
      : (await this.q.get(`SELECT count(*) AS n, min(d.waiting_since) AS since FROM deliveries d JOIN alerts a ON a.id = d.alert_id
          WHERE d.state = 'queued' AND d.waiting_since IS NOT NULL AND d.next_at <= ? AND a.monitor IS DISTINCT FROM ?`, now + 10000, exceptMonitor))) as { n: number; since: number | null };
    return { count: r.n, since: r.since };
  }

  /**
   * A channel's failing streak: since when every finished attempt through it failed (technical
   * failure, no success after), and the last reason; null when its latest attempt did not fail.
   * Looks at the most recent attempts only (bounded by rowid, so it costs the same on any history).
   */
  async failingStreak(channel: string, window = 2000): Promise<{ since: number; reason: string | null; count: number } | null> {
    const rows = (await this.q.all(`SELECT outcome, started_at, reason FROM attempts
      WHERE id > (SELECT coalesce(max(id), 0) FROM attempts) - ? AND channel = ? AND outcome IS NOT NULL AND outcome NOT IN ('skipped', 'interrupted')
      ORDER BY id DESC LIMIT 100`, window, channel)) as { outcome: string; started_at: number; reason: string | null }[];
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
    const r = (await this.q.get(`SELECT min(next_at) AS t FROM deliveries WHERE state = 'queued' AND next_at <= ?`, now)) as { t: number | null };
    return r.t;
  }

  /** Ends a delivery. Only a running/queued delivery changes (an ack or resolve that came first wins). */
  async finish(id: number, state: DeliveryState, result: string, now: number, informed = false): Promise<boolean> {
    return (await this.finishIn(this.q, id, state, result, now, informed)) > 0;
  }

  private finishIn(q: Sql, id: number, state: DeliveryState, result: string, now: number, informed: boolean): Promise<number> {
    return q.run(`UPDATE deliveries SET state = ?, result = ?, informed = ${q.greatest}(informed, ?), lease_node = NULL, lease_until = NULL, updated_at = ?
      WHERE id = ? AND state IN ('running','queued') AND (lease_node IS NULL OR lease_node = ?)`, state, result, informed ? 1 : 0, now, id, this.lease.node);
  }

  /**
   * At start: what this node left running when it stopped (SQLite: everything, the file has one
   * node) has its open attempts closed as interrupted and is queued again at the same step.
   * Other nodes' running steps are theirs while their leases run (takeOver() handles the dead).
   */
  async recoverInterrupted(now: number): Promise<{ attempts: number; deliveries: number }> {
    return this.q.tx(async (t) => {
      const mine = t.dialect === 'sqlite' ? '' : ' AND (lease_node IS NULL OR lease_node = ?)';
      const args = t.dialect === 'sqlite' ? [] : [this.lease.node];
      const attempts = await t.run(`UPDATE attempts SET ended_at = ?, outcome = 'interrupted', reason = 'daemon stopped during the attempt'
        WHERE ended_at IS NULL${t.dialect === 'sqlite' ? '' : ` AND (node IS NULL OR node = ?)`}`, now, ...args);
      const deliveries = await t.run(`UPDATE deliveries SET state = 'queued', next_at = ${t.least}(next_at, ?), lease_node = NULL, lease_until = NULL, updated_at = ?
        WHERE state = 'running'${mine}`, now, now, ...args);
      return { attempts, deliveries };
    });
  }

  async attemptsOf(deliveryId: number): Promise<AttemptRow[]> {
    return (await this.q.all('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id', deliveryId)) as AttemptRow[];
  }

  /** Calls placed to a user since a time over the given (voice) channels (rate limit). */
  async callsSince(email: string, since: number, channels: readonly string[]): Promise<number> {
    if (!channels.length) return 0;
    return ((await this.q.get(`SELECT count(*) AS n FROM attempts t JOIN deliveries d ON d.id = t.delivery_id
      WHERE d.user_email = ? AND t.channel IN (${channels.map(() => '?').join(', ')}) AND t.started_at >= ? AND t.outcome IS DISTINCT FROM 'skipped'`, email, ...channels, since)) as { n: number }).n;
  }

}
