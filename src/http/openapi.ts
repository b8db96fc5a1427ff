/** GET /api/v1/openapi.json: the API description, the request bodies generated from the same zod schemas that validate them. */
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { ZodTypeAny } from 'zod';
import { alertmanagerPayloadSchema, genericAlertSchema, grafanaPayloadSchema, groupOrderSchema, heartbeatAddSchema, silenceAddSchema, userAddSchema, userUpdateSchema } from '../receiver/http/payloads.js';

function schema(s: ZodTypeAny): object {
  const { $schema: _s, ...rest } = zodToJsonSchema(s, { target: 'openApi3', $refStrategy: 'none' }) as Record<string, unknown>;
  return rest;
}

const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const ingestResponses = {
  200: { description: 'stored (committed) before this answer', content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } } },
  400: err('body not valid: `error` names the field'),
  401: err('no token or an invalid one'),
  403: err('the token\'s scope does not allow this'),
  413: err('body larger than http.maxBodySize'),
  415: err('not JSON'),
  422: err('unknown recipients (named in `error` and `unknown`)'),
  429: err('too many failed authentications from this address (Retry-After)'),
  503: err('above filter.maxPending or storage trouble: retry after Retry-After seconds'),
};
const readResponses = { 401: err('no token or an invalid one'), 403: err('scope does not allow this') };
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }];
const emailParam = [{ name: 'email', in: 'path', required: true, schema: { type: 'string' } }];
const toParam = { name: 'to', in: 'query', required: false, description: 'recipients where an alert names none (label alertline_to): e-mails, group@domain or group names, comma separated', schema: { type: 'string' } };

