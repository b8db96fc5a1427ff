/**
 * The webhook bodies Alertline accepts, as zod schemas: they validate the request (a failure
 * names the field) and are the source of the OpenAPI document. Unknown fields are allowed (the
 * senders add fields between versions); the fields used are checked for type and size.
 */
import { z } from 'zod';
import { oneLine } from './webhook-alert.js';

const labelMap = z.record(z.string().max(256), z.string().max(16_384))
  .refine((o) => Object.keys(o).length <= 256, { message: 'at most 256 entries' });

const timestamp = z.string().max(64);

/** One alert as Alertmanager (and Grafana) send it. */
export const promAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: timestamp.optional(),
  endsAt: timestamp.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().max(128).optional(),
}).passthrough();

/** Alertmanager webhook_configs payload, version 4. */
export const alertmanagerPayloadSchema = z.object({
  version: z.string().max(16).optional(),
  groupKey: z.string().max(4096).optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(256).optional(),
  groupLabels: labelMap.optional(),
  commonLabels: labelMap.optional(),
  commonAnnotations: labelMap.optional(),
  externalURL: z.string().max(4096).optional(),
  alerts: z.array(promAlertSchema).max(1000),
}).passthrough();

/** Grafana unified alerting webhook (contact point of type webhook). */
export const grafanaPayloadSchema = z.object({
  receiver: z.string().max(256).optional(),
  status: z.enum(['firing', 'resolved']),
  orgId: z.number().int().optional(),
  alerts: z.array(promAlertSchema.extend({
    values: z.record(z.string().max(256), z.union([z.number(), z.string().max(256), z.null()])).nullable().optional(),
    valueString: z.string().max(16_384).optional(),
    dashboardURL: z.string().max(4096).optional(),
    panelURL: z.string().max(4096).optional(),
    silenceURL: z.string().max(4096).optional(),
  }).passthrough()).max(1000),
  groupLabels: labelMap.optional(),
  commonLabels: labelMap.optional(),
  commonAnnotations: labelMap.optional(),
  externalURL: z.string().max(4096).optional(),
  version: z.string().max(16).optional(),
  groupKey: z.string().max(4096).optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  title: z.string().max(4096).optional(),
  state: z.string().max(64).optional(),
  message: z.string().max(65_536).optional(),
}).passthrough();

/** Alertline's own generic alert. */
export const genericAlertSchema = z.object({
  summary: z.string().max(1000).refine((v) => oneLine(v) !== '', { message: 'must have text (not only spaces or control characters)' }).describe('one line: what is wrong (spoken on calls)'),
  host: z.string().max(255).optional(),
  severity: z.string().max(64).optional().describe('critical, high, average, warning, info (or the monitor\'s own word)'),
  dedupKey: z.string().max(255).refine((v) => oneLine(v) !== '', { message: 'must have text (not only spaces or control characters)' }).optional().describe('the problem\'s identity: a resolve with the same key resolves it'),
  action: z.enum(['trigger', 'resolve']),
  to: z.array(z.string().min(1).max(320)).min(1).max(50).describe('user e-mails, group@any-domain, or group names'),
  details: z.string().max(65_536).optional().describe('longer text (mail, full SMS)'),
}).strict();

/** A heartbeat to add (POST /api/v1/heartbeats): the API twin of `alertline heartbeats add`. */
export const heartbeatAddSchema = z.object({
  name: z.string().min(1).max(64),
  every: z.string().max(32).describe('ping interval, e.g. 5m'),
  grace: z.string().max(32).optional().describe('how late a ping may be, e.g. 2m'),
  group: z.string().max(64).optional().describe('who is told when it goes quiet (default: http.defaultTo)'),
}).strict();

const nullableText = (max: number) => z.string().max(max).nullable().optional();

/** A user as the API adds or changes one (the same fields as `alertline users add|update`; "" or null clears). */
export const userFieldsSchema = z.object({
  name: nullableText(100),
  phone: nullableText(32).describe('E.164, e.g. +34600123456'),
  sip: nullableText(200).describe('SIP extension or URI'),
  xmpp: nullableText(320).describe('bare JID'),
  group: nullableText(64),
  lang: nullableText(16),
  channelOrder: z.array(z.string().max(16)).max(16).nullable().optional(),
}).strict();
export const userAddSchema = userFieldsSchema.extend({ email: z.string().min(3).max(254) }).strict();
export const userUpdateSchema = userFieldsSchema.extend({ email: z.string().min(3).max(254).optional().describe('a new address') }).strict();
export const groupOrderSchema = z.object({ channelOrder: z.array(z.string().max(16)).max(16).nullable() }).strict();
export const silenceAddSchema = z.object({
  host: z.string().min(1).max(200).optional().describe('regular expression, whole host name'),
  subject: z.string().min(1).max(200).optional().describe('regular expression, anywhere in the subject'),
  severity: z.enum(['info', 'warning', 'average', 'high', 'critical']).optional().describe('this level and below'),
  for: z.string().max(32).optional().describe('e.g. 2h'),
  until: z.string().max(40).optional().describe('ISO instant'),
  comment: z.string().min(1).max(500),
}).strict();

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;
export type GrafanaPayload = z.infer<typeof grafanaPayloadSchema>;
export type GenericAlert = z.infer<typeof genericAlertSchema>;
export type PromAlert = z.infer<typeof promAlertSchema>;

/** The first problem of a failed validation, naming the field ("alerts.0.status: ..."). */
export function firstIssue(e: z.ZodError): { field: string; error: string } {
  const i = e.issues[0]!;
  const field = i.path.join('.') || '(body)';
  return { field, error: `${field}: ${i.message}` };
}
