/**
 * The web console: server-rendered pages on the daemon's HTTP server, a small script for live
 * updates (Server-Sent Events), sound and the action buttons. Every page reads the same stores
 * the API reads, and every action goes through the same core entries (acknowledge, the
 * lifecycle actions, the stores' checks).
 *
 * Access: web users (scrypt passwords) with a session cookie (HttpOnly, SameSite=Strict, Secure
 * under TLS); every state change carries the session's CSRF token (form field `_csrf` or header
 * `x-csrf-token`) and, when the browser sends one, an Origin of this server. Viewers read,
 * responders act on alerts, admins manage. Before the first web user exists, a one-time setup
 * link (printed by the daemon, shown by `alertline status`) creates the first admin.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Stores } from '../../store/index.js';
import type { LiveStatus } from '../../store/daemon-status.js';
import type { AckRequest, AckResult } from '../../core/acknowledge.js';
import type { ActionRequest, ActionResult } from '../../core/actions.js';
import { statesMovableTo } from '../../core/model.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { ConsolePresence } from '../../channels/console/presence.js';
import type { EventHub } from '../events.js';
import { ValidationError } from '../../store/user-fields.js';
import { validateLogin, validateRole, type WebRole, type WebSession } from '../../store/web-users.js';
import { parseDuration } from '../../config/units.js';
import { layerFromOptions, shifts, silenceFromOptions, whoIsOnCall, formatRotation, formatHandoff, OncallInputError, policyFromOptions } from '../../core/oncall/index.js';
import { CHANNEL_NAMES } from '../../config/channel-names.js';
import { reachChecks } from '../../appliance/doctor-reach.js';
import { checkPassword, dummyHash, hashPassword, hashSecret, LoginLimiter, newSecret, sameSecret, verifyPassword } from '../web-auth.js';
import { cookie, LOGIN_COOKIE, parseCookies, safeNext, SESSION_COOKIE, SESSION_TTL_MS } from './session.js';
import { age, can, csrfField, esc, html, isoMinute, page, postButton, table, type Raw, type Viewer } from './html.js';
import { statsPage, statsCsv, parseRange } from './stats.js';
import type { Config } from '../../config/schema.js';
import type { NodeRow } from '../../store/nodes.js';

export interface ConsoleDeps {
  stores: Pick<Stores, 'alerts' | 'users' | 'webUsers' | 'reports' | 'oncall' | 'heartbeats' | 'changes' | 'settings' | 'nodes'>;
  acknowledge: (req: AckRequest) => Promise<AckResult>;
  act?: (req: ActionRequest) => Promise<ActionResult>;
  changed: () => void;
  snapshot: () => Promise<LiveStatus>;
  /** The effective configuration (file + database settings). */
  config?: () => Promise<Config>;
  presence?: ConsolePresence;
  /** The one-time setup token while no web user exists (null once one does). */
  setup?: { token: () => string | null; done: () => void };
  /** The spoken prompt of an alert as a WAV file path (null: no speech service). */
  promptWav?: (alertId: number) => Promise<string | null>;
  events: EventHub;
  tls: boolean;
  clock: Clock;
  logger: Logger;
  version: string;
  /** Failed logins per address (and per login) per minute before refusing. */
  loginFailuresPerMinute?: number;
}

declare module 'fastify' {
  interface FastifyContextConfig { role?: WebRole | 'public' }
  interface FastifyRequest { viewer?: Viewer | null; sessionHash?: string }
}

export class ConsoleError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/**
 * The appliances writing heartbeats to this database (one on a single box; every node when
 * several share a PostgreSQL): up or down, last seen, channels and their health, what each runs.
 */
function nodesTable(nodes: NodeRow[], now: number, downAfter: number, self: string | null): Raw {
  return table(['Appliance', 'State', 'Last seen', 'Channels', 'Running'], nodes.map((n) => {
    const state = n.status.stopped ? html`stopped` : now - n.seenAt > downAfter ? html`<span class="bad">down</span>` : html`<span class="ok">up</span>`;
    const channels = Object.entries(n.status.channels ?? {}).map(([c, h]) => html`<span class="${h.healthy ? 'ok' : 'bad'}">${c}</span> `);
    const running = (n.status.running ?? []).map((r) => `#${r.alertId} ${r.channel} → ${r.to}`).join(', ');
    return html`<tr><td>${n.name}${n.name === self ? ' (this one)' : ''}${n.status.hostname ? html`<br><span class="hint">${n.status.hostname}, pid ${n.pid}</span>` : ''}</td><td>${state}</td><td>${age(Math.max(0, now - n.seenAt))} ago</td><td>${channels}</td><td>${running || '—'}</td></tr>`;
  }), 'nodes');
}

/** The assets folder (web/ in the package), found from src/http/console or dist/src/http/console. */
function assetsDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const rel of ['../../../web', '../../../../web']) {
    const p = join(here, rel);
    try {
      readFileSync(join(p, 'console.css'));
      return p;
    } catch { /* try the next */ }
  }
  return join(here, '../../../web');
}

const ASSET_TYPES: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };
const OPEN_STATES = ['pending', 'notifying', 'unacknowledged', 'failed'] as const;
/** Delivered (a text-only walk ended, nobody acknowledged) counts as open this long, then as recent. */
const DELIVERED_OPEN_MS = 24 * 3_600_000;
const RECENT_STATES = ['acknowledged', 'resolved', 'delivered', 'ignored', 'suppressed', 'cancelled', 'silenced'] as const;

function form(req: FastifyRequest): Record<string, string> {
  const b = req.body;
  return b && typeof b === 'object' ? (b as Record<string, string>) : {};
}

function wantsJson(req: FastifyRequest): boolean {
  return /application\/json/.test(req.headers.accept ?? '');
}

export class WebConsole {
  private readonly limiter: LoginLimiter;
  private readonly assets = new Map<string, Buffer>();

  constructor(private readonly d: ConsoleDeps) {
    this.limiter = new LoginLimiter({ now: () => d.clock.now(), perMinute: d.loginFailuresPerMinute ?? 5 });
    const dir = assetsDir();
    for (const f of Object.keys(ASSET_TYPES)) {
      try { this.assets.set(f, readFileSync(join(dir, f))); } catch (e) { d.logger.error('console.asset_missing', { file: f, error: e as Error }); }
    }
  }

  register(app: FastifyInstance): void {
    void app.register(async (c) => {
      c.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
        try {
          done(null, Object.fromEntries(new URLSearchParams(body as string)));
        } catch (e) {
          done(e as Error, undefined);
        }
      });
      c.addHook('onRequest', async (req) => this.authenticate(req));
      // Pages and assets gzip-compressed for browsers that take it (a phone on a slow link).
      c.addHook('onSend', async (req, reply, payload) => {
        const type = String(reply.getHeader('content-type') ?? '');
        if (!/^text\/(html|css|javascript|csv)/.test(type) || !/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return payload;
        const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : null;
        if (!body || body.length < 1024) return payload;
        void reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding').removeHeader('content-length');
        return gzipSync(body, { level: 6 });
      });
      c.addHook('preHandler', async (req) => this.checkCsrf(req));
      c.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
        const status = err instanceof ConsoleError ? err.status : err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        if (status === 500) this.d.logger.error('console.error', { path: req.routeOptions.url, error: err });
        const message = status === 500 ? 'internal error' : err.message;
        if (err instanceof ConsoleError) void reply.headers(err.headers);
        if (status === 401 && req.method === 'GET' && !wantsJson(req)) {
          void reply.code(303).header('location', `/login?next=${encodeURIComponent(safeNext(req.url))}`).send();
          return;
        }
        if (wantsJson(req) || req.url.startsWith('/console/')) {
          void reply.code(status).send({ error: message });
          return;
        }
        void reply.code(status).type('text/html; charset=utf-8').send(page({ title: status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Error', viewer: req.viewer ?? null, body: html`<p><a href="/">Back to the board</a></p>`, error: message }));
      });
      this.routes(c);
    });
  }