export function openApiDocument(version: string): object {
  const ingest = (summary: string, body: ZodTypeAny, params: object[] = []) => ({
    post: { summary, security: [{ bearer: [] }], parameters: params, requestBody: { required: true, content: { 'application/json': { schema: schema(body) } } }, responses: ingestResponses },
  });
  return {
    openapi: '3.0.3',
    info: { title: 'Alertline API', version, description: 'Alerts in (webhooks), alerts out (read, acknowledge, resolve), heartbeats, status. Authorization: Bearer <token> (alertline tokens create NAME --scope read|write|ingest).' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' }, field: { type: 'string' }, unknown: { type: 'array', items: { type: 'string' } } } },
        Accepted: { type: 'object', properties: { accepted: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, state: { type: 'string' }, ref: { type: 'string' }, resolved: { type: 'array', items: { type: 'integer' } } } } } } },
      },
    },
    paths: {
      '/api/v1/alerts': {
        ...ingest('Generic alert (scope ingest)', genericAlertSchema),
        get: {
          summary: 'Recent alerts (scope read)', security: [{ bearer: [] }],
          parameters: [
            { name: 'state', in: 'query', schema: { type: 'string' }, description: 'comma separated states' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
            { name: 'before', in: 'query', schema: { type: 'integer' }, description: 'alerts with a smaller id (paging)' },
          ],
          responses: { 200: { description: 'alerts, newest first' }, 400: err('bad query'), ...readResponses },
        },
      },
      '/api/v1/alerts/alertmanager': ingest('Alertmanager webhook, payload version 4 (scope ingest)', alertmanagerPayloadSchema, [toParam]),
      '/api/v1/alerts/grafana': ingest('Grafana unified alerting webhook (scope ingest)', grafanaPayloadSchema, [toParam]),
      '/api/v1/alerts/{id}': { get: { summary: 'One alert with deliveries, attempts and history (scope read)', security: [{ bearer: [] }], parameters: idParam, responses: { 200: { description: 'the alert' }, 404: err('no such alert'), ...readResponses } } },
      '/api/v1/alerts/{id}/ack': { post: { summary: 'Acknowledge (scope write); stops every pending call and message for it', security: [{ bearer: [] }], parameters: idParam, responses: { 200: { description: 'acknowledged (with the same problem\'s open alerts)' }, 404: err('no such alert'), 409: err('not open'), ...readResponses } } },
      '/api/v1/alerts/{id}/escalate': { post: { summary: 'Escalate to the policy\'s next step now (scope write)', security: [{ bearer: [] }], parameters: idParam, responses: { 200: { description: 'escalated' }, 404: err('no such alert'), 409: err('not open'), ...readResponses } } },
      '/api/v1/alerts/{id}/snooze': { post: { summary: 'Hold every pending step (scope write); ?for=30m (default), the policy resumes after', security: [{ bearer: [] }], parameters: [...idParam, { name: 'for', in: 'query', required: false, schema: { type: 'string', example: '30m' } }], responses: { 200: { description: 'snoozed' }, 400: err('bad duration'), 404: err('no such alert'), 409: err('not open'), ...readResponses } } },
      '/api/v1/alerts/{id}/resolve': { post: { summary: 'Resolve by hand (scope write)', security: [{ bearer: [] }], parameters: idParam, responses: { 200: { description: 'resolved' }, 404: err('no such alert'), 409: err('already resolved or finished'), ...readResponses } } },
      '/api/v1/heartbeats': {
        get: { summary: 'Heartbeats and when each last pinged (scope read)', security: [{ bearer: [] }], responses: { 200: { description: 'heartbeats' }, ...readResponses } },
        post: { summary: 'Add a heartbeat (scope write)', security: [{ bearer: [] }], requestBody: { required: true, content: { 'application/json': { schema: schema(heartbeatAddSchema) } } }, responses: { 201: { description: 'added' }, 400: err('not valid'), 409: err('exists'), ...readResponses } },
      },
      '/api/v1/heartbeats/{name}': { delete: { summary: 'Remove a heartbeat (scope write)', security: [{ bearer: [] }], parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'removed' }, 404: err('no such heartbeat'), ...readResponses } }, post: { summary: 'A heartbeat ping (scope ingest); any body (an Alertmanager Watchdog notification will do)', security: [{ bearer: [] }], parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'recorded' }, 404: err('no such heartbeat'), ...readResponses } } },
      '/api/v1/users': {
        get: { summary: 'Users (scope read)', security: [{ bearer: [] }], responses: { 200: { description: 'users' }, ...readResponses } },
        post: { summary: 'Add a user (scope write): the same checks as alertline users add', security: [{ bearer: [] }], requestBody: { required: true, content: { 'application/json': { schema: schema(userAddSchema) } } }, responses: { 201: { description: 'added' }, 400: err('not valid'), 409: err('exists'), ...readResponses } },
      },
      '/api/v1/users/{email}': {
        get: { summary: 'One user (scope read)', security: [{ bearer: [] }], parameters: emailParam, responses: { 200: { description: 'the user' }, 404: err('no such user'), ...readResponses } },
        patch: { summary: 'Change a user (scope write); "" or null clears a field', security: [{ bearer: [] }], parameters: emailParam, requestBody: { required: true, content: { 'application/json': { schema: schema(userUpdateSchema) } } }, responses: { 200: { description: 'changed' }, 400: err('not valid'), 404: err('no such user'), ...readResponses } },
        delete: { summary: 'Remove a user (scope write)', security: [{ bearer: [] }], parameters: emailParam, responses: { 200: { description: 'removed' }, 404: err('no such user'), ...readResponses } },
      },
      '/api/v1/groups': { get: { summary: 'Groups (scope read)', security: [{ bearer: [] }], responses: { 200: { description: 'groups' }, ...readResponses } } },
      '/api/v1/groups/{name}': { patch: { summary: 'A group\'s channel order (scope write); null: the global order', security: [{ bearer: [] }], parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], requestBody: { required: true, content: { 'application/json': { schema: schema(groupOrderSchema) } } }, responses: { 200: { description: 'set' }, 400: err('not valid'), ...readResponses } } },
      '/api/v1/silences': {
        get: { summary: 'Silences not over yet (scope read)', security: [{ bearer: [] }], responses: { 200: { description: 'silences' }, ...readResponses } },
        post: { summary: 'Add a silence (scope write): matching alerts are stored silenced, delivered when it ends', security: [{ bearer: [] }], requestBody: { required: true, content: { 'application/json': { schema: schema(silenceAddSchema) } } }, responses: { 201: { description: 'added' }, 400: err('not valid'), ...readResponses } },
      },
      '/api/v1/silences/{id}': { delete: { summary: 'End a silence now (scope write)', security: [{ bearer: [] }], parameters: idParam, responses: { 200: { description: 'ended' }, 404: err('no such silence'), ...readResponses } } },
      '/api/v1/status': { get: { summary: 'The daemon\'s live status (scope read)', security: [{ bearer: [] }], responses: { 200: { description: 'receiver, queue, channels' }, ...readResponses } } },
      '/api/v1/events': { get: { summary: 'Server-Sent Events: `alert` and `attempt` changes (scope read)', security: [{ bearer: [] }], responses: { 200: { description: 'text/event-stream' }, ...readResponses } } },
      '/api/v1/openapi.json': { get: { summary: 'This document (no token needed)', responses: { 200: { description: 'OpenAPI 3' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics (scope read, or no token with http.metricsPublic)', responses: { 200: { description: 'text format 0.0.4' } } } },
    },
  };
}
