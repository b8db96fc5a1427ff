/**
 * The one way an alert gets acknowledged, whoever says so: a key pressed during a call, an SMS or
 * chat reply, a call-back, the CLI, the API or the web console. It finds the person and the
 * alert, checks the person was sent it (when they are identified by an address), and acknowledges
 * the alert with the other open alerts of the same problem, atomically.
 */
import type { AlertStore } from '../store/alerts.js';
import type { UserStore } from '../store/users.js';
import type { Logger } from '../util/log.js';
import type { AlertState } from './model.js';

/** States from which an alert can be acknowledged. */
export const ACKABLE: readonly AlertState[] = ['pending', 'notifying', 'unacknowledged', 'delivered', 'failed'];
/** Other alerts of the same problem acknowledged along: those still being (or left) unanswered. */
export const ACK_SIBLINGS: readonly AlertState[] = ['pending', 'notifying', 'unacknowledged'];
/**
 * What "the latest alert sent to me" picks from: still being notified, or ended without anyone
 * acknowledging (a text-only plan ends delivered; the person's "1" is still their answer).
 */
export const LATEST_OPEN: readonly AlertState[] = ['pending', 'notifying', 'unacknowledged', 'delivered'];

/** Who acknowledges: a known user (keypress; their e-mail), an address to look up (phone, SIP, XMPP), or an operator by name (CLI). */
export type Acknowledger = { email: string } | { phone: string } | { sip: string } | { xmpp: string } | { operator: string };

export interface AckRequest {
  /** The alert; without it, the latest open alert sent to the person. */
  alertId?: number;
  by: Acknowledger;
  /** How: "gsm keypress", "voip keypress", "sms-reply", "call-back", "cli", "api", "web". */
  via: string;
}

export type AckResult =
  | { ok: true; alertId: number; by: string; acknowledged: number[] }
  | { ok: false; reason: 'unknown-sender' | 'no-alert' | 'not-sent' | 'not-open'; alertId?: number; message: string };

export interface AckDeps {
  alerts: Pick<AlertStore, 'get' | 'acknowledge' | 'latestFor' | 'wasSentTo'>;
  users: Pick<UserStore, 'byPhone' | 'get' | 'list'>;
  /** Two SIP addresses name the same person ("201" and "sip:201@pbx" under the voip domain). */
  sameSip?: (a: string, b: string) => boolean;
  now: () => number;
  logger: Logger;
  /** Told after a change (the dispatcher stops what is running for those alerts). */
  changed?: (alertIds: number[]) => void;
}

export function acknowledger(deps: AckDeps): (req: AckRequest) => Promise<AckResult> {
  return async (req) => {
    const { alerts, logger } = deps;
    const found = await identify(deps, req.by);
    if (!found) {
      logger.warn('ack.unknown_sender', { ...(req.by as Record<string, string>), via: req.via });
      return { ok: false, reason: 'unknown-sender', message: 'this number belongs to no user' };
    }
    const { name: who, mustBeSent } = found;
    const id = req.alertId ?? await alerts.latestFor(who, LATEST_OPEN);
    if (id === null) {
      logger.warn('ack.no_match', { user: who, via: req.via });
      return { ok: false, reason: 'no-alert', message: 'no open alert was sent to you' };
    }
    if (mustBeSent && !(await alerts.wasSentTo(id, who))) {
      logger.warn('ack.no_match', { user: who, alert: id, via: req.via });
      return { ok: false, reason: 'not-sent', alertId: id, message: `alert ${id} was not sent to you` };
    }
    const a = await alerts.get(id);
    if (!a) return { ok: false, reason: 'no-alert', alertId: id, message: `no alert ${id}` };
    const acknowledged = await alerts.acknowledge({
      alertId: id, by: who, via: req.via, now: deps.now(), fromStates: ACKABLE,
      siblingStates: a.kind === 'resolved' ? null : ACK_SIBLINGS,
    });
    if (!acknowledged.length) return { ok: false, reason: 'not-open', alertId: id, message: `alert ${id} is not open (already acknowledged, resolved or finished)` };
    logger.info('alert.acknowledged', { alert: id, by: who, via: req.via });
    deps.changed?.(acknowledged);
    return { ok: true, alertId: id, by: who, acknowledged };
  };
}

/**
 * The person behind an acknowledger: a user looked up by the address they wrote from (who must
 * then have been sent the alert), or a name taken as given (a keypress's user, an operator).
 */
export async function identify(deps: Pick<AckDeps, 'users' | 'sameSip'>, by: Acknowledger): Promise<{ name: string; mustBeSent: boolean } | null> {
  if ('operator' in by) return { name: by.operator, mustBeSent: false };
  if ('email' in by) return { name: by.email, mustBeSent: false };
  if ('phone' in by) {
    const user = await deps.users.byPhone(by.phone);
    return user ? { name: user.email, mustBeSent: true } : null;
  }
  const all = await deps.users.list();
  const user = 'sip' in by
    ? all.find((u) => u.sip && (deps.sameSip ? deps.sameSip(u.sip, by.sip) : u.sip.toLowerCase() === by.sip.toLowerCase()))
    : all.find((u) => { const x = (u as { xmpp?: string | null }).xmpp; return x ? x.toLowerCase() === by.xmpp.toLowerCase().split('/')[0] : false; });
  return user ? { name: user.email, mustBeSent: true } : null;
}
