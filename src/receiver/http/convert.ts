/** Webhook payloads to WebhookAlerts: Alertmanager v4, Grafana unified alerting, Alertline's generic JSON. Pure. */
import type { AlertmanagerPayload, GenericAlert, GrafanaPayload } from './payloads.js';
import { fromLabelledAlert, oneLine, sha256, splitRecipients, clip, type WebhookAlert } from './webhook-alert.js';
import { severityLevel } from './severity.js';
import { syntheticMail } from './synthetic-mail.js';

export interface ConvertContext {
  receivedAt: number;
  /** Recipients from the request (?to=), used where an alert names none. */
  to: string[];
  hostname: string;
}

function stringMap(o: Record<string, unknown> | null | undefined): Record<string, string> | undefined {
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = String(v);
  return Object.keys(out).length ? out : undefined;
}

export function fromAlertmanager(p: AlertmanagerPayload, ctx: ConvertContext): WebhookAlert[] {
  const firing = p.alerts.filter((a) => a.status === 'firing').length;
  const groupTo = ctx.to.length ? ctx.to : splitRecipients(p.commonLabels?.alertline_to);
  return p.alerts.map((a) => fromLabelledAlert(
    { status: a.status, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: a.generatorURL, fingerprint: a.fingerprint },
    { monitor: 'alertmanager', receivedAt: ctx.receivedAt, firing, groupTo, hostname: ctx.hostname, groupKey: p.groupKey },
  ));
}

export function fromGrafana(p: GrafanaPayload, ctx: ConvertContext): WebhookAlert[] {
  const firing = p.alerts.filter((a) => a.status === 'firing').length;
  const groupTo = ctx.to.length ? ctx.to : splitRecipients(p.commonLabels?.alertline_to);
  return p.alerts.map((a) => {
    const extra = {
      ...(stringMap(a.values) ?? {}),
      ...(a.valueString ? { valueString: a.valueString } : {}),
      ...(a.dashboardURL ? { dashboard: a.dashboardURL } : {}),
      ...(a.panelURL ? { panel: a.panelURL } : {}),
    };
    return fromLabelledAlert(
      { status: a.status, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: a.generatorURL, fingerprint: a.fingerprint, extra },
      { monitor: 'grafana', receivedAt: ctx.receivedAt, firing, groupTo, hostname: ctx.hostname, groupKey: p.groupKey },
    );
  });
}

export function fromGeneric(g: GenericAlert, ctx: ConvertContext): WebhookAlert {
  const summary = oneLine(g.summary, 500);
  const host = g.host ? oneLine(g.host, 200) : undefined;
  const key = g.dedupKey ? oneLine(g.dedupKey, 255) : sha256(`${summary}\u0000${host ?? ''}`).slice(0, 24);
  const resolved = g.action === 'resolve';
  const level = severityLevel(g.severity);
  const subject = clip(`${resolved ? 'Resolved' : 'Problem'}: ${summary}${host ? ` on ${host}` : ''}`, 300);
  const text = [
    summary, '',
    ...(g.details ? [g.details, ''] : []),
    `Status: ${resolved ? 'resolved' : 'firing'}`,
    ...(host ? [`Host: ${host}`] : []),
    ...(g.severity ? [`Severity: ${oneLine(g.severity, 64)}`] : []),
    `Key: ${key}`,
  ].join('\n');
  return {
    parsed: {
      kind: resolved ? 'resolved' : 'problem', subject, text, problemKey: `generic:${key}`, eventId: key, monitor: 'generic', sentence: summary,
      ...(host ? { host } : {}),
      ...(g.severity ? { severity: oneLine(g.severity, 64) } : {}),
      ...(level ? { level } : {}),
    },
    raw: syntheticMail({ from: `alertline-api@${ctx.hostname}`, subject, text, date: ctx.receivedAt, messageId: `generic.${sha256(key).slice(0, 16)}.${ctx.receivedAt}@${ctx.hostname}`, headers: { 'X-Alertline-Source': 'generic' } }),
    to: splitRecipients(g.to),
    ref: key,
  };
}
