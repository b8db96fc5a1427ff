/** Escalation policies running for alerts: rows and SQL only (the rules are in src/core/oncall). */
import type { Sql } from './sql/driver.js';
import type { PolicyRunRow } from './rows.js';

export class PolicyRunStore {
  constructor(private readonly q: Sql) {}

  /** Runs due by `now` (not ended), oldest alert first. */
  async due(now: number, limit = 200): Promise<PolicyRunRow[]> {
    return (await this.q.all('SELECT * FROM alert_policies WHERE ended = 0 AND next_at IS NOT NULL AND next_at <= ? ORDER BY alert_id LIMIT ?', now, limit)) as PolicyRunRow[];
  }

  async nextDueAt(): Promise<number | null> {
    return ((await this.q.get('SELECT min(next_at) AS t FROM alert_policies WHERE ended = 0 AND next_at IS NOT NULL')) as { t: number | null }).t;
  }

  async forAlert(alertId: number): Promise<PolicyRunRow[]> {
    return (await this.q.all('SELECT * FROM alert_policies WHERE alert_id = ? ORDER BY policy', alertId)) as PolicyRunRow[];
  }

  /** Whether a policy still has steps to come for this alert (the alert is not settled before). */
  async active(alertId: number): Promise<boolean> {
    return (await this.q.get('SELECT 1 FROM alert_policies WHERE alert_id = ? AND ended = 0 AND next_at IS NOT NULL', alertId)) !== undefined;
  }

  async update(alertId: number, policy: string, p: { done: string[]; nextAt: number | null; ended: boolean }): Promise<void> {
    (await this.q.run('UPDATE alert_policies SET done = ?, next_at = ?, ended = ? WHERE alert_id = ? AND policy = ?', JSON.stringify(p.done), p.nextAt, p.ended ? 1 : 0, alertId, policy));
  }

  /** Records an event (escalate, snooze, ack, resolve) on every policy of the alert and makes them due now. */
  async addEvent(alertId: number, event: Record<string, unknown> & { type: string; at: number }): Promise<number> {
    return this.q.tx(async (t) => {
      const rows = (await t.all('SELECT policy, events FROM alert_policies WHERE alert_id = ? AND ended = 0', alertId)) as { policy: string; events: string }[];
      for (const r of rows) {
        const events = JSON.parse(r.events) as unknown[];
        events.push(event);
        (await t.run('UPDATE alert_policies SET events = ?, next_at = ? WHERE alert_id = ? AND policy = ?', JSON.stringify(events), event.at, alertId, r.policy));
      }
      return rows.length;
    });
  }

  async endAll(alertId: number): Promise<void> {
    (await this.q.run('UPDATE alert_policies SET ended = 1 WHERE alert_id = ?', alertId));
  }
}
