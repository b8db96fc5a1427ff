/**
 * /metrics (Prometheus text format, prom-client): alerts by state and kind, attempts by channel
 * and outcome, accept latency (HTTP: whole request; SMTP: end of DATA to commit), queue depth
 * and oldest due age, channel health, heartbeats' last ping, and Node's own figures (event-loop
 * lag among them). Gauges from the store are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LiveStatus } from '../store/daemon-status.js';
import type { Heartbeat } from '../store/heartbeats.js';

export interface MetricsSources {
  alertCounts(): Promise<{ state: string; kind: string; n: number }[]>;
  attemptCounts(): Promise<{ channel: string; outcome: string; n: number }[]>;
  oldestDue(): Promise<number | null>;
  heartbeats(): Promise<Heartbeat[]>;
  snapshot(): Promise<LiveStatus>;
  now(): number;
  /** Prompt cache lookups since start, when the speech service runs. */
  ttsCache?(): { hits: number; misses: number } | null;
}

/**
 * The numeric and boolean leaves of a channel's own status object (dotted paths, at most 3 deep
 * and 40 of them), and its fields named `state` (short enum-like words). Nothing here names a
 * channel: what the modem or the SIP stack report shows up as it is.
 */
export function statusLeaves(status: unknown): [string, number | boolean | string][] {
  const out: [string, number | boolean | string][] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (out.length >= 40 || depth > 3 || v === null || typeof v !== 'object' || Array.isArray(v)) return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(k)) continue;
      const p = path ? `${path}.${k}` : k;
      if (typeof x === 'number' && Number.isFinite(x) && !/At$/.test(k)) out.push([p, x]);
      else if (typeof x === 'boolean') out.push([p, x]);
      else if (typeof x === 'string' && k === 'state' && /^[a-z][a-z0-9_-]{0,31}$/i.test(x)) out.push([p, x]);
      else if (typeof x === 'object') walk(x, p, depth + 1);
      if (out.length >= 40) return;
    }
  };
  walk(status, '', 1);
  return out;
}

export class Metrics {
  readonly registry = new Registry();
  readonly acceptLatency: Histogram<'receiver'>;
  readonly requests: Counter<'route' | 'code'>;
  private readonly alerts: Gauge<'state' | 'kind'>;
  private readonly attempts: Gauge<'channel' | 'outcome'>;
  private readonly openDeliveries: Gauge;
  private readonly running: Gauge;
  private readonly oldestDue: Gauge;
  private readonly channelUp: Gauge<'channel'>;
  private readonly channelEnabled: Gauge<'channel'>;
  private readonly channelBusy: Gauge<'channel'>;
  private readonly smtpAccepted: Gauge;
  private readonly channelStatus: Gauge<'channel' | 'field'>;
  private readonly channelState: Gauge<'channel' | 'field' | 'state'>;
  private readonly hbLastSeen: Gauge<'name'>;
  private readonly hbQuiet: Gauge<'name'>;
  private readonly ttsLookups: Gauge<'result'>;
  private readonly dbHealthy: Gauge;
  private readonly dbErrors: Counter<'code'>;
  private sources: MetricsSources | null = null;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    // Gauges named *_total break the exposition conventions (promtool check metrics); drop them.
    for (const m of this.registry.getMetricsAsArray()) if (m.name.endsWith('_total') && (m as unknown as { type?: string }).type !== 'counter') this.registry.removeSingleMetric(m.name);
    this.acceptLatency = new Histogram({
      name: 'alertline_accept_duration_seconds', help: 'Time from a received alert to its commit (HTTP: whole request; SMTP: end of DATA to commit).',
      labelNames: ['receiver'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers,
    });
    this.requests = new Counter({ name: 'alertline_http_requests_total', help: 'HTTP requests answered, by route and status code.', labelNames: ['route', 'code'], registers });
    this.alerts = new Gauge({ name: 'alertline_alerts', help: 'Stored alerts by state and kind.', labelNames: ['state', 'kind'], registers });
    this.attempts = new Gauge({ name: 'alertline_attempts', help: 'Stored delivery attempts by channel and outcome (running: not finished).', labelNames: ['channel', 'outcome'], registers });
    this.openDeliveries = new Gauge({ name: 'alertline_queue_open_deliveries', help: 'Deliveries still to do (queued or running).', registers });
    this.running = new Gauge({ name: 'alertline_queue_running', help: 'Delivery steps running now.', registers });
    this.oldestDue = new Gauge({ name: 'alertline_queue_oldest_due_age_seconds', help: 'How long the most overdue queued delivery has been due (0: none overdue).', registers });
    this.channelUp = new Gauge({ name: 'alertline_channel_healthy', help: 'Channel healthy (1) or not (0).', labelNames: ['channel'], registers });
    this.channelEnabled = new Gauge({ name: 'alertline_channel_enabled', help: 'Channel enabled in the configuration (1) or not (0).', labelNames: ['channel'], registers });
    this.channelBusy = new Gauge({ name: 'alertline_channel_busy', help: 'Delivery steps running on the channel.', labelNames: ['channel'], registers });
    this.channelStatus = new Gauge({ name: 'alertline_channel_status_value', help: 'Numbers and flags a channel reports about itself (modem signal.dbm, registered, SIP registration.failures, activeCalls...); true is 1.', labelNames: ['channel', 'field'], registers });
    this.channelState = new Gauge({ name: 'alertline_channel_status_state', help: 'States a channel reports (modem state, SIP registration.state): 1 for the current one.', labelNames: ['channel', 'field', 'state'], registers });
    this.smtpAccepted = new Gauge({ name: 'alertline_smtp_accepted_messages', help: 'Messages the SMTP receiver accepted since the daemon started.', registers });
    this.hbLastSeen = new Gauge({ name: 'alertline_heartbeat_last_seen_timestamp_seconds', help: 'Last ping of each heartbeat (0: never).', labelNames: ['name'], registers });
    this.ttsLookups = new Gauge({ name: 'alertline_tts_cache_lookups', help: 'Prompt cache lookups since the daemon started, by result (hit: spoken without synthesis).', labelNames: ['result'], registers });
    this.dbHealthy = new Gauge({ name: 'alertline_database_healthy', help: 'The database takes reads and writes (1) or fails (0), as the last self-alarm evaluation found it.', registers });
    this.dbErrors = new Counter({ name: 'alertline_database_errors_total', help: 'Database faults store calls met since the daemon started (I/O error, corrupt, busy, read-only, full...), by SQLite code.', labelNames: ['code'], registers });
    this.hbQuiet = new Gauge({ name: 'alertline_heartbeat_quiet', help: 'Heartbeat is quiet (its alert raised: 1) or not (0).', labelNames: ['name'], registers });
  }

