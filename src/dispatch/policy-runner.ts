/**
 * Escalation policies over time: for each alert with a policy, when its next change is due, ask
 * the core (src/core/oncall via the router) who must be notified now — the next step's people,
 * the next pass, the step after an escalate key, the stage after a snooze — and queue a delivery
 * for each person not notified yet. Each notified person then walks their own channel order.
 * An acknowledgement or resolution ends the policy.
 */
import type { AlertStore } from '../store/alerts.js';
import type { PolicyRunStore } from '../store/policy-runs.js';
import type { Logger } from '../util/log.js';
import type { Policy, PolicyEvent } from '../core/oncall/index.js';
import type { NotifyNow, WhoOptions } from '../core/routing.js';

/** Who a policy reaches now: the core's router over the store's schedules, groups and users. */
export interface PolicyPeople {
  whoToNotifyNow(policy: Policy, startedAt: number, now: number, events: readonly PolicyEvent[], opts?: WhoOptions): NotifyNow;
}

export interface PolicyRunnerDeps {
  runs: PolicyRunStore;
  alerts: Pick<AlertStore, 'get' | 'addDeliveries' | 'event'>;
  /** Built for an instant (schedules read as they are then). */
  people: (now: number) => Promise<PolicyPeople>;
  logger: Logger;
}

const ENDED: ReadonlySet<string> = new Set(['resolved', 'cancelled', 'ignored', 'suppressed']);

export class PolicyRunner {
  constructor(private readonly d: PolicyRunnerDeps) {}

  /** Runs every policy due by now. Returns how many people were added and which alerts' policies ended. */
  async run(now: number, ackTimeoutMs: number): Promise<{ added: number; ended: number[] }> {
    const due = await this.d.runs.due(now);
    const endedAlerts: number[] = [];
    if (!due.length) return { added: 0, ended: endedAlerts };
    const people = await this.d.people(now);
    let added = 0;
    for (const run of due) {
      const a = await this.d.alerts.get(run.alert_id);
      if (!a || ENDED.has(a.state)) {
        await this.d.runs.update(run.alert_id, run.policy, { done: JSON.parse(run.done) as string[], nextAt: null, ended: true });
        continue;
      }
      if (a.state === 'silenced') continue; // released (and due again) when the silence ends
      const policy = JSON.parse(run.definition) as Policy;
      const events = JSON.parse(run.events) as PolicyEvent[];
      if (a.ack_at !== null) events.push({ type: 'ack', at: a.ack_at, ...(a.ack_by ? { by: a.ack_by } : {}) });
      events.sort((x, y) => x.at - y.at);
      const done = JSON.parse(run.done) as string[];
      const next = people.whoToNotifyNow(policy, run.started_at, now, events, { done, ...(ackTimeoutMs > 0 ? { ackTimeoutMs } : {}) });
      for (const n of next.notifications) {
        done.push(n.firing.key);
        if (n.problem) this.d.logger.warn('policy.target_problem', { alert: a.id, policy: run.policy, problem: n.problem });
        if (n.firing.reason === 'ack-timeout') {
          await this.d.alerts.event(a.id, now, 'ack-timeout', `acknowledged by ${a.ack_by ?? '?'} and still not resolved`);
          this.d.logger.warn('alert.ack_timeout', { alert: a.id, by: a.ack_by });
          continue;
        }
        const who = await this.d.alerts.addDeliveries(a.id, n.emails, now, `policy ${run.policy} step ${n.firing.step + 1}${n.firing.pass ? ` (pass ${n.firing.pass + 1})` : ''}${n.firing.reason === 'escalate' ? ', escalated' : ''}`);
        added += who.length;
        if (who.length) this.d.logger.info('policy.notify', { alert: a.id, policy: run.policy, step: n.firing.step + 1, pass: n.firing.pass + 1, reason: n.firing.reason, to: who.join(',') });
      }
      const ended = next.due === undefined;
      await this.d.runs.update(run.alert_id, run.policy, { done, nextAt: next.due ?? null, ended });
      if (ended) endedAlerts.push(a.id);
      if (ended && next.status.state === 'exhausted') this.d.logger.info('policy.exhausted', { alert: a.id, policy: run.policy });
    }
    return { added, ended: endedAlerts };
  }
}
