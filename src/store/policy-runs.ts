/** Escalation policies running for alerts: rows and SQL only (the rules are in src/core/oncall). */
import type { Db } from './database.js';
import { prep } from './database.js';
import type { PolicyRunRow } from './rows.js';

export class PolicyRunStore {
  constructor(private readonly db: Db) {}

  /** Runs due by `now` (not ended), oldest alert first. */
  async due(now: number, limit = 200): Promise<PolicyRunRow[]> {
    return prep(this.db, 'SELECT * FROM alert_policies WHERE ended = 0 AND next_at IS NOT NULL AND next_at <= ? ORDER BY alert_id LIMIT ?').all(now, limit) as PolicyRunRow[];
  }

  async nextDueAt(): Promise<number | null> {
    return (prep(this.db, 'SELECT min(next_at) t FROM alert_policies WHERE ended = 0 AND next_at IS NOT NULL').get() as { t: number | null }).t;
  }

  async forAlert(alertId: number): Promise<PolicyRunRow[]> {
    return prep(this.db, 'SELECT * FROM alert_policies WHERE alert_id = ? ORDER BY policy').all(alertId) as PolicyRunRow[];
  }

  /** Whether a policy still has steps to come for this alert (the alert is not settled before). */
  async active(alertId: number): Promise<boolean> {
    return prep(this.db, 'SELECT 1 FROM alert_policies WHERE alert_id = ? AND ended = 0 AND next_at IS NOT NULL').get(alertId) !== undefined;
  }

  async update(alertId: number, policy: string, p: { done: string[]; nextAt: number | null; ended: boolean }): Promise<void> {
    prep(this.db, 'UPDATE alert_policies SET done = ?, next_at = ?, ended = ? WHERE alert_id = ? AND policy = ?')
      .run(JSON.stringify(p.done), p.nextAt, p.ended ? 1 : 0, alertId, policy);
  }

  /** Records an event (escalate, snooze, ack, resolve) on every policy of the alert and makes them due now. */
  async addEvent(alertId: number, event: Record<string, unknown> & { type: string; at: number }): Promise<number> {
    const run = this.db.transaction(() => {
      const rows = prep(this.db, 'SELECT policy, events FROM alert_policies WHERE alert_id = ? AND ended = 0').all(alertId) as { policy: string; events: string }[];
      for (const r of rows) {
        const events = JSON.parse(r.events) as unknown[];
        events.push(event);
        prep(this.db, 'UPDATE alert_policies SET events = ?, next_at = ? WHERE alert_id = ? AND policy = ?').run(JSON.stringify(events), event.at, alertId, r.policy);
      }
      return rows.length;
    });
    return run.immediate();
  }

  async endAll(alertId: number): Promise<void> {
    prep(this.db, 'UPDATE alert_policies SET ended = 1 WHERE alert_id = ?').run(alertId);
  }
}
