/**
 * The daemon's HTTP server (fastify): webhook ingest (Alertmanager, Grafana, generic JSON) that
 * answers 2xx only after the commit, heartbeat pings, the read/act API, the event stream,
 * /metrics and the OpenAPI document. Loopback by default; HTTPS when http.tls is set. Every
 * error answer is JSON `{error}`. Tokens (Authorization: Bearer) are checked before the body is
 * read.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ZodTypeAny, z } from 'zod';
import type { HttpConfig } from '../config/schema.js';
import type { Stores } from '../store/index.js';
import type { LiveStatus } from '../store/daemon-status.js';
import type { AlertState } from '../store/rows.js';
import type { AckRequest, AckResult } from '../core/acknowledge.js';
import type { ActionRequest, ActionResult } from '../core/actions.js';
import { statesMovableTo } from '../core/model.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { safeTimeout } from '../util/timers.js';
import { alertmanagerPayloadSchema, firstIssue, genericAlertSchema, grafanaPayloadSchema, groupOrderSchema, heartbeatAddSchema, silenceAddSchema, userAddSchema, userUpdateSchema } from '../receiver/http/payloads.js';
import { silenceFromOptions } from '../core/oncall/index.js';
import { parseDuration } from '../config/units.js';
import { ValidationError } from '../store/user-fields.js';
import { fromAlertmanager, fromGeneric, fromGrafana, type ConvertContext } from '../receiver/http/convert.js';
import { splitRecipients, type WebhookAlert } from '../receiver/http/webhook-alert.js';
import type { WebhookIngest } from '../receiver/http/ingest.js';
import type { HeartbeatMonitor } from '../receiver/http/heartbeats.js';
import { Authenticator, type Need } from './auth.js';
import type { Metrics } from './metrics.js';
import { EventHub } from './events.js';
import { openApiDocument } from './openapi.js';
import { alertDetail, alertSummary, heartbeatView, userView } from './views.js';
import type { TokenInfo } from '../store/tokens.js';
import { WebConsole, type ConsoleDeps } from './console/console.js';

export interface HttpDeps {
  config: HttpConfig;
  stores: Pick<Stores, 'alerts' | 'users' | 'tokens' | 'heartbeats' | 'changes' | 'oncall' | 'webUsers' | 'reports' | 'settings' | 'nodes'>;
  ingest: WebhookIngest;
  heartbeats: HeartbeatMonitor;
  acknowledge: (req: AckRequest) => Promise<AckResult>;
  /** The core's other actions (escalate, snooze). */
  act?: (req: ActionRequest) => Promise<ActionResult>;
  snapshot: () => Promise<LiveStatus>;
  /** Told after an alert changed by hand (the dispatcher stops what runs for it). */
  changed: () => void;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  hostname: string;
  version: string;
  /** The web console: who has it open (the console channel), the first-run setup token, spoken prompts. */
  console?: Pick<ConsoleDeps, 'presence' | 'setup' | 'promptWav' | 'config'>;
  /** How often the event stream polls the store (default 500 ms). */
  eventPollMs?: number;
  /** After a failed listen (port taken), try again this often (default 5 s); mail keeps flowing meanwhile. */
  retryListenMs?: number;
}

const ALL_STATES: AlertState[] = ['pending', 'notifying', 'acknowledged', 'resolved', 'unacknowledged', 'delivered', 'failed', 'ignored', 'suppressed', 'cancelled', 'silenced'];
const CAPACITY_RETRY_SEC = 30;
const STORAGE_RETRY_SEC = 5;

declare module 'fastify' {
  interface FastifyContextConfig { need?: Need | 'none' | 'metrics' }
  interface FastifyRequest { token?: TokenInfo; startedAt?: number }
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

function isJson(req: FastifyRequest): boolean {
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  return /^application\/([a-z0-9.+-]*\+)?json\b/.test(ct);
}

export class HttpServer {
  private app: FastifyInstance | null = null;
  private readonly auth: Authenticator;
  private readonly events: EventHub;
  private closing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private listenError: string | null = null;
  private readonly web: WebConsole;

