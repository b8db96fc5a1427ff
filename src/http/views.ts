/** Alerts, users and heartbeats as the API shows them (JSON, camelCase). */
import type { AlertEventRow, AlertRow, AttemptRow, DeliveryRow } from '../store/rows.js';
import type { User } from '../store/users.js';
import type { Heartbeat } from '../store/heartbeats.js';

export function alertSummary(a: AlertRow) {
  return {
    id: a.id, state: a.state, kind: a.kind, subject: a.subject, sentence: a.sentence, host: a.host, severity: a.severity, level: a.level,
    monitor: a.monitor, eventId: a.event_id, problemKey: a.problem_key, receivedAt: a.received_at, updatedAt: a.updated_at,
    ack: a.ack_at ? { by: a.ack_by, via: a.ack_via, at: a.ack_at } : null,
    resolved: a.resolved_at ? { byAlert: a.resolved_by, at: a.resolved_at } : null,
  };
}

export function alertDetail(a: AlertRow, deliveries: DeliveryRow[], attempts: AttemptRow[], events: AlertEventRow[]) {
  const byDelivery = new Map(deliveries.map((d) => [d.id, d.user_email]));
  return {
    ...alertSummary(a),
    from: a.mail_from, client: a.client, rcpt: JSON.parse(a.rcpt) as string[], text: a.text,
    deliveries: deliveries.map((d) => ({ id: d.id, user: d.user_email, state: d.state, round: d.round, step: d.step + 1, nextAt: d.state === 'queued' ? d.next_at : null, result: d.result })),
    attempts: attempts.map((t) => ({
      id: t.id, user: byDelivery.get(t.delivery_id) ?? null, channel: t.channel, target: t.target, round: t.round, startedAt: t.started_at, endedAt: t.ended_at,
      outcome: t.outcome, reason: t.reason,
    })),
    events: events.map((e) => ({ at: e.at, kind: e.kind, detail: e.detail })),
  };
}

export function userView(u: User) {
  return { email: u.email, name: u.name, phone: u.phone, sip: u.sip, xmpp: u.xmpp, group: u.group, lang: u.lang, channelOrder: u.channelOrder, createdAt: u.createdAt };
}

export function heartbeatView(h: Heartbeat, deadline: number) {
  return {
    name: h.name, everyMs: h.everyMs, graceMs: h.graceMs, group: h.group, lastSeenAt: h.lastSeenAt, quiet: h.quietSince !== null,
    quietSince: h.quietSince, quietAlertId: h.quietAlertId, deadline,
  };
}