  bind(sources: MetricsSources): void {
    this.sources = sources;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    const s = this.sources;
    if (s) {
      // A failing database must not take /metrics down with it: what the store cannot tell keeps its last value.
      const [alerts, attempts, due, hbs] = await Promise.all([
        s.alertCounts().catch(() => null), s.attemptCounts().catch(() => null), s.oldestDue().catch(() => undefined), s.heartbeats().catch(() => null),
      ]);
      const snap = await s.snapshot();
      if (alerts) {
        this.alerts.reset();
        for (const r of alerts) this.alerts.set({ state: r.state, kind: r.kind }, r.n);
      }
      if (attempts) {
        this.attempts.reset();
        for (const r of attempts) this.attempts.set({ channel: r.channel, outcome: r.outcome }, r.n);
      }
      const now = s.now();
      if (due !== undefined) this.oldestDue.set(due !== null && due < now ? (now - due) / 1000 : 0);
      if (snap.database) {
        this.dbHealthy.set(snap.database.ok ? 1 : 0);
        this.dbErrors.reset();
        for (const [code, n] of Object.entries(snap.database.errors)) this.dbErrors.inc({ code }, n);
      }
      this.openDeliveries.set(snap.queue.openDeliveries);
      this.running.set(snap.queue.running);
      this.smtpAccepted.set(snap.receiver.listening ? snap.receiver.accepted : 0);
      this.channelUp.reset();
      this.channelEnabled.reset();
      this.channelBusy.reset();
      this.channelStatus.reset();
      this.channelState.reset();
      for (const [name, c] of Object.entries(snap.channels)) {
        this.channelUp.set({ channel: name }, c.healthy ? 1 : 0);
        this.channelEnabled.set({ channel: name }, c.enabled ? 1 : 0);
        this.channelBusy.set({ channel: name }, c.busy);
        for (const [field, v] of statusLeaves(c.status)) {
          if (typeof v === 'string') this.channelState.set({ channel: name, field, state: v }, 1);
          else this.channelStatus.set({ channel: name, field }, typeof v === 'boolean' ? (v ? 1 : 0) : v);
        }
      }
      const tts = s.ttsCache?.() ?? null;
      this.ttsLookups.reset();
      if (tts) {
        this.ttsLookups.set({ result: 'hit' }, tts.hits);
        this.ttsLookups.set({ result: 'miss' }, tts.misses);
      }
      if (hbs) this.hbLastSeen.reset();
      if (hbs) this.hbQuiet.reset();
      for (const h of hbs ?? []) {
        this.hbLastSeen.set({ name: h.name }, h.lastSeenAt ? h.lastSeenAt / 1000 : 0);
        this.hbQuiet.set({ name: h.name }, h.quietSince !== null ? 1 : 0);
      }
    }
    return this.registry.metrics();
  }

  /** Stops the default collectors' timers (event-loop monitor). */
  close(): void {
    this.registry.clear();
  }
}