  constructor(private readonly d: HttpDeps) {
    this.auth = new Authenticator({ byHash: (h) => d.stores.tokens.byHash(h), now: () => d.clock.now(), logger: d.logger, failuresPerMinute: d.config.authFailuresPerMinute });
    this.events = new EventHub({ feed: d.stores.changes, pollMs: d.eventPollMs ?? 500, logger: d.logger, maxClients: 100 });
    this.web = new WebConsole({
      stores: d.stores, acknowledge: d.acknowledge, ...(d.act ? { act: d.act } : {}), changed: d.changed, snapshot: d.snapshot,
      ...d.console, events: this.events, tls: Boolean(d.config.tls), clock: d.clock, logger: d.logger.child({ part: 'console' }), version: d.version,
    });
  }

  address(): AddressInfo | null {
    const a = this.app?.server.address();
    return a && typeof a === 'object' ? a : null;
  }

  /** Why the server is not listening (null when it is, or before the first try). */
  get error(): string | null {
    return this.listenError;
  }

  get scheme(): 'http' | 'https' {
    return this.d.config.tls ? 'https' : 'http';
  }

  /**
   * Starts listening. A failure (port taken) is logged and retried in the background: the HTTP
   * side must never keep the appliance from taking mail. Resolves with the address, or null.
   */
  async listen(): Promise<AddressInfo | null> {
    const c = this.d.config;
    const app = this.build();
    try {
      await app.listen({ host: c.host, port: c.port });
    } catch (e) {
      await app.close().catch(() => {});
      this.listenError = (e as Error).message;
      this.d.logger.error('http.listen_failed', { host: c.host, port: c.port, error: e as Error, retryInSec: (this.d.retryListenMs ?? 5000) / 1000 });
      if (!this.closing) {
        this.retryTimer = safeTimeout(() => { this.retryTimer = null; if (!this.closing) void this.listen(); }, this.d.retryListenMs ?? 5000);
        this.retryTimer.unref();
      }
      return null;
    }
    if (this.closing) {
      await app.close();
      return null;
    }
    this.app = app;
    this.listenError = null;
    const a = this.address()!;
    this.d.logger.info('http.listening', { address: a.address, port: a.port, tls: Boolean(c.tls) });
    return a;
  }