  // ---- access ----

  private async authenticate(req: FastifyRequest): Promise<void> {
    const need = req.routeOptions.config.role ?? 'viewer';
    const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    let s: WebSession | null = null;
    if (id && /^[A-Za-z0-9_-]{43}$/.test(id)) {
      req.sessionHash = hashSecret(id);
      s = await this.d.stores.webUsers.session(req.sessionHash);
    }
    req.viewer = s ? { login: s.login, role: s.role, csrf: s.csrf, userEmail: s.userEmail } : null;
    if (need === 'public') return;
    if (!req.viewer) throw new ConsoleError(401, 'log in first');
    if (!can(req.viewer, need)) {
      this.d.logger.warn('console.forbidden', { login: req.viewer.login, role: req.viewer.role, need, path: req.routeOptions.url });
      throw new ConsoleError(403, `${req.viewer.login} is ${req.viewer.role}: this needs ${need === 'admin' ? 'an admin' : 'a responder or an admin'}`);
    }
  }

  /** Every state change: the session's CSRF token, and an Origin (when sent) of this server. */
  private async checkCsrf(req: FastifyRequest): Promise<void> {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host = '';
      try { host = new URL(origin).host; } catch { /* malformed */ }
      if (host !== req.headers.host) {
        this.d.logger.warn('console.csrf_refused', { reason: 'origin', origin: origin.slice(0, 100), path: req.routeOptions.url });
        throw new ConsoleError(403, 'cross-site request refused (Origin is not this server)');
      }
    }
    const url = req.routeOptions.url;
    if (url === '/login' || url === '/setup') return; // checked by their own token (no session yet)
    const given = form(req)._csrf ?? req.headers['x-csrf-token'];
    if (!req.viewer || typeof given !== 'string' || !sameSecret(given, req.viewer.csrf)) {
      this.d.logger.warn('console.csrf_refused', { reason: given ? 'wrong token' : 'no token', login: req.viewer?.login, path: url });
      throw new ConsoleError(403, 'missing or wrong CSRF token: reload the page and try again');
    }
  }

  private back(req: FastifyRequest, reply: FastifyReply, to: string, message: string, data: Record<string, unknown> = {}) {
    if (wantsJson(req)) return reply.send({ ok: true, message, ...data });
    return reply.code(303).header('location', `${to}${to.includes('?') ? '&' : '?'}n=${encodeURIComponent(message)}`).send();
  }

  private send(reply: FastifyReply, body: string) {
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('x-frame-options', 'DENY')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
      .send(body);
  }

  private notice(req: FastifyRequest): string | null {
    const n = (req.query as Record<string, unknown>).n;
    return typeof n === 'string' ? n.slice(0, 300) : null;
  }

  /** A store's refusal of bad input becomes the page's message (400; 409 for a conflict). */
  private async storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ValidationError || e instanceof OncallInputError) throw new ConsoleError(/already exists/.test(e.message) ? 409 : /^no (user|schedule|silence)/.test(e.message) ? 404 : 400, e.message);
      throw e;
    }
  }

  // ---- routes ----

  private routes(app: FastifyInstance): void {
    const pub = { config: { role: 'public' as const } };
    const viewer = { config: { role: 'viewer' as const } };
    const responder = { config: { role: 'responder' as const } };
    const admin = { config: { role: 'admin' as const } };
    const s = this.d.stores;

    app.get<{ Params: { file: string } }>('/console/assets/:file', pub, async (req, reply) => {
      const body = this.assets.get(req.params.file);
      if (!body) throw new ConsoleError(404, `no asset ${req.params.file.slice(0, 60)}`);
      return reply.type(ASSET_TYPES[req.params.file]!).header('cache-control', 'no-cache').send(body);
    });

    // -- first run --
    app.get<{ Querystring: { token?: string } }>('/setup', pub, async (req, reply) => {
      const token = this.d.setup?.token() ?? null;
      if (!token || (await s.webUsers.count()) > 0) throw new ConsoleError(410, 'the console is set up already: log in');
      if (typeof req.query.token !== 'string' || !sameSecret(req.query.token, token)) throw new ConsoleError(403, 'wrong or old setup link: use the one the daemon printed (alertline status shows it)');
      return this.send(reply, page({
        title: 'Set up the console', viewer: null,
        body: html`<p>Create the first admin. This link works once.</p>
<form method="post" action="/setup" class="stack"><input type="hidden" name="token" value="${token}">
<label>Login <input name="login" required autocomplete="username" maxlength="64"></label>
<label>Password (8 or more characters) <input name="password" type="password" required minlength="8" autocomplete="new-password"></label>
<label>Your e-mail (alerts to it ring here; optional) <input name="email" type="email" autocomplete="email"></label>
<label>Your name (optional) <input name="name" autocomplete="name"></label>
<button type="submit">Create admin</button></form>`,
      }));
    });
    app.post('/setup', pub, async (req, reply) => {
      const f = form(req);
      const token = this.d.setup?.token() ?? null;
      if (!token || (await s.webUsers.count()) > 0) throw new ConsoleError(410, 'the console is set up already: log in');
      if (typeof f.token !== 'string' || !sameSecret(f.token, token)) throw new ConsoleError(403, 'wrong or old setup token');
      const login = this.field(() => validateLogin(f.login ?? ''));
      const bad = checkPassword(f.password ?? '');
      if (bad) throw new ConsoleError(400, bad);
      const email = (f.email ?? '').trim();
      if (email) {
        const existing = await s.users.get(email);
        if (!existing) await this.storeCall(() => s.users.add(email, { ...(f.name?.trim() ? { name: f.name.trim() } : {}) }));
      }
      const hash = await hashPassword(f.password!);
      await this.storeCall(() => s.webUsers.add(login, 'admin', hash, email || null));
      this.d.setup?.done();
      this.d.logger.info('console.setup_done', { login });
      await this.startSession(reply, login);
      return reply.code(303).header('location', '/').send();
    });

    // -- login --
    app.get<{ Querystring: { next?: string } }>('/login', pub, async (req, reply) => {
      if (req.viewer) return reply.code(303).header('location', safeNext(req.query.next)).send();
      return this.loginPage(req, reply, null);
    });
    app.post('/login', pub, async (req, reply) => {
      const f = form(req);
      const pre = parseCookies(req.headers.cookie).get(LOGIN_COOKIE);
      if (!pre || typeof f._login !== 'string' || !sameSecret(pre, f._login)) {
        this.d.logger.warn('console.csrf_refused', { reason: 'login form token', path: '/login' });
        return this.loginPage(req, reply, 'the login form expired: try again', 403);
      }
      const login = String(f.login ?? '').trim().slice(0, 64);
      const keys = [`ip:${req.ip}`, `login:${login.toLowerCase()}`];
      const wait = this.limiter.blocked(keys);
      if (wait > 0) {
        this.d.logger.warn('console.login_rate_limited', { client: req.ip, login });
        void reply.header('retry-after', String(wait));
        return this.loginPage(req, reply, `too many failed logins: wait ${wait} s`, 429);
      }
      const stored = login ? await s.webUsers.passwordHash(login) : null;
      const ok = await verifyPassword(String(f.password ?? ''), stored ?? (await dummyHash()));
      if (!stored || !ok) {
        this.limiter.failed(keys);
        this.d.logger.warn('console.login_failed', { client: req.ip, login, reason: stored ? 'wrong password' : 'unknown login' });
        return this.loginPage(req, reply, 'wrong login or password', 401);
      }
      const u = (await s.webUsers.get(login))!;
      await this.startSession(reply, u.login);
      this.d.logger.info('console.login', { login: u.login, client: req.ip });
      return reply.code(303).header('location', safeNext(f.next)).send();
    });
    app.post('/logout', viewer, async (req, reply) => {
      if (req.sessionHash) await s.webUsers.endSession(req.sessionHash);
      void reply.header('set-cookie', cookie(SESSION_COOKIE, '', { secure: this.d.tls, maxAgeSec: 0 }));
      return reply.code(303).header('location', '/login').send();
    });

    // -- board --
    app.get('/', pub, async (req, reply) => {
      if (!req.viewer) {
        if ((await s.webUsers.count()) === 0) {
          return this.send(reply, page({ title: 'Console not set up', viewer: null, body: html`<p>No web user exists yet. Open the one-time setup link the daemon printed when it started (<code>alertline status</code> shows it again), or add one: <code>echo 'a-password' | alertline web-users add admin --role admin --password-stdin</code>.</p>` }));
        }
        return reply.code(303).header('location', '/login').send();
      }
      const v = req.viewer;
      const body = html`<div class="toolbar"><button type="button" id="sound-toggle" aria-pressed="false">Sound: off</button>
<button type="button" id="notify-toggle">Browser notifications</button><span id="live" class="live" role="status" aria-live="polite">connecting…</span></div>
<div id="pages" aria-live="assertive"></div>
${table(['#', 'State', 'Severity', 'Host', 'Subject', 'Age', 'Calling now', ''], [await this.boardRows(v)], 'board')}`;
      return this.send(reply, page({ title: 'Board', viewer: v, active: '/', body, notice: this.notice(req) }));
    });
    app.get('/console/board-rows', viewer, async (req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send((await this.boardRows(req.viewer!)).html));
    app.get('/console/events', viewer, async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      const ok = await this.d.events.add(res).catch(() => false);
      if (!ok) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' });
        res.end(JSON.stringify({ error: 'event stream unavailable, retry' }));
        return;
      }
      const v = req.viewer!;
      if (this.d.presence && v.userEmail) {
        const detach = this.d.presence.attach({ login: v.login, userEmail: v.userEmail, push: (event, data) => { res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); } });
        res.on('close', detach);
      }
    });

    // -- alert --
    app.get<{ Params: { id: string } }>('/alerts/:id', viewer, async (req, reply) => {
      const a = await this.alertOr404(req.params.id);
      const [deliveries, attempts, events, rawMail] = await Promise.all([s.alerts.deliveries(a.id), s.alerts.attempts(a.id), s.alerts.events(a.id), s.alerts.raw(a.id)]);
      const v = req.viewer!;
      const byDelivery = new Map(deliveries.map((x) => [x.id, x.user_email]));
      type Item = { at: number; what: Raw };
      const items: Item[] = events.some((e) => e.kind === 'received') ? [] : [{ at: a.received_at, what: html`<strong>received</strong> from ${a.mail_from ?? a.client ?? '?'} for ${(JSON.parse(a.rcpt) as string[]).join(', ')}` }];
      for (const t of attempts) {
        const dur = t.ended_at !== null ? `${((t.ended_at - t.started_at) / 1000).toFixed(1)} s` : 'running';
        items.push({ at: t.started_at, what: html`<strong>${t.channel}</strong> to ${byDelivery.get(t.delivery_id) ?? '?'} (${t.target ?? ''}), ${dur}: <span class="outcome-${t.outcome ?? 'running'}">${t.outcome ?? 'running'}</span>${t.reason ? html` — ${t.reason}` : ''}` });
      }
      for (const e of events) items.push({ at: e.at, what: html`<strong>${e.kind}</strong>${e.detail ? html` — ${e.detail}` : ''}` });
      if (a.ack_at && !events.some((e) => e.kind === 'acknowledged')) items.push({ at: a.ack_at, what: html`<strong>acknowledged</strong> by ${a.ack_by} via ${a.ack_via}` });
      items.sort((x, y) => x.at - y.at);
      const body = html`<dl class="facts"><dt>State</dt><dd><span class="state state-${a.state}">${a.state}</span>${a.ack_by ? html` by <strong class="ack-by">${a.ack_by}</strong> (${a.ack_via})` : ''}</dd>
<dt>Severity</dt><dd>${a.severity ?? ''}</dd><dt>Host</dt><dd>${a.host ?? ''}</dd><dt>Received</dt><dd>${isoMinute(a.received_at)} (${age(this.d.clock.now() - a.received_at)} ago)</dd>
<dt>Kind</dt><dd>${a.kind}</dd><dt>Monitor</dt><dd>${a.monitor ?? ''}</dd></dl>
${can(v, 'responder') ? this.actions(v, a.id, a.state, `/alerts/${a.id}`) : ''}
<h2>Timeline</h2><ol class="timeline">${items.map((i) => html`<li><time datetime="${new Date(i.at).toISOString()}">${isoMinute(i.at)}</time> ${i.what}</li>`)}</ol>
<h2>Deliveries</h2>${table(['Person', 'State', 'Round', 'Step', 'Result'], deliveries.map((x) => html`<tr><td>${x.user_email}</td><td>${x.state}</td><td>${x.round}</td><td>${x.step + 1}</td><td>${x.result ?? ''}</td></tr>`))}
<h2>Spoken prompt</h2>${this.d.promptWav ? html`<audio controls preload="none" src="/alerts/${a.id}/prompt.wav"></audio>` : html`<p>No speech service.</p>`}
<h2>Message</h2><pre class="mail">${a.text}</pre>
<details><summary>Original message (${rawMail ? rawMail.length : 0} bytes)</summary><pre class="mail">${rawMail ? rawMail.toString('utf8').slice(0, 200_000) : '(pruned by retention.raw)'}</pre></details>`;
      return this.send(reply, page({ title: `Alert ${a.id}: ${a.subject}`, viewer: v, active: '/', body, notice: this.notice(req) }));
    });
    app.get<{ Params: { id: string } }>('/alerts/:id/prompt.wav', viewer, async (req, reply) => {
      const a = await this.alertOr404(req.params.id);
      const file = this.d.promptWav ? await this.d.promptWav(a.id).catch((e: Error) => { this.d.logger.warn('console.prompt_failed', { alert: a.id, error: e }); return null; }) : null;
      if (!file) throw new ConsoleError(503, 'the speech service is not available');
      return reply.type('audio/wav').header('cache-control', 'private, max-age=3600').send(readFileSync(file));
    });

    app.post<{ Params: { id: string } }>('/alerts/:id/ack', responder, async (req, reply) => {
      const a = await this.alertOr404(req.params.id);
      const v = req.viewer!;
      const r = await this.d.acknowledge({ alertId: a.id, by: { operator: `web:${v.login}` }, via: 'web' });
      if (!r.ok) throw new ConsoleError(r.reason === 'no-alert' ? 404 : 409, r.message);
      return this.back(req, reply, this.returnTo(req, a.id), `alert ${a.id} acknowledged by ${r.by}`, { acknowledged: r.acknowledged });
    });
    app.post<{ Params: { id: string } }>('/alerts/:id/resolve', responder, async (req, reply) => {
      const a = await this.alertOr404(req.params.id);
      const by = `web:${req.viewer!.login}`;
      const ok = await s.changes.resolveByHand(a.id, by, 'web', this.d.clock.now(), statesMovableTo('resolved'));
      if (!ok) throw new ConsoleError(409, `alert ${a.id} is ${a.state}: it cannot be resolved`);
      this.d.logger.info('alert.resolved_by_hand', { alert: a.id, by });
      this.d.changed();
      return this.back(req, reply, this.returnTo(req, a.id), `alert ${a.id} resolved`);
    });
    app.post<{ Params: { id: string } }>('/alerts/:id/escalate', responder, async (req, reply) => {
      const a = await this.alertOr404(req.params.id);
      if (!this.d.act) throw new ConsoleError(501, 'escalation is not available');
      const r = await this.d.act({ action: 'escalate', alertId: a.id, by: { operator: `web:${req.viewer!.login}` }, via: 'web' });
      if (!r.ok) throw new ConsoleError(409, r.message);
      return this.back(req, reply, this.returnTo(req, a.id), r.detail);
    });
    app.post<{ Params: { id: string } }>('/alerts/:id/snooze', responder, async (req, reply) => {
      const a = await this.alertOr404(req.params.id);
      if (!this.d.act) throw new ConsoleError(501, 'snooze is not available');
      const f = form(req);
      let forMs = 30 * 60_000;
      if (f.for) {
        try { forMs = parseDuration(String(f.for).slice(0, 20)); } catch { throw new ConsoleError(400, `for: not a duration: ${JSON.stringify(String(f.for).slice(0, 20))} (write 30m, 2h)`); }
        if (forMs <= 0 || forMs > 7 * 86_400_000) throw new ConsoleError(400, 'for: between 1s and 7d');
      }
      const r = await this.d.act({ action: 'snooze', alertId: a.id, by: { operator: `web:${req.viewer!.login}` }, via: 'web', forMs });
      if (!r.ok) throw new ConsoleError(409, r.message);
      return this.back(req, reply, this.returnTo(req, a.id), `alert ${a.id} snoozed for ${Math.round(forMs / 60_000)} min`);
    });

    // -- people and groups --
    app.get('/people', viewer, async (req, reply) => {
      const v = req.viewer!;
      const [users, groups] = await Promise.all([s.users.list(), s.users.groups()]);
      const isAdmin = can(v, 'admin');
      const body = html`${table(['E-mail', 'Name', 'Phone', 'SIP', 'XMPP', 'Group', 'Language', ...(isAdmin ? [''] : [])], users.map((u) => html`<tr><td>${u.email}</td><td>${u.name ?? ''}</td><td>${u.phone ?? ''}</td><td>${u.sip ?? ''}</td><td>${u.xmpp ?? ''}</td><td>${u.group ?? ''}</td><td>${u.lang ?? ''}</td>${isAdmin ? html`<td><a href="/people/${encodeURIComponent(u.email)}">Edit</a> ${postButton(v, `/people/${encodeURIComponent(u.email)}/remove`, 'Remove', 'danger')}</td>` : ''}</tr>`))}
<h2>Groups</h2>${table(['Group', 'Members', 'Channel order'], groups.map((g) => html`<tr><td>${g.name}</td><td>${g.members}</td><td>${isAdmin ? html`<form method="post" action="/groups/${encodeURIComponent(g.name)}/order" class="inline">${csrfField(v)}<label>Order <input name="order" value="${g.order?.join(',') ?? ''}" placeholder="(global)"></label> <button type="submit">Set</button></form>` : g.order?.join(', ') ?? '(global)'}</td></tr>`))}
${isAdmin ? html`<h2>Add a person</h2><form method="post" action="/people" class="stack" id="add-person">${csrfField(v)}
<label>E-mail <input name="email" type="email" required></label><label>Name <input name="name"></label>
<label>Phone (E.164) <input name="phone" placeholder="+34600123456"></label><label>SIP <input name="sip"></label><label>XMPP <input name="xmpp"></label>
<label>Group <input name="group"></label><label>Language <input name="lang" placeholder="en"></label>
<label>Channel order <input name="channelOrder" placeholder="voip,gsm,sms,mail"></label>
<button type="submit">Add person</button></form>` : ''}`;
      return this.send(reply, page({ title: 'People', viewer: v, active: '/people', body, notice: this.notice(req) }));
    });
    app.post('/people', admin, async (req, reply) => {
      const f = form(req);
      const fields: Record<string, string> = {};
      for (const k of ['name', 'phone', 'sip', 'xmpp', 'group', 'lang', 'channelOrder']) if (f[k]?.trim()) fields[k] = f[k].trim();
      const u = await this.storeCall(() => s.users.add(String(f.email ?? ''), fields));
      this.d.logger.info('console.user_added', { user: u.email, by: req.viewer!.login });
      return this.back(req, reply, '/people', `added ${u.email}`);
    });
    app.get<{ Params: { email: string } }>('/people/:email', admin, async (req, reply) => {
      const v = req.viewer!;
      const u = await s.users.get(req.params.email.slice(0, 320));
      if (!u) throw new ConsoleError(404, `no user ${req.params.email.slice(0, 320)}`);
      const f = (name: string, label: string, value: string | null) => html`<label>${label} <input name="${name}" value="${value ?? ''}"></label>`;
      const body = html`<form method="post" action="/people/${encodeURIComponent(u.email)}" class="stack" id="edit-person">${csrfField(v)}
${f('email', 'E-mail', u.email)}${f('name', 'Name', u.name)}${f('phone', 'Phone (E.164)', u.phone)}${f('sip', 'SIP', u.sip)}${f('xmpp', 'XMPP', u.xmpp)}
${f('group', 'Group', u.group)}${f('lang', 'Language', u.lang)}${f('channelOrder', 'Channel order', u.channelOrder?.join(',') ?? '')}
<p class="hint">An empty field clears it.</p><button type="submit">Save</button></form>`;
      return this.send(reply, page({ title: `Edit ${u.email}`, viewer: v, active: '/people', body }));
    });
    app.post<{ Params: { email: string } }>('/people/:email', admin, async (req, reply) => {
      const f = form(req);
      const email = req.params.email.slice(0, 320);
      const fields: Record<string, string | null> = {};
      for (const k of ['name', 'phone', 'sip', 'xmpp', 'group', 'lang', 'channelOrder']) if (k in f) fields[k] = f[k]!.trim() || null;
      if (f.email?.trim() && f.email.trim().toLowerCase() !== email.toLowerCase()) fields.email = f.email.trim();
      const u = await this.storeCall(() => s.users.update(email, fields as Parameters<typeof s.users.update>[1]));
      this.d.changed();
      this.d.logger.info('console.user_updated', { user: u.email, by: req.viewer!.login });
      return this.back(req, reply, '/people', `saved ${u.email}`);
    });
    app.post<{ Params: { email: string } }>('/people/:email/remove', admin, async (req, reply) => {
      const email = req.params.email.slice(0, 320);
      const refs = await s.oncall.referencesTo(email);
      if (refs.layers.length || refs.policies.length) throw new ConsoleError(409, `${email} is in ${[...refs.layers.map((l) => `schedule layer ${l}`), ...refs.policies.map((p) => `policy ${p}`)].join(', ')}: take them out there first`);
      if (!(await s.users.remove(email))) throw new ConsoleError(404, `no user ${email}`);
      return this.back(req, reply, '/people', `removed ${email}`);
    });

    // -- schedules --
    app.get('/schedules', viewer, async (req, reply) => {
      const v = req.viewer!;
      const now = this.d.clock.now();
      const list = await s.oncall.listSchedules();
      const parts: Raw[] = [];
      for (const sc of list) {
        const ovs = await s.oncall.overrides({ schedule: sc.name, endingAfter: now });
        const who = whoIsOnCall(sc, ovs, now);
        parts.push(html`<section class="schedule"><h2>${sc.name}</h2>
${table(['Layer', 'Members', 'Rotation', 'Hand-off', 'Zone', 'On call now'], sc.layers.map((l, i) => html`<tr><td>${l.name}</td><td>${l.members.join(', ')}</td><td>${formatRotation(l.rotation)}</td><td>${formatHandoff(l.handoff)}</td><td>${l.zone}</td><td>${who[i]?.member ?? '(nobody)'}</td></tr>`))}
${this.calendarStrip(sc, ovs, now)}
${ovs.length ? html`<h3>Overrides</h3><ul>${ovs.map((o) => html`<li>#${o.id}: ${o.member}${o.replaces ? ` for ${o.replaces}` : ''}, ${isoMinute(o.from)} – ${isoMinute(o.to)}${can(v, 'admin') ? postButton(v, `/overrides/${o.id}/remove`, 'Remove', 'danger') : ''}</li>`)}</ul>` : ''}
${can(v, 'admin') ? html`<details><summary>Add an override</summary><form method="post" action="/overrides" class="stack">${csrfField(v)}<input type="hidden" name="schedule" value="${sc.name}">
<label>Who covers <input name="member" type="email" required></label><label>For (optional) <input name="replaces" type="email"></label>
<label>From (UTC) <input name="from" type="datetime-local" required></label><label>To (UTC) <input name="to" type="datetime-local" required></label><button type="submit">Add override</button></form></details>` : ''}
</section>`);
      }
      const body = html`${list.length ? parts : html`<p>No schedules yet.</p>`}
${can(v, 'admin') ? html`<h2>Add a schedule (or a layer)</h2><form method="post" action="/schedules" class="stack" id="add-schedule">${csrfField(v)}
<label>Name <input name="name" required></label><label>Layer <input name="layer" value="primary"></label>
<label>Members, in order (e-mails, comma-separated) <input name="members" required></label>
<label>Rotation <select name="rotation"><option>weekly</option><option>daily</option><option value="3d">every 3 days</option></select></label>
<label>Hand-off <input name="handoff" value="mon 09:00" required></label><label>Time zone <input name="tz" value="UTC" required></label>
<button type="submit">Add schedule</button></form>` : ''}`;
      return this.send(reply, page({ title: 'Schedules', viewer: v, active: '/schedules', body, notice: this.notice(req) }));
    });
    app.post('/schedules', admin, async (req, reply) => {
      const f = form(req);
      const layer = await this.storeCall(async () => layerFromOptions({ layer: f.layer || 'primary', members: String(f.members ?? ''), rotation: String(f.rotation ?? ''), handoff: String(f.handoff ?? ''), tz: String(f.tz ?? '') }, this.d.clock.now()));
      const r = await this.storeCall(() => s.oncall.addLayer(String(f.name ?? '').trim(), layer));
      this.d.changed();
      return this.back(req, reply, '/schedules', `${r.created ? 'added schedule' : 'added a layer to'} ${r.schedule.name}`);
    });
    app.post('/overrides', admin, async (req, reply) => {
      const f = form(req);
      const from = Date.parse(`${f.from}Z`);
      const to = Date.parse(`${f.to}Z`);
      if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) throw new ConsoleError(400, 'from/to: two times, the end after the start');
      const o = await this.storeCall(() => s.oncall.addOverride({ schedule: String(f.schedule ?? ''), member: String(f.member ?? '').trim(), ...(f.replaces?.trim() ? { replaces: f.replaces.trim() } : {}), from, to, createdBy: `web:${req.viewer!.login}` }));
      this.d.changed();
      return this.back(req, reply, '/schedules', `added override #${o.id}`);
    });
    app.post<{ Params: { id: string } }>('/overrides/:id/remove', admin, async (req, reply) => {
      const id = Number(req.params.id);
      if (!Number.isSafeInteger(id) || !(await s.oncall.removeOverride(id))) throw new ConsoleError(404, `no override ${req.params.id.slice(0, 20)}`);
      this.d.changed();
      return this.back(req, reply, '/schedules', `removed override #${id}`);
    });

    // -- policies, silences, heartbeats, channels --
    app.get('/policies', viewer, async (req, reply) => {
      const [policies, routes] = await Promise.all([s.oncall.listPolicies(), s.oncall.listRoutes()]);
      const step = (x: (typeof policies)[number]['steps'][number]) => x.type === 'wait' ? `wait ${Math.round(x.ms / 60_000)} min` : `notify ${x.target.type} ${'schedule' in x.target ? x.target.schedule + (x.target.layer ? `/${x.target.layer}` : '') : 'group' in x.target ? x.target.group : x.target.user}`;
      const body = html`${table(['Policy', 'Steps', 'Repeat'], policies.map((p) => html`<tr><td>${p.name}</td><td>${p.steps.map(step).join(' → ')}</td><td>${p.repeat}</td></tr>`))}
<h2>Routes</h2>${table(['#', 'Address', 'Policy', 'Host', 'Subject', 'Severity'], routes.map((r) => html`<tr><td>${r.id}</td><td>${r.address}</td><td>${r.policy}</td><td>${r.host ?? ''}</td><td>${r.subject ?? ''}</td><td>${r.severity ?? ''}</td></tr>`))}
${can(req.viewer, 'admin') ? html`<h2>Add a policy</h2><form method="post" action="/policies" class="stack" id="add-policy">${csrfField(req.viewer!)}<label>Name <input name="name" required></label>
<label>Steps, one per line (schedule:NAME[/LAYER], group:NAME, user:EMAIL, wait:10m) <textarea name="steps" rows="4" required></textarea></label>
<label>Repeat <input name="repeat" value="0" inputmode="numeric"></label><button type="submit">Add policy</button></form>
${policies.length ? html`<h2>Remove a policy</h2><ul>${policies.map((p) => html`<li>${p.name} ${postButton(req.viewer!, `/policies/${encodeURIComponent(p.name)}/remove`, 'Remove', 'danger')}</li>`)}</ul>` : ''}` : ''}
<p class="hint">Routes are edited with <code>alertline routes</code>.</p>`;
      return this.send(reply, page({ title: 'Policies', viewer: req.viewer!, active: '/policies', body, notice: this.notice(req) }));
    });
    app.post('/policies', admin, async (req, reply) => {
      const f = form(req);
      const steps = String(f.steps ?? '').split(/[\r\n]+/).map((x) => x.trim()).filter(Boolean);
      if (!steps.length) throw new ConsoleError(400, 'steps: give at least one (e.g. schedule:noc, wait:10m, group:ops)');
      const p = await this.storeCall(async () => policyFromOptions(String(f.name ?? '').trim(), steps, f.repeat || '0'));
      const saved = await this.storeCall(() => s.oncall.addPolicy(p));
      this.d.changed();
      return this.back(req, reply, '/policies', `added policy ${saved.name}`);
    });
    app.post<{ Params: { name: string } }>('/policies/:name/remove', admin, async (req, reply) => {
      const name = req.params.name.slice(0, 64);
      if (!(await this.storeCall(() => s.oncall.removePolicy(name)))) throw new ConsoleError(404, `no policy ${name}`);
      this.d.changed();
      return this.back(req, reply, '/policies', `removed policy ${name}`);
    });
    app.post<{ Params: { name: string } }>('/groups/:name/order', admin, async (req, reply) => {
      const order = String(form(req).order ?? '').trim();
      await this.storeCall(() => s.users.setGroupOrder(req.params.name.slice(0, 64), order === '' ? null : order));
      this.d.changed();
      return this.back(req, reply, '/people', `group ${req.params.name.slice(0, 64)}: channel order ${order || '(global)'}`);
    });
    app.post<{ Params: { name: string; verb: string } }>('/channels/:name/:verb', admin, async (req, reply) => {
      const { name, verb } = req.params;
      if (!(CHANNEL_NAMES as readonly string[]).includes(name)) throw new ConsoleError(404, `no channel ${name.slice(0, 20)}`);
      if (verb !== 'enable' && verb !== 'disable') throw new ConsoleError(404, `no action ${verb.slice(0, 20)}`);
      await s.settings.setValue(`channels.${name}.enabled`, verb === 'enable');
      this.d.changed();
      this.d.logger.info('console.channel_set', { channel: name, enabled: verb === 'enable', by: req.viewer!.login });
      return this.back(req, reply, '/channels', `${name} ${verb}d`);
    });
    app.post('/channels', admin, async (req, reply) => {
      const order = String(form(req).order ?? '').split(/[\s,]+/).filter(Boolean);
      const bad = order.filter((c) => !(CHANNEL_NAMES as readonly string[]).includes(c));
      if (!order.length || bad.length) throw new ConsoleError(400, `order: channel names from ${CHANNEL_NAMES.join(', ')}${bad.length ? ` (not ${bad.join(', ')})` : ''}`);
      await s.settings.setValue('channels.order', order);
      this.d.changed();
      return this.back(req, reply, '/channels', `channel order ${order.join(', ')}`);
    });
    app.get('/silences', viewer, async (req, reply) => {
      const v = req.viewer!;
      const list = await s.oncall.listSilences({ endingAfter: this.d.clock.now() });
      const body = html`${table(['#', 'Host', 'Subject', 'Severity', 'From', 'Until', 'Comment', 'By', ''], list.map((x) => html`<tr><td>${x.id}</td><td>${x.host ?? ''}</td><td>${x.subject ?? ''}</td><td>${x.severity ?? ''}</td><td>${isoMinute(x.from)}</td><td>${isoMinute(x.until)}</td><td>${x.comment}</td><td>${x.createdBy ?? ''}</td><td>${can(v, 'responder') ? postButton(v, `/silences/${x.id}/remove`, 'End', 'danger') : ''}</td></tr>`))}
${can(v, 'responder') ? html`<h2>Add a silence</h2><form method="post" action="/silences" class="stack">${csrfField(v)}<label>Host pattern <input name="host"></label><label>Subject pattern <input name="subject"></label>
<label>For <input name="for" value="2h" required></label><label>Comment <input name="comment" required></label><button type="submit">Add silence</button></form>` : ''}`;
      return this.send(reply, page({ title: 'Silences', viewer: v, active: '/silences', body, notice: this.notice(req) }));
    });
    app.post('/silences', responder, async (req, reply) => {
      const f = form(req);
      const opts: Record<string, string> = {};
      for (const k of ['host', 'subject', 'for', 'comment']) if (f[k]?.trim()) opts[k] = f[k].trim();
      const sil = await this.storeCall(async () => silenceFromOptions(opts as unknown as Parameters<typeof silenceFromOptions>[0], this.d.clock.now(), 'UTC'));
      const rec = await this.storeCall(() => s.oncall.addSilence({ ...sil, createdBy: `web:${req.viewer!.login}` }));
      this.d.changed();
      return this.back(req, reply, '/silences', `added silence #${rec.id}`);
    });
    app.post<{ Params: { id: string } }>('/silences/:id/remove', responder, async (req, reply) => {
      const id = Number(req.params.id);
      if (!Number.isSafeInteger(id) || !(await s.oncall.removeSilence(id))) throw new ConsoleError(404, `no silence ${req.params.id.slice(0, 20)}`);
      this.d.changed();
      return this.back(req, reply, '/silences', `ended silence #${id}`);
    });
    app.get('/heartbeats', viewer, async (req, reply) => {
      const list = await s.heartbeats.list();
      const now = this.d.clock.now();
      const body = html`${table(['Name', 'Every', 'Grace', 'Group', 'Last ping', 'State'], list.map((h) => html`<tr><td>${h.name}</td><td>${Math.round(h.everyMs / 1000)} s</td><td>${Math.round(h.graceMs / 1000)} s</td><td>${h.group ?? ''}</td><td>${h.lastSeenAt ? `${age(now - h.lastSeenAt)} ago` : 'never'}</td><td>${h.quietSince !== null ? html`<span class="state state-failed">quiet</span>` : 'ok'}</td></tr>`))}
${can(req.viewer, 'admin') ? html`${list.length ? html`<ul>${list.map((h) => html`<li>${h.name} ${postButton(req.viewer!, `/heartbeats/${encodeURIComponent(h.name)}/remove`, 'Remove', 'danger')}</li>`)}</ul>` : ''}
<h2>Add a heartbeat</h2><form method="post" action="/heartbeats" class="stack">${csrfField(req.viewer!)}<label>Name <input name="name" required></label><label>Every <input name="every" value="5m" required></label>
<label>Grace <input name="grace" value="1m"></label><label>Group told <input name="group"></label><button type="submit">Add heartbeat</button></form>` : ''}
<p class="hint">Monitors ping <code>POST /api/v1/heartbeats/NAME</code> or mail <code>heartbeat+NAME@</code>.</p>`;
      return this.send(reply, page({ title: 'Heartbeats', viewer: req.viewer!, active: '/heartbeats', body, notice: this.notice(req) }));
    });
    app.post('/heartbeats', admin, async (req, reply) => {
      const f = form(req);
      const dur = (v: string | undefined, field: string, dflt: number) => {
        if (!v?.trim()) return dflt;
        try { return parseDuration(v.trim().slice(0, 20)); } catch (e) { throw new ConsoleError(400, `${field}: ${(e as Error).message}`); }
      };
      const h = await this.storeCall(() => s.heartbeats.add(String(f.name ?? ''), { everyMs: dur(f.every, 'every', NaN), graceMs: dur(f.grace, 'grace', 0), group: f.group?.trim() || null }));
      return this.back(req, reply, '/heartbeats', `added heartbeat ${h.name}`);
    });
    app.post<{ Params: { name: string } }>('/heartbeats/:name/remove', admin, async (req, reply) => {
      const name = req.params.name.slice(0, 100);
      if (!(await s.heartbeats.remove(name))) throw new ConsoleError(404, `no heartbeat ${name}`);
      return this.back(req, reply, '/heartbeats', `removed heartbeat ${name}`);
    });
    app.get('/channels', viewer, async (req, reply) => {
      const st = await this.d.snapshot();
      const v = req.viewer!;
      const isAdmin = can(v, 'admin');
      const body = html`${table(['Channel', 'Enabled', 'Healthy', 'Detail', ...(isAdmin ? [''] : [])], Object.entries(st.channels).map(([n, c]) => html`<tr><td>${n}</td><td>${c.enabled ? 'yes' : 'no'}</td><td>${c.enabled ? (c.healthy ? html`<span class="ok">yes</span>` : html`<span class="bad">no</span>`) : ''}</td><td>${c.detail}</td>${isAdmin ? html`<td>${postButton(v, `/channels/${n}/${c.enabled ? 'disable' : 'enable'}`, c.enabled ? 'Disable' : 'Enable')}</td>` : ''}</tr>`))}
<p>Order: ${st.order.join(' → ')}</p>
${isAdmin ? html`<form method="post" action="/channels" class="inline">${csrfField(v)}<label>Order <input name="order" value="${st.order.join(',')}"></label> <button type="submit">Set order</button></form>` : ''}
<p class="hint">The same settings as <code>alertline channels</code> (kept in the database); a running daemon picks them up.</p>`;
      return this.send(reply, page({ title: 'Channels', viewer: v, active: '/channels', body, notice: this.notice(req) }));
    });
    app.get('/status', viewer, async (req, reply) => {
      const st = await this.d.snapshot();
      const [hbs, nodes] = await Promise.all([s.heartbeats.list(), s.nodes.list()]);
      // doctor's reach checks (pure) on the running configuration; the other checks need the CLI (they open ports, log in).
      let doctor: Raw = html`<p>Not available.</p>`;
      const cfg = this.d.config ? await this.d.config() : null;
      if (cfg) {
        const logins = new Set((await s.webUsers.list()).map((w) => w.userEmail?.toLowerCase()).filter(Boolean));
        const people = [];
        for (const u of await s.users.list()) people.push({ email: u.email, phone: u.phone, sip: u.sip, xmpp: u.xmpp, console: logins.has(u.email.toLowerCase()), group: u.group, order: await s.users.effectiveOrder(u) });
        doctor = table(['Check', 'Result', 'Detail'], reachChecks(cfg, people).map((c) => html`<tr><td>${c.name}</td><td class="${c.status === 'pass' ? 'ok' : c.status === 'skip' ? '' : 'bad'}">${c.status.toUpperCase()}</td><td>${c.detail}${c.hint ? html`<br><span class="hint">${c.hint}</span>` : ''}</td></tr>`), 'doctor');
      }
      const rec = st.receiver.listening ? `listening on ${st.receiver.address}:${st.receiver.port}, ${st.receiver.accepted} accepted` : 'not listening';
      const body = html`<dl class="facts"><dt>Version</dt><dd>${this.d.version}</dd><dt>Host</dt><dd>${st.hostname}</dd><dt>Uptime</dt><dd>${age(st.uptimeSec * 1000)}</dd>
<dt>Receiver</dt><dd>${rec}</dd><dt>Queue</dt><dd id="queue">${st.queue.openDeliveries} open deliveries, ${st.queue.running} running</dd>
<dt>Alerts today</dt><dd>${Object.entries(st.alertsToday).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}</dd>
${st.storage ? html`<dt>Database</dt><dd>${Math.round(st.storage.dbBytes / 1024)} KB${st.storage.diskFree !== null ? `, ${Math.round(st.storage.diskFree / 1048576)} MB free` : ''}${st.storage.diskLow ? html` <span class="bad">disk low</span>` : ''}</dd>` : ''}</dl>
<h2>Channels</h2>${table(['Channel', 'Healthy', 'Detail', 'Live'], Object.entries(st.channels).filter(([, c]) => c.enabled).map(([n, c]) => html`<tr><td>${n}</td><td>${c.healthy ? html`<span class="ok">yes</span>` : html`<span class="bad">no</span>`}</td><td>${c.detail}</td><td><code>${c.status ? JSON.stringify(c.status).slice(0, 300) : ''}</code></td></tr>`))}
<h2>Appliances</h2>${nodesTable(nodes, this.d.clock.now(), cfg?.node.downAfter ?? 30_000, cfg?.node.name ?? null)}
<h2>Heartbeats</h2>${table(['Name', 'State'], hbs.map((h) => html`<tr><td>${h.name}</td><td>${h.quietSince !== null ? 'quiet' : 'ok'}</td></tr>`))}
<h2>Doctor: who can be reached</h2>${doctor}
<h2>Self-alarms</h2>${st.selfAlarms?.open.length ? html`<ul>${st.selfAlarms.open.map((o) => html`<li>${o.summary} (since ${o.since})</li>`)}</ul>` : html`<p>None open.</p>`}
<p class="hint">All checks (ports, speech, relay, modem, SIP): <code>alertline doctor</code>.</p>`;
      return this.send(reply, page({ title: 'Status', viewer: req.viewer!, active: '/status', body }));
    });

    // -- statistics --
    app.get<{ Querystring: Record<string, string> }>('/stats', viewer, async (req, reply) => {
      const range = this.range(req.query);
      const [alerts, attempts] = await Promise.all([s.reports.alertsBetween(range.from, range.to), s.reports.attemptsBetween(range.from, range.to)]);
      return this.send(reply, page({ title: 'Statistics', viewer: req.viewer!, active: '/stats', body: statsPage(range, alerts, attempts) }));
    });
    app.get<{ Querystring: Record<string, string> }>('/stats.csv', viewer, async (req, reply) => {
      const range = this.range(req.query);
      const [alerts, attempts] = await Promise.all([s.reports.alertsBetween(range.from, range.to), s.reports.attemptsBetween(range.from, range.to)]);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="alertline-${range.name}.csv"`).send(statsCsv(range, alerts, attempts));
    });

    // -- web users --
    app.get('/web-users', admin, async (req, reply) => {
      const v = req.viewer!;
      const list = await s.webUsers.list();
      const body = html`${table(['Login', 'Role', 'Person', 'Last login', ''], list.map((u) => html`<tr><td>${u.login}</td><td>${u.role}</td><td>${u.userEmail ?? ''}</td><td>${isoMinute(u.lastLoginAt) || 'never'}</td><td>${u.login.toLowerCase() !== v.login.toLowerCase() ? postButton(v, `/web-users/${encodeURIComponent(u.login)}/remove`, 'Remove', 'danger') : ''}</td></tr>`))}
<h2>Add a login</h2><form method="post" action="/web-users" class="stack" id="add-web-user">${csrfField(v)}<label>Login <input name="login" required></label>
<label>Role <select name="role"><option>viewer</option><option>responder</option><option>admin</option></select></label>
<label>Password <input name="password" type="password" minlength="8" required autocomplete="new-password"></label><label>Person (e-mail, optional) <input name="email" type="email"></label><button type="submit">Add login</button></form>`;
      return this.send(reply, page({ title: 'Web users', viewer: v, active: '/web-users', body, notice: this.notice(req) }));
    });
    app.post('/web-users', admin, async (req, reply) => {
      const f = form(req);
      const login = this.field(() => validateLogin(f.login ?? ''));
      const role = this.field(() => validateRole(f.role ?? ''));
      const bad = checkPassword(f.password ?? '');
      if (bad) throw new ConsoleError(400, bad);
      const u = await this.storeCall(async () => s.webUsers.add(login, role, await hashPassword(f.password!), f.email?.trim() || null));
      this.d.logger.info('console.web_user_added', { login: u.login, role: u.role, by: req.viewer!.login });
      return this.back(req, reply, '/web-users', `added ${u.login} (${u.role})`);
    });
    app.post<{ Params: { login: string } }>('/web-users/:login/remove', admin, async (req, reply) => {
      const login = req.params.login.slice(0, 64);
      if (login.toLowerCase() === req.viewer!.login.toLowerCase()) throw new ConsoleError(409, 'you cannot remove your own login here (use alertline web-users remove)');
      if (!(await s.webUsers.remove(login))) throw new ConsoleError(404, `no web user ${login}`);
      return this.back(req, reply, '/web-users', `removed ${login}`);
    });
  }

  // ---- pieces ----

  private field<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ValidationError) throw new ConsoleError(400, e.message);
      throw e;
    }
  }

  private range(q: Record<string, string>) {
    try {
      return parseRange(q, this.d.clock.now());
    } catch (e) {
      throw new ConsoleError(400, (e as Error).message);
    }
  }

  private returnTo(req: FastifyRequest, id: number): string {
    const ref = req.headers.referer;
    if (ref) {
      try {
        const u = new URL(ref);
        if (u.host === req.headers.host && (u.pathname === '/' || u.pathname === `/alerts/${id}`)) return u.pathname;
      } catch { /* ignore */ }
    }
    return '/';
  }

  private async startSession(reply: FastifyReply, login: string): Promise<void> {
    const id = newSecret();
    await this.d.stores.webUsers.createSession(hashSecret(id), login, newSecret(), SESSION_TTL_MS);
    void reply.header('set-cookie', [
      cookie(SESSION_COOKIE, id, { secure: this.d.tls, maxAgeSec: SESSION_TTL_MS / 1000 }),
      cookie(LOGIN_COOKIE, '', { secure: this.d.tls, path: '/login', maxAgeSec: 0 }),
    ]);
  }

  private loginPage(req: FastifyRequest, reply: FastifyReply, error: string | null, status = 200) {
    const pre = newSecret();
    const next = safeNext((req.query as Record<string, unknown>).next ?? form(req).next);
    void reply.code(status).header('set-cookie', cookie(LOGIN_COOKIE, pre, { secure: this.d.tls, path: '/login', maxAgeSec: 3600 }));
    return this.send(reply, page({
      title: 'Log in', viewer: null, error,
      body: html`<form method="post" action="/login" class="stack" id="login"><input type="hidden" name="_login" value="${pre}"><input type="hidden" name="next" value="${next}">
<label>Login <input name="login" required autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" required autocomplete="current-password"></label>
<button type="submit">Log in</button></form>`,
    }));
  }

  private async alertOr404(idText: string) {
    if (!/^\d{1,15}$/.test(idText)) throw new ConsoleError(400, 'id: expected a number');
    const a = await this.d.stores.alerts.get(Number(idText));
    if (!a) throw new ConsoleError(404, `no alert ${idText}`);
    return a;
  }

  /** One form per alert: Ack posts to its action, the other buttons to theirs (formaction); one CSRF field. */
  private actions(v: Viewer, id: number, state: string, back: string): Raw {
    const open = (OPEN_STATES as readonly string[]).includes(state) || state === 'delivered';
    if (!open && state !== 'acknowledged') return html``;
    const b = (what: string, label: string, cls = '') => html`<button type="submit" formaction="/alerts/${id}/${what}" class="${cls}">${label}</button>`;
    return html`<form method="post" action="/alerts/${id}/${open ? 'ack' : 'resolve'}" class="actions" aria-label="Actions for alert ${id}">${csrfField(v)}<input type="hidden" name="back" value="${back}"><input type="hidden" name="for" value="30m">${open ? b('ack', 'Ack', 'ack') : ''}${b('resolve', 'Resolve')}${open ? [b('escalate', 'Escalate'), b('snooze', 'Snooze 30m')] : ''}</form>`;
  }

  /** The board's rows: open alerts first (notifying, unacknowledged, failed), then recent ones. */
  private async boardRows(v: Viewer): Promise<Raw> {
    const s = this.d.stores;
    const now = this.d.clock.now();
    const [openRows, recentRows, running] = await Promise.all([
      s.changes.listAlerts({ states: OPEN_STATES, limit: 200 }),
      s.changes.listAlerts({ states: RECENT_STATES, limit: 100 }),
      s.reports.runningAttempts(),
    ]);
    const stillOpen = (a: (typeof openRows)[number]) => a.state === 'delivered' && a.kind !== 'resolved' && now - a.received_at < DELIVERED_OPEN_MS;
    const open = [...openRows, ...recentRows.filter(stillOpen)].sort((x, y) => y.id - x.id);
    const recent = recentRows.filter((a) => !stillOpen(a)).slice(0, 50);
    const calling = new Map<number, string[]>();
    for (const r of running) calling.set(r.alertId, [...(calling.get(r.alertId) ?? []), `${r.user} by ${r.channel}${r.target && r.target !== r.user ? ` (${r.target})` : ''}`]);
    const row = (a: (typeof open)[number], isOpen: boolean) => html`<tr data-id="${a.id}" data-state="${a.state}" class="${isOpen ? 'open' : 'recent'} sev-${a.level ?? 'none'}">
<td><a href="/alerts/${a.id}">${a.id}</a></td><td><span class="state state-${a.state}">${a.state}</span>${a.ack_by ? html` <span class="ack-by">by ${a.ack_by}</span>` : ''}</td>
<td>${a.severity ?? ''}</td><td>${a.host ?? ''}</td><td><a href="/alerts/${a.id}">${a.subject}</a></td><td>${age(now - a.received_at)}</td>
<td class="calling">${(calling.get(a.id) ?? []).join('; ')}</td><td>${can(v, 'responder') ? this.actions(v, a.id, a.state, '/') : ''}</td></tr>`;
    const rows = [...open.map((a) => row(a, true)), ...recent.map((a) => row(a, false))];
    return rows.length ? html`${rows}` : html`<tr><td colspan="8">No alerts yet. Send one: <code>swaks --server 127.0.0.1:2525 --to you@example.com --header "Subject: Problem: test"</code></td></tr>`;
  }

  /** Who is on call over the next two weeks, one cell per day and layer (overrides marked). */
  private calendarStrip(sc: Parameters<typeof shifts>[0], ovs: Parameters<typeof shifts>[1], now: number): Raw {
    const DAY = 86_400_000;
    const start = Math.floor(now / DAY) * DAY;
    const days = 14;
    let list: ReturnType<typeof shifts> = [];
    try { list = shifts(sc, ovs, start, start + days * DAY); } catch { /* too many shifts: no strip */ }
    const rows = sc.layers.map((l) => {
      const cells = Array.from({ length: days }, (_, i) => {
        const mid = start + i * DAY + DAY / 2;
        const sh = list.find((x) => x.layer === l.name && x.start <= mid && mid < x.end);
        return html`<td class="${sh?.override ? 'override' : ''}" title="${sh ? `${sh.member}${sh.override ? ` (override for ${sh.scheduled ?? '?'})` : ''}` : 'nobody'}">${sh ? sh.member.split('@')[0] : '—'}</td>`;
      });
      return html`<tr><th scope="row">${l.name}</th>${cells}</tr>`;
    });
    const head = Array.from({ length: days }, (_, i) => { const d = new Date(start + i * DAY); return html`<th scope="col">${d.toISOString().slice(5, 10)}</th>`; });
    return html`<div class="scroll"><table class="strip" aria-label="On call over the next ${days} days (UTC noon)"><thead><tr><th></th>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
  }
}

export { esc };
