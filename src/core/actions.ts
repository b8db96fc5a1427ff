/**
 * What a person can do to an alert besides acknowledging it — resolve, snooze, escalate — from a
 * call key, an SMS or chat reply, the CLI, the API or the web: the same person and alert
 * resolution as acknowledge() (a phone number is looked up and must have been sent the alert),
 * then one store operation. Policies hear of escalate and snooze as events.
 */
import type { AlertStore } from '../store/alerts.js';
import type { PolicyRunStore } from '../store/policy-runs.js';
import type { UserStore } from '../store/users.js';
import type { Logger } from '../util/log.js';
import { acknowledger, identify, LATEST_OPEN, type Acknowledger, type AckResult } from './acknowledge.js';
import type { AlertState } from './model.js';
import type { ReplyAction } from './replies.js';

/** States from which a person may resolve an alert. */
export const RESOLVABLE_BY_PERSON: readonly AlertState[] = ['pending', 'notifying', 'unacknowledged', 'delivered', 'failed', 'acknowledged', 'silenced'];
/** How long key 5 / "<id>s" snoozes. */
export const SNOOZE_MS = 30 * 60_000;

export interface ActionRequest {
  action: ReplyAction;
  alertId?: number;
  by: Acknowledger;
  via: string;
  /** Snooze length (default 30 min). */
  forMs?: number;
}

export type ActionResult =
  | { ok: true; action: ReplyAction; alertId: number; by: string; detail: string }
  | { ok: false; action: ReplyAction; alertId?: number; message: string };

export interface ActionDeps {
  alerts: Pick<AlertStore, 'get' | 'acknowledge' | 'latestFor' | 'wasSentTo' | 'resolveByPerson' | 'snooze' | 'event'>;
  users: Pick<UserStore, 'byPhone' | 'get' | 'list'>;
  sameSip?: (a: string, b: string) => boolean;
  policyRuns: Pick<PolicyRunStore, 'addEvent'>;
  now: () => number;
  logger: Logger;
  changed?: (alertIds: number[]) => void;
}

export function lifecycle(deps: ActionDeps): (req: ActionRequest) => Promise<ActionResult> {
  const ack = acknowledger(deps);
  return async (req) => {
    if (req.action === 'ack') {
      const r: AckResult = await ack({ by: req.by, via: req.via, ...(req.alertId !== undefined ? { alertId: req.alertId } : {}) });
      return r.ok
        ? { ok: true, action: 'ack', alertId: r.alertId, by: r.by, detail: `alert ${r.alertId} acknowledged` }
        : { ok: false, action: 'ack', message: r.message, ...(r.alertId !== undefined ? { alertId: r.alertId } : {}) };
    }
    const who = await identify(deps, req.by);
    if (!who) return { ok: false, action: req.action, message: 'this number belongs to no user' };
    const id = req.alertId ?? await deps.alerts.latestFor(who.name, LATEST_OPEN);
    if (id === null) return { ok: false, action: req.action, message: 'no open alert was sent to you' };
    if (who.mustBeSent && !(await deps.alerts.wasSentTo(id, who.name))) return { ok: false, action: req.action, alertId: id, message: `alert ${id} was not sent to you` };
    const a = await deps.alerts.get(id);
    if (!a) return { ok: false, action: req.action, alertId: id, message: `no alert ${id}` };
    const now = deps.now();
    let detail: string;
    switch (req.action) {
      case 'resolve': {
        if (!(await deps.alerts.resolveByPerson({ alertId: id, by: who.name, via: req.via, now, fromStates: RESOLVABLE_BY_PERSON }))) {
          return { ok: false, action: 'resolve', alertId: id, message: `alert ${id} is already ${a.state}` };
        }
        detail = `alert ${id} resolved`;
        break;
      }
      case 'snooze': {
        if (!['pending', 'notifying', 'unacknowledged'].includes(a.state)) return { ok: false, action: 'snooze', alertId: id, message: `alert ${id} is ${a.state}: nothing to snooze` };
        const ms = req.forMs ?? SNOOZE_MS;
        await deps.alerts.snooze({ alertId: id, by: who.name, via: req.via, now, until: now + ms });
        await deps.policyRuns.addEvent(id, { type: 'snooze', at: now, ms, by: who.name });
        detail = `alert ${id} snoozed for ${Math.round(ms / 60_000)} min`;
        break;
      }
      case 'escalate': {
        if (!['pending', 'notifying', 'unacknowledged'].includes(a.state)) return { ok: false, action: 'escalate', alertId: id, message: `alert ${id} is ${a.state}: nothing to escalate` };
        const policies = await deps.policyRuns.addEvent(id, { type: 'escalate', at: now, by: who.name });
        await deps.alerts.event(id, now, 'escalate', `by ${who.name} via ${req.via}${policies ? '' : ' (no escalation policy: nobody further to notify)'}`);
        detail = policies ? `alert ${id} escalated to the next step` : `alert ${id}: no further step to escalate to`;
        break;
      }
    }
    deps.logger.info(`alert.${req.action}`, { alert: id, by: who.name, via: req.via });
    deps.changed?.([id]);
    return { ok: true, action: req.action, alertId: id, by: who.name, detail };
  };
}