  /** Stops: new requests get 503, event streams end, open requests may finish. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.events.close();
    const app = this.app;
    this.app = null;
    if (app) await app.close();
  }

  private build(): FastifyInstance {
    const c = this.d.config;
    const app = Fastify({
      logger: false,
      bodyLimit: c.maxBodySize,
      return503OnClosing: true,
      // A client must finish sending its request within 30 s (slow senders don't hold sockets);
      // event streams are answers and are not limited by it.
      requestTimeout: 30_000,
      forceCloseConnections: 'idle',
      ...(c.tls ? { https: { key: readFileSync(c.tls.key), cert: readFileSync(c.tls.cert) } } : {}),
    }) as unknown as FastifyInstance;

    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    const parseJson = (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, v?: unknown) => void) => {
      if (body === '' || (typeof body === 'string' && !body.trim())) return done(null, undefined);
      json(req, body as string, (err, v) => {
        if (err) return done(new HttpError(400, `body: invalid JSON (${err.message.replace(/^.*?: /, '').slice(0, 200)})`, { field: '(body)' }), undefined);
        done(null, v);
      });
    };
    app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
    app.addContentTypeParser(/^application\/[a-z0-9.-]+\+json/i, { parseAs: 'string' }, parseJson);
    // Heartbeat pings take any body; ingest checks the media type itself (415).
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

    app.addHook('onRequest', async (req) => {
      req.startedAt = performance.now();
      if (this.closing) throw new HttpError(503, 'shutting down, try later', {}, { 'retry-after': String(STORAGE_RETRY_SEC) });
      const need = req.routeOptions.config.need;
      if (!need || need === 'none') return;
      if (need === 'metrics' && c.metricsPublic) return;
      const r = await this.auth.check(req.ip, req.headers.authorization, need === 'metrics' ? 'read' : need, req.routeOptions.url ?? req.url.slice(0, 100));
      if (!r.ok) {
        const headers: Record<string, string> = r.status === 401 ? { 'www-authenticate': 'Bearer realm="alertline"' } : {};
        if (r.retryAfterSec) headers['retry-after'] = String(r.retryAfterSec);
        throw new HttpError(r.status, r.error, {}, headers);
      }
      req.token = r.token;
    });
    app.addHook('onResponse', async (req, reply) => {
      this.d.metrics.requests.inc({ route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) });
    });

    app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (err instanceof HttpError) {
        void reply.code(err.status).headers(err.headers).send({ error: err.message, ...err.extra });
        return;
      }
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        void reply.code(413).send({ error: `body larger than http.maxBodySize (${c.maxBodySize} bytes)` });
        return;
      }
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        void reply.code(415).send({ error: 'content-type must be application/json' });
        return;
      }
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) this.d.logger.error('http.error', { path: req.routeOptions.url, error: err });
      void reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
    });
    app.setNotFoundHandler((req, reply) => {
      void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}` });
    });

    this.routes(app);
    app.server.maxConnections = 1000;
    return app;
  }

  private body<S extends ZodTypeAny>(req: FastifyRequest, schema: S): z.infer<S> {
    if (!isJson(req)) throw new HttpError(415, 'content-type must be application/json');
    if (req.body === undefined) throw new HttpError(400, '(body): a JSON body is required', { field: '(body)' });
    const r = schema.safeParse(req.body);
    if (!r.success) {
      const i = firstIssue(r.error);
      throw new HttpError(400, i.error, { field: i.field });
    }
    return r.data;
  }

  private context(req: FastifyRequest): ConvertContext {
    const q = req.query as Record<string, string | string[] | undefined>;
    return { receivedAt: this.d.clock.now(), to: splitRecipients(q.to), hostname: this.d.hostname };
  }

  /** Ingest: admission through the writer; the answer only after the commit. */
  private async store(req: FastifyRequest, reply: FastifyReply, alerts: WebhookAlert[], via: string) {
    let r;
    try {
      r = await this.d.ingest.ingest(alerts, req.ip, via);
    } catch (e) {
      this.d.logger.error('http.store_error', { via, error: e as Error });
      throw new HttpError(503, 'temporary storage problem, retry', {}, { 'retry-after': String(STORAGE_RETRY_SEC) });
    }
    if (!r.ok) {
      if (r.reason === 'capacity') {
        this.d.logger.warn('http.capacity', { open: r.open, maxPending: r.max, via });
        throw new HttpError(503, `too many undelivered alerts queued (${r.open} of filter.maxPending ${r.max}), retry later`, {}, { 'retry-after': String(CAPACITY_RETRY_SEC) });
      }
      if (r.reason === 'no-recipients') throw new HttpError(422, 'no recipients: pass ?to=, a label alertline_to, or set http.defaultTo', { unknown: [] });
      throw new HttpError(422, `unknown recipients: ${r.names.join(', ')}`, { unknown: r.names });
    }
    this.d.metrics.acceptLatency.observe({ receiver: 'http' }, (performance.now() - (req.startedAt ?? performance.now())) / 1000);
    this.d.logger.info('http.accepted', { via, client: req.ip, alerts: r.accepted.map((a) => a.id) });
    return reply.code(200).send({ accepted: r.accepted });
  }

  private async alertOr404(idText: string) {
    if (!/^\d{1,15}$/.test(idText)) throw new HttpError(400, 'id: expected a number', { field: 'id' });
    const a = await this.d.stores.alerts.get(Number(idText));
    if (!a) throw new HttpError(404, `no alert ${idText}`);
    return a;
  }

