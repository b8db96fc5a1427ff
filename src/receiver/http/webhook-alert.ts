/**
 * What a webhook payload becomes before admission: one ParsedAlert per alert, the recipients it
 * names (addresses or group names, not yet resolved), and a synthetic mail for the relay. Pure.
 */
import { createHash } from 'node:crypto';
import type { MonitorName, ParsedAlert } from '../../core/model.js';
import { severityLevel } from './severity.js';
import { syntheticMail } from './synthetic-mail.js';

export interface WebhookAlert {
  parsed: ParsedAlert;
  raw: Buffer;
  /** Recipients as written (user e-mail, group@domain, or a bare group name); empty: the caller's default. */
  to: string[];
  /** The monitor's own identity for it (Alertmanager fingerprint, dedupKey), echoed in the reply. */
  ref: string;
}

const MAX_SUBJECT = 300;
const MAX_TEXT = 64 * 1024;

export function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** One line of text from a label or annotation (control characters folded to spaces). */
export function oneLine(s: string, n = 500): string {
  return clip(s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim(), n);
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A comma/space separated list of recipients ("noc, ops@x"), bounded. */
export function splitRecipients(v: string | string[] | undefined): string[] {
  const all = (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((s) => s.slice(0, 2000).split(/[,\s]+/));
  return [...new Set(all.map((s) => s.trim()).filter(Boolean))].slice(0, 50);
}

function section(title: string, kv: Record<string, string> | undefined): string[] {
  const keys = Object.keys(kv ?? {}).sort();
  if (!keys.length) return [];
  return [`${title}:`, ...keys.map((k) => `  ${k}: ${kv![k]}`)];
}

/** An Alertmanager-style alert (Alertmanager and Grafana share this shape). */
export interface LabelledAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  generatorURL?: string | undefined;
  fingerprint?: string | undefined;
  extra?: Record<string, string>;
}

export function fromLabelledAlert(a: LabelledAlert, ctx: { monitor: MonitorName; receivedAt: number; firing: number; groupTo: string[]; hostname: string; groupKey?: string | undefined }): WebhookAlert {
  const labels = a.labels;
  const ann = a.annotations;
  const alertname = oneLine(labels.alertname ?? ann.title ?? '', 200) || 'alert';
  const host = [labels.instance, labels.host, labels.hostname, labels.node].find((h) => h !== undefined && oneLine(h, 200) !== '');
  const summary = ann.summary ? oneLine(ann.summary) || undefined : undefined;
  const severity = labels.severity ?? labels.priority ?? labels.level;
  const level = severityLevel(severity);
  const fingerprint = a.fingerprint && /^[0-9A-Za-z:_-]{1,128}$/.test(a.fingerprint)
    ? a.fingerprint
    : sha256(JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]))).slice(0, 16);
  const resolved = a.status === 'resolved';
  const subject = clip(`${resolved ? 'Resolved' : 'Problem'}: ${alertname}${host ? ` on ${oneLine(host, 200)}` : ''}${summary && summary !== alertname ? ` - ${summary}` : ''}`, MAX_SUBJECT);
  const description = ann.description ?? ann.message;
  const text = clip([
    ...(summary ? [summary] : []),
    ...(description ? [description.slice(0, 8000), ''] : ['']),
    `Status: ${a.status}`,
    ...(host ? [`Host: ${oneLine(host, 200)}`] : []),
    ...(severity ? [`Severity: ${oneLine(severity, 100)}`] : []),
    ...(a.startsAt ? [`Started: ${oneLine(a.startsAt, 60)}`] : []),
    ...(resolved && a.endsAt ? [`Ended: ${oneLine(a.endsAt, 60)}`] : []),
    `Fingerprint: ${fingerprint}`,
    ...(ctx.groupKey ? [`Group: ${oneLine(ctx.groupKey, 1000)} (${ctx.firing} firing)`] : []),
    ...section('Labels', labels),
    ...section('Annotations', ann),
    ...section('Details', a.extra),
    ...(a.generatorURL ? [`Source: ${a.generatorURL}`] : []),
  ].join('\n'), MAX_TEXT);
  const own = splitRecipients(labels.alertline_to);
  const parsed: ParsedAlert = {
    kind: resolved ? 'resolved' : 'problem',
    subject, text,
    problemKey: `${ctx.monitor}:${fingerprint}`,
    eventId: fingerprint,
    monitor: ctx.monitor,
    sentence: summary ?? `${alertname}${host ? ` on ${oneLine(host, 200)}` : ''}`,
    firing: ctx.firing,
    ...(host ? { host: oneLine(host, 200) } : {}),
    ...(severity ? { severity: oneLine(severity, 100) } : {}),
    ...(level ? { level } : {}),
  };
  return {
    parsed,
    raw: syntheticMail({
      from: `${ctx.monitor}@${ctx.hostname}`, subject, text, date: ctx.receivedAt,
      messageId: `${ctx.monitor}.${fingerprint}.${ctx.receivedAt}@${ctx.hostname}`,
      headers: { 'X-Alertline-Source': ctx.monitor },
    }),
    to: own.length ? own : ctx.groupTo,
    ref: fingerprint,
  };
}