  private routes(app: FastifyInstance): void {
    const s = this.d.stores;
    const ingest = { config: { need: 'ingest' as const } };
    const read = { config: { need: 'read' as const } };
    const write = { config: { need: 'write' as const } };

    app.post('/api/v1/alerts/alertmanager', ingest, async (req, reply) => {
      const p = this.body(req, alertmanagerPayloadSchema);
      return this.store(req, reply, fromAlertmanager(p, this.context(req)), 'alertmanager');
    });
    app.post('/api/v1/alerts/grafana', ingest, async (req, reply) => {
      const p = this.body(req, grafanaPayloadSchema);
      return this.store(req, reply, fromGrafana(p, this.context(req)), 'grafana');
    });
    app.post('/api/v1/alerts', ingest, async (req, reply) => {
      const p = this.body(req, genericAlertSchema);
      return this.store(req, reply, [fromGeneric(p, this.context(req))], 'api');
    });

    // A ping is a ping whatever its body says (an Alertmanager notification, text, nothing): its
    // own context reads the body without parsing it.
    void app.register(async (pings) => {
      pings.removeAllContentTypeParsers();
      pings.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));
      pings.post<{ Params: { name: string } }>('/api/v1/heartbeats/:name', ingest, async (req) => {
        const name = req.params.name.slice(0, 100);
        const h = await this.d.heartbeats.ping(name);
        if (!h) throw new HttpError(404, `no heartbeat ${name} (alertline heartbeats add ${name} --every 5m)`);
        return { heartbeat: heartbeatView(h, this.d.heartbeats.deadline(h)) };
      });
    });
    app.post('/api/v1/heartbeats', write, async (req, reply) => {
      const b = this.body(req, heartbeatAddSchema);
      const dur = (v: string, field: string) => {
        try { return parseDuration(v); } catch (e) { throw new HttpError(400, `${field}: ${(e as Error).message}`, { field }); }
      };
      const everyMs = dur(b.every, 'every');
      const graceMs = b.grace === undefined ? 0 : dur(b.grace, 'grace');
      try {
        const h = await s.heartbeats.add(b.name, { everyMs, graceMs, group: b.group ?? null });
        return reply.code(201).send({ heartbeat: heartbeatView(h, this.d.heartbeats.deadline(h)) });
      } catch (e) {
        if (e instanceof ValidationError) throw new HttpError(/already exists/.test(e.message) ? 409 : 400, e.message);
        throw e;
      }
    });
    app.delete<{ Params: { name: string } }>('/api/v1/heartbeats/:name', write, async (req) => {
      if (!(await s.heartbeats.remove(req.params.name.slice(0, 100)))) throw new HttpError(404, `no heartbeat ${req.params.name.slice(0, 100)}`);
      return { removed: req.params.name };
    });
    app.get('/api/v1/heartbeats', read, async () => {
      const list = await s.heartbeats.list();
      return { heartbeats: list.map((h) => heartbeatView(h, this.d.heartbeats.deadline(h))) };
    });

    app.get<{ Querystring: Record<string, string> }>('/api/v1/alerts', read, async (req) => {
      const q = req.query;
      const limit = q.limit === undefined ? 50 : /^\d{1,4}$/.test(q.limit) && Number(q.limit) >= 1 && Number(q.limit) <= 1000 ? Number(q.limit) : null;
      if (limit === null) throw new HttpError(400, 'limit: expected a number from 1 to 1000', { field: 'limit' });
      const states = q.state ? q.state.split(',').map((x) => x.trim()).filter(Boolean) : [];
      const bad = states.filter((x) => !(ALL_STATES as string[]).includes(x));
      if (bad.length) throw new HttpError(400, `state: unknown ${bad.join(', ')} (one of ${ALL_STATES.join(', ')})`, { field: 'state' });
      const before = q.before === undefined ? undefined : /^\d{1,15}$/.test(q.before) ? Number(q.before) : null;
      if (before === null) throw new HttpError(400, 'before: expected an alert id', { field: 'before' });
      const rows = await s.changes.listAlerts({ states: states as AlertState[], limit, ...(before !== undefined ? { beforeId: before } : {}) });
      return { alerts: rows.map(alertSummary) };
    });
    app.get<{ Params: { id: string } }>('/api/v1/alerts/:id', read, async (req) => {
      const a = await this.alertOr404(req.params.id);
      const [deliveries, attempts, events] = await Promise.all([s.alerts.deliveries(a.id), s.alerts.attempts(a.id), s.alerts.events(a.id)]);
      return { alert: alertDetail(a, deliveries, attempts, events) };
    });
    app.post<{ Params: { id: string } }>('/api/v1/alerts/:id/ack', write, async (req) => {
      const a = await this.alertOr404(req.params.id);
      const r = await this.d.acknowledge({ alertId: a.id, by: { operator: `api:${req.token!.name}` }, via: 'api' });
      if (!r.ok) throw new HttpError(r.reason === 'no-alert' ? 404 : 409, r.message);
      return { acknowledged: r.acknowledged, by: r.by };
    });
    app.post<{ Params: { id: string } }>('/api/v1/alerts/:id/resolve', write, async (req) => {
      const a = await this.alertOr404(req.params.id);
      const ok = await s.changes.resolveByHand(a.id, `api:${req.token!.name}`, 'api', this.d.clock.now(), statesMovableTo('resolved'));
      if (!ok) throw new HttpError(409, `alert ${a.id} is ${a.state}: it cannot be resolved`);
      this.d.logger.info('alert.resolved_by_hand', { alert: a.id, by: `api:${req.token!.name}` });
      this.d.changed();
      return { resolved: [a.id] };
    });

    app.post<{ Params: { id: string } }>('/api/v1/alerts/:id/escalate', write, async (req) => {
      const a = await this.alertOr404(req.params.id);
      if (!this.d.act) throw new HttpError(501, 'escalation is not available');
      const r = await this.d.act({ action: 'escalate', alertId: a.id, by: { operator: `api:${req.token!.name}` }, via: 'api' });
      if (!r.ok) throw new HttpError(409, r.message);
      return { escalated: a.id, detail: r.detail };
    });
    app.post<{ Params: { id: string }; Querystring: { for?: string } }>('/api/v1/alerts/:id/snooze', write, async (req) => {
      const a = await this.alertOr404(req.params.id);
      if (!this.d.act) throw new HttpError(501, 'snooze is not available');
      let forMs = 30 * 60_000;
      if (req.query.for !== undefined) {
        try { forMs = parseDuration(String(req.query.for).slice(0, 20)); } catch { throw new HttpError(400, `for: not a duration: ${JSON.stringify(String(req.query.for).slice(0, 20))} (write 30m, 2h)`, { field: 'for' }); }
        if (forMs <= 0 || forMs > 7 * 86_400_000) throw new HttpError(400, 'for: between 1s and 7d', { field: 'for' });
      }
      const r = await this.d.act({ action: 'snooze', alertId: a.id, by: { operator: `api:${req.token!.name}` }, via: 'api', forMs });
      if (!r.ok) throw new HttpError(409, r.message);
      return { snoozed: a.id, until: this.d.clock.now() + forMs };
    });

    app.get('/api/v1/users', read, async () => ({ users: (await s.users.list()).map(userView) }));
    app.get<{ Params: { email: string } }>('/api/v1/users/:email', read, async (req) => {
      const u = await s.users.get(req.params.email.slice(0, 320));
      if (!u) throw new HttpError(404, `no user ${req.params.email.slice(0, 320)}`);
      return { user: userView(u) };
    });
    app.get('/api/v1/groups', read, async () => ({ groups: await s.users.groups() }));

    /** A store's refusal of bad input is the client's 400 (409 when it names a conflict); the message names the field. */
    const storeCall = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof ValidationError) throw new HttpError(/already exists/.test(e.message) ? 409 : /^no user /.test(e.message) ? 404 : 400, e.message);
        throw e;
      }
    };
    const userFields = (b: Record<string, unknown>) => {
      const { channelOrder, ...rest } = b;
      return { ...rest, ...(channelOrder !== undefined ? { channelOrder: channelOrder === null ? null : (channelOrder as string[]).join(',') } : {}) };
    };
    app.post('/api/v1/users', write, async (req, reply) => {
      const { email, ...b } = this.body(req, userAddSchema);
      const u = await storeCall(() => s.users.add(email, userFields(b)));
      return reply.code(201).send({ user: userView(u) });
    });
    app.patch<{ Params: { email: string } }>('/api/v1/users/:email', write, async (req) => {
      const b = this.body(req, userUpdateSchema);
      return { user: userView(await storeCall(() => s.users.update(req.params.email.slice(0, 320), userFields(b)))) };
    });
    app.delete<{ Params: { email: string } }>('/api/v1/users/:email', write, async (req) => {
      const email = req.params.email.slice(0, 320);
      if (!(await s.users.remove(email))) throw new HttpError(404, `no user ${email}`);
      return { removed: email };
    });
    app.patch<{ Params: { name: string } }>('/api/v1/groups/:name', write, async (req) => {
      const b = this.body(req, groupOrderSchema);
      await storeCall(() => s.users.setGroupOrder(req.params.name.slice(0, 64), b.channelOrder === null ? null : b.channelOrder.join(',')));
      return { group: req.params.name.slice(0, 64), channelOrder: b.channelOrder };
    });

    app.get('/api/v1/silences', read, async () => ({ silences: await s.oncall.listSilences({ endingAfter: this.d.clock.now() }) }));
    app.post('/api/v1/silences', write, async (req, reply) => {
      const b = this.body(req, silenceAddSchema);
      let sil;
      try {
        sil = silenceFromOptions({ ...b, ...(b.for !== undefined ? { for: b.for } : {}) }, this.d.clock.now(), 'UTC');
      } catch (e) {
        const field = (e as { field?: string }).field;
        throw new HttpError(400, (e as Error).message, field ? { field } : {});
      }
      const rec = await storeCall(() => s.oncall.addSilence({ ...sil, createdBy: `api:${req.token!.name}` }));
      this.d.changed();
      return reply.code(201).send({ silence: rec });
    });
    app.delete<{ Params: { id: string } }>('/api/v1/silences/:id', write, async (req) => {
      const id = Number(req.params.id);
      if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, 'id: a positive whole number', { field: 'id' });
      if (!(await storeCall(() => s.oncall.removeSilence(id)))) throw new HttpError(404, `no silence ${id}`);
      return { removed: id };
    });
    app.get('/api/v1/status', read, async () => {
      const a = this.address();
      return { status: await this.d.snapshot(), http: { listening: Boolean(a), ...(a ? { address: a.address, port: a.port } : {}), tls: Boolean(this.d.config.tls), eventClients: this.events.size } };
    });
    app.get('/api/v1/events', read, async (_req, reply) => {
      reply.hijack();
      const ok = await this.events.add(reply.raw).catch((e: Error) => {
        this.d.logger.warn('http.events_failed', { error: e });
        return false;
      });
      if (!ok) {
        reply.raw.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' });
        reply.raw.end(JSON.stringify({ error: 'event stream unavailable (too many open, or a storage problem), retry' }));
      }
    });
    this.web.register(app);
    app.get('/api/v1/openapi.json', { config: { need: 'none' } }, async () => openApiDocument(this.d.version));
    app.get('/metrics', { config: { need: 'metrics' } }, async (_req, reply) => {
      const text = await this.d.metrics.render();
      return reply.header('content-type', this.d.metrics.contentType).send(text);
    });
  }
}
