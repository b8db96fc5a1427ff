/**
 * Wiring: the store, the SMTP receiver, the dispatcher and the channels; start, stop, reload; the
 * live status snapshot that `alertline status` reads.
 */
import { hostname } from 'node:os';
import type { Config } from './config/schema.js';
import type { ChannelName, InboundSink, Sender } from './channels/channel.js';
import { CHANNEL_NAMES } from './channels/channel.js';
import { openStoresAt, type Stores } from './store/index.js';
import { CHANGES_CHANNEL } from './store/sql/driver.js';
import type { ChannelSnapshot, LiveStatus } from './store/daemon-status.js';
import type { AdmitDecide } from './store/rows.js';
import { AlertWriter } from './receiver/alert-writer.js';
import { syntheticMail } from './receiver/http/synthetic-mail.js';
import { SmtpReceiver } from './receiver/smtp-receiver.js';
import { ParsePool, parseWorkerCount, type ParsePoolOptions } from './receiver/parse-pool/pool.js';
import { admissionRules, compileIgnore } from './core/admission.js';
import { acknowledger, identify, type AckRequest, type AckResult } from './core/acknowledge.js';
import { sipAddressKey } from './channels/voip/sip-target.js';
import { parseReply, REPLY_HELP } from './core/replies.js';
import { cleanSubject } from './core/subject.js';
import { lifecycle, type ActionRequest, type ActionResult } from './core/actions.js';
import { Router, routeNewAlert } from './core/routing.js';
import type { NewAlert } from './core/admission.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { ChannelManager, type ChannelFactory } from './channels/manager.js';
import { channelFactories } from './channels/factories.js';
import type { PromptAudio } from './audio/prompt-audio.js';
import type { SpeechService } from './audio/speech-service.js';
import { systemClock, type Clock } from './util/clock.js';
import { createLogger, type Logger } from './util/log.js';
import { DiskSpace, type SpaceVerdict } from './util/disk.js';
import { RetentionLoop } from './store/retention.js';

/** An existing database up to this size is converted to auto_vacuum=INCREMENTAL at start (one VACUUM). */
const CONVERT_VACUUM_MAX_BYTES = 64 * 1024 * 1024;
import { HttpServer } from './http/server.js';
import { Metrics } from './http/metrics.js';
import { WebhookIngest } from './receiver/http/ingest.js';
import { HeartbeatMonitor } from './receiver/http/heartbeats.js';
import { createRequire } from 'node:module';
import { SelfAlarms, type SelfAlarmDeps } from './appliance/self-alarms.js';
import { StoreHealth, watchStores } from './store/health.js';
import { sendDirect } from './dispatch/direct.js';
import { ConsolePresence } from './channels/console/presence.js';
import { newSecret } from './http/web-auth.js';
import { alertView } from './core/alert-view.js';
import { voiceText } from './compose/texts.js';

export interface DaemonOptions {
  config: Config;
  configPath?: string | null;
  clock?: Clock;
  logger?: Logger;
  /** Replace channel factories (tests use fake channels). */
  factories?: Partial<Record<ChannelName, ChannelFactory>>;
  statusIntervalMs?: number;
  pollIntervalMs?: number;
  /** Parse pool settings other than its size (tests: a worker bundled from the sources, tight limits). */
  parsePool?: Pick<ParsePoolOptions, 'script' | 'resourceLimits' | 'timeoutMs' | 'idleMs'>;
  /** Replace the self-alarms' disk and clock probes (tests). */
  selfAlarms?: Pick<SelfAlarmDeps, 'diskFree' | 'clockSynced' | 'repageMs'>;
  /** Where the one-time console setup link goes (run: stdout). Not the log: it holds a secret. */
  announce?: (line: string) => void;
  /** Already open stores (start() opens store.engine otherwise). */
  stores?: Stores;
}

/** The real channels, for tests that want one of them without a whole daemon's acknowledgement path. */
export function defaultFactories(logger: Logger): Partial<Record<ChannelName, ChannelFactory>> {
  return channelFactories({
    logger,
    audio: () => Promise.reject(new Error('no speech service in this context')),
  });
}

/** The package version (from src/ under tests, dist/src/ when built). */
function packageVersion(): string {
  const req = createRequire(import.meta.url);
  for (const p of ['../package.json', '../../package.json']) {
    try {
      const pkg = req(p) as { name?: string; version?: string };
      if (pkg.name === 'alertline' && pkg.version) return pkg.version;
    } catch { /* try the next */ }
  }
  return '0.0.0';
}

export class Daemon {
  readonly stores: Stores;
  readonly dispatcher: Dispatcher;
  readonly receiver: SmtpReceiver;
  /** Parse workers (smtp.parseWorkers), or null when mail is parsed on the main thread. */
  private readonly parsePool: ParsePool | null;
  readonly channels: ChannelManager;
  /** Free space on the data disk (store.minFreeSpace): SMTP and HTTP ingest refuse below it. */
  readonly disk: DiskSpace;
  /** Pruning by retention.history / retention.raw, off the hot path. */
  readonly retention: RetentionLoop;
  readonly http: HttpServer;
  readonly heartbeats: HeartbeatMonitor;
  readonly metrics: Metrics;
  /** The appliance's own alarms (a dead modem, a failing relay, an alert nobody got) to admins.group. */
  readonly selfAlarms: SelfAlarms;
  /** Database faults every store call met (I/O errors, corruption, locked, read-only...). */
  readonly storeHealth: StoreHealth;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private fileConfig: Config;
  private readonly startedAt: number;
  private statusTimer: NodeJS.Timeout | null = null;
  private stopListening: (() => void) | null = null;
  private rulesCache: { key: string; rules: AdmitDecide | null } = { key: '', rules: null };
  /** The one acknowledgement entry (core): keys, SMS replies, call-backs, CLI, API, web. */
  readonly acknowledge: (req: AckRequest) => Promise<AckResult>;
  /** Replies and call-backs arriving through channels. */
  readonly inbound: InboundSink;
  /** The group-commit writer every way in submits to (SMTP, HTTP, the appliance's own notices). */
  readonly writer: AlertWriter;
  /** Two SIP addresses name the same person under the voip domain ("201", "sip:201@pbx"). */
  private readonly sameSip = (a: string, b: string): boolean => {
    const domain = this.lastConfig.channels.voip.domain;
    const ka = sipAddressKey(a, domain);
    return ka !== null && ka === sipAddressKey(b, domain);
  };
  /** The core's other actions: resolve, snooze, escalate. */
  readonly act: (req: ActionRequest) => Promise<ActionResult>;
  private readonly configPath: string | null;
  private stopped = false;
  private speech: Promise<SpeechService> | null = null;
  /** The speech service once it runs (for metrics). */
  private speechNow: SpeechService | null = null;
  private speechError: string | null = null;
  /** Who has the web console open (the console channel shows alerts there). */
  readonly presence = new ConsolePresence();
  /** The one-time console setup token while no web user exists. */
  private setupToken: string | null = null;
  private setupUrl: string | null = null;
  /** Resolves once the initial channel bring-up is done and the dispatcher runs. */
  channelsReady: Promise<void> = Promise.resolve();

  private constructor(opts: DaemonOptions & { stores: Stores }) {
    this.fileConfig = opts.config;
    this.lastConfig = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger({ level: opts.config.logLevel });
    this.startedAt = this.clock.now();
    this.configPath = opts.configPath ?? null;
    this.storeHealth = new StoreHealth(() => this.clock.now());
    this.stores = watchStores(opts.stores, this.storeHealth);
    this.stores.deliveries.setLease({ node: opts.config.node.name, ms: opts.config.node.lease });
    const ack = acknowledger({
      alerts: this.stores.alerts, users: this.stores.users, sameSip: this.sameSip, now: () => this.clock.now(), logger: this.logger,
      changed: () => this.dispatcher.poke(),
    });
    this.acknowledge = async (req) => {
      const r = await ack(req);
      if (r.ok) void this.tellOthers(r.alertId, `Acknowledged by ${r.by}`, r.by).catch((e: Error) => this.logger.warn('notice.failed', { error: e }));
      return r;
    };
    const act = lifecycle({
      alerts: this.stores.alerts, users: this.stores.users, sameSip: this.sameSip, policyRuns: this.stores.policyRuns, now: () => this.clock.now(), logger: this.logger,
      changed: () => this.dispatcher.poke(),
    });
    this.act = async (req) => {
      const r = await act(req);
      // Those the alert reached hear it was resolved, like an acknowledgement (escalation.ackNotice).
      if (r.ok && r.action === 'resolve') void this.tellOthers(r.alertId, `Resolved by ${r.by}`, r.by).catch((e: Error) => this.logger.warn('notice.failed', { error: e }));
      return r;
    };
    this.inbound = {
      message: (from, text, via) => this.onMessage(from, text, via),
      callBack: (from, via) => this.onCallBack(from, via),
    };
    this.channels = new ChannelManager(
      opts.factories ?? channelFactories({
        logger: this.logger, inbound: this.inbound, audio: () => this.audio(), presence: this.presence,
      }),
      this.logger, () => this.clock.now());
    this.dispatcher = new Dispatcher({
      alerts: this.stores.alerts, deliveries: this.stores.deliveries, users: this.stores.users,
      channels: () => this.channels.channels, acknowledge: this.acknowledge, act: this.act,
      policyRuns: this.stores.policyRuns, policyPeople: (now) => this.router(now),
      config: () => this.config(), clock: this.clock, logger: this.logger,
      ...(opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {}),
      onExhausted: (id, state) => this.selfAlarms.onExhausted(id, state),
      runPolicies: () => this.leader(),
      ...(this.stores.engine === 'postgres' ? {
        elsewhere: (channel: string) => this.stores.nodes.elsewhere(this.fileConfig.node.name, channel, this.clock.now() - this.fileConfig.node.downAfter),
      } : {}),
    });
    this.disk = new DiskSpace(opts.config.dataDir, () => this.lastConfig.store.minFreeSpace, () => this.clock.now());
    this.retention = new RetentionLoop({
      leader: () => this.leader(),
      store: this.stores.retention, clock: this.clock, logger: this.logger.child({ part: 'retention' }),
      settings: () => this.lastConfig.retention,
      onPruned: () => this.disk.invalidate(),
    });
    const writer = new AlertWriter(this.stores.alerts, () => this.admission(), () => this.dispatcher.committed(), 256, (item) => this.route(item));
    this.writer = writer;
    this.metrics = new Metrics();
    // SMTP accept latency: from the end of DATA (submit) to the commit.
    const smtpWriter = Object.assign(Object.create(writer) as AlertWriter, {
      submit: (item: NewAlert) => {
        const t0 = performance.now();
        return writer.submit(item).finally(() => this.metrics.acceptLatency.observe({ receiver: 'smtp' }, (performance.now() - t0) / 1000));
      },
    });
    this.selfAlarms = new SelfAlarms({
      alerts: this.stores.alerts, deliveries: this.stores.deliveries, users: this.stores.users, writer,
      config: () => this.config(), channels: (cfg) => this.channelStates(cfg), clock: this.clock,
      logger: this.logger.child({ part: 'self-alarm' }), hostname: opts.config.smtp.hostname,
      ttsError: () => this.speechError,
      database: { faults: this.storeHealth, probe: (now) => this.stores.probe(now) },
      sendDirect: (alert, to) => sendDirect({ channels: () => this.channels.channels, busy: (name) => this.dispatcher.runningCount(name), clock: this.clock }, alert, to),
      ...opts.selfAlarms,
      ...(this.stores.engine === 'postgres' ? { nodesDown: (now: number) => this.nodesDown(now) } : {}),
    });
    const workers = parseWorkerCount(opts.config.smtp.parseWorkers);
    this.parsePool = workers > 0 ? new ParsePool({ ...opts.parsePool, size: workers, clock: this.clock, logger: this.logger.child({ part: 'parse' }) }) : null;
    this.receiver = new SmtpReceiver({
      config: opts.config.smtp, users: this.stores.users, writer: smtpWriter,
      openDeliveries: () => this.openDeliveriesCached(),
      maxPending: () => this.lastConfig.filter.maxPending,
      routes: async (address) => (await this.router(this.clock.now())).knows(address),
      heartbeat: {
        known: async (name) => (await this.stores.heartbeats.get(name)) !== null,
        ping: (name) => this.heartbeats.ping(name),
      },
      diskSpace: () => this.spaceForAlerts(),
      ...(this.parsePool ? { parse: this.parsePool.parse } : {}),
      clock: this.clock, logger: this.logger,
    });
    const defaultTo = () => this.lastConfig.http.defaultTo;
    this.heartbeats = new HeartbeatMonitor({
      leader: () => this.leader(),
      store: this.stores.heartbeats, users: this.stores.users, writer, defaultTo, clock: this.clock,
      logger: this.logger.child({ part: 'heartbeat' }), hostname: hostname(), checkEveryMs: opts.config.http.heartbeatCheckInterval,
    });
    this.metrics.bind({
      alertCounts: () => this.stores.changes.alertCounts(), attemptCounts: () => this.stores.changes.attemptCounts(),
      oldestDue: () => this.stores.changes.oldestDue(), heartbeats: () => this.stores.heartbeats.list(), snapshot: () => this.snapshot(),
      now: () => this.clock.now(),
      ttsCache: () => this.speechNow?.cacheLookups() ?? null,
    });
    this.http = new HttpServer({
      config: opts.config.http, stores: this.stores,
      ingest: new WebhookIngest({
        users: this.stores.users, writer, openDeliveries: () => this.openDeliveriesCached(),
        maxPending: () => this.lastConfig.filter.maxPending, defaultTo, now: () => this.clock.now(),
      }),
      heartbeats: this.heartbeats, acknowledge: this.acknowledge, act: (req) => this.act(req), snapshot: () => this.snapshot(), changed: () => this.dispatcher.poke(),
      metrics: this.metrics, clock: this.clock, logger: this.logger.child({ part: 'http' }), hostname: hostname(),
      version: packageVersion(),
      console: {
        presence: this.presence,
        setup: { token: () => this.setupToken, done: () => { this.setupToken = this.setupUrl = null; } },
        promptWav: (id) => this.promptWav(id),
        config: () => this.config(),
      },
    });
  }

  /** The spoken prompt of an alert (what a call says) as a WAV file. */
  private async promptWav(alertId: number): Promise<string | null> {
    const a = await this.stores.alerts.get(alertId);
    if (!a) return null;
    const cfg = await this.config();
    const audio = await this.audio();
    return audio.callWav(voiceText(alertView(a, (await this.stores.alerts.raw(alertId)) ?? Buffer.alloc(0)), cfg.voice.lang), cfg.voice.lang);
  }

  /** Before the first web user exists: a one-time link that creates the first admin. */
  private async offerSetup(announce?: (line: string) => void): Promise<void> {
    if ((await this.stores.webUsers.count()) > 0) return;
    const a = this.http.address();
    if (!a) return;
    this.setupToken = newSecret();
    const host = a.address === '0.0.0.0' || a.address === '::' ? hostname() : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    this.setupUrl = `${this.http.scheme}://${host}:${a.port}/setup?token=${this.setupToken}`;
    this.logger.info('console.setup_pending', { note: 'no web user yet: the one-time setup link is on stdout and in alertline status' });
    announce?.(`Web console: create the first admin at ${this.setupUrl}`);
  }

  private openCache: { at: number; n: number; pending: Promise<number> | null } = { at: -Infinity, n: 0, pending: null };

  /**
   * Open deliveries for the receiver's capacity check at every MAIL FROM. Counting costs
   * O(backlog), so the figure is reused for 200 ms: maxPending is a soft bound, and a brief
   * overshoot by what arrives in 200 ms is harmless, where a count per message under a deep
   * backlog is not.
   */
  private openDeliveriesCached(): number | Promise<number> {
    const now = performance.now();
    if (now - this.openCache.at <= 200) return this.openCache.n;
    this.openCache.pending ??= this.stores.deliveries.openCount().then((n) => {
      this.openCache = { at: performance.now(), n, pending: null };
      return n;
    }, (e: Error) => {
      this.openCache.pending = null;
      throw e;
    });
    return this.openCache.pending;
  }

  private routerCache: { at: number; router: Promise<Router> } | null = null;

  /** The routing tables compiled, read again at most every second (routes, policies, schedules, silences). */
  private router(now: number): Promise<Router> {
    if (!this.routerCache || Math.abs(now - this.routerCache.at) > 1000) {
      const router = this.stores.oncall.routingTables(now).then((t) => new Router(t));
      router.catch(() => { this.routerCache = null; });
      this.routerCache = { at: now, router };
    }
    return this.routerCache.router;
  }

  /** Routing before admission (core): escalation policies for route addresses, silences. */
  private async route(item: NewAlert): Promise<NewAlert> {
    if (item.parsed.monitor === 'alertline' || item.plan) return item;
    return routeNewAlert(item, await this.router(item.receivedAt), this.logger);
  }

  /**
   * Whether there is room to accept new alerts (store.minFreeSpace): every way in (SMTP at MAIL
   * FROM, HTTP ingest) asks this first and answers a temporary failure when it is not ok.
   */
  spaceForAlerts(): Promise<SpaceVerdict> {
    return this.disk.check();
  }

  /** The effective config last read (for the receiver's synchronous checks). */
  private lastConfig: Config;

  /** File config with the database's runtime settings applied. */
  async config(): Promise<Config> {
    this.lastConfig = await this.stores.settings.effective(this.fileConfig);
    return this.lastConfig;
  }

  /** The admission rules for the settings in force (compiled once per change of settings). */
  private async admission(): Promise<AdmitDecide> {
    const cfg = await this.config();
    const settings = { ignore: cfg.filter.ignoreSubjects, dedupeWindowMs: cfg.filter.dedupeWindow, notifyResolved: cfg.escalation.notifyResolved };
    const key = JSON.stringify(settings);
    if (key !== this.rulesCache.key || !this.rulesCache.rules) {
      this.rulesCache = { key, rules: admissionRules({ ...settings, ignore: compileIgnore(settings.ignore) }) };
    }
    return this.rulesCache.rules!;
  }

  /** The speech service shared by the call channels (created once; validates voice.lang). */
  audio(): Promise<PromptAudio> {
    if (!this.speech) {
      const cfg = this.fileConfig;
      this.speech = import('./audio/speech-service.js').then(({ SpeechService }) =>
        SpeechService.create({ voice: cfg.voice, cacheDir: cfg.audioCacheDir, logger: this.logger.child({ part: 'speech' }) }));
      this.speech.then((sp) => { this.speechError = null; this.speechNow = sp; }, (e: Error) => { this.speech = null; this.speechNow = null; this.speechError = e.message; });
    }
    return this.speech;
  }

  /** The "original message" of a notice the appliance writes itself (the mail channel relays it). */
  private noticeMail(cfg: Config, subject: string, id: string): Buffer {
    return syntheticMail({ from: `Alertline <alertline@${cfg.smtp.hostname}>`, subject, text: subject, date: this.clock.now(), messageId: `${id}@${cfg.smtp.hostname}` });
  }

  /**
   * "Acknowledged by Ana" (or resolved): a short text notice to the others the alert reached, so
   * nobody keeps working on what someone took (escalation.ackNotice).
   */
  private async tellOthers(alertId: number, what: string, by: string): Promise<void> {
    const cfg = await this.config();
    if (!cfg.escalation.ackNotice) return;
    const a = await this.stores.alerts.get(alertId);
    if (!a) return;
    // A web login that is a person (web-users --user) acknowledged as that person: no notice to themselves.
    const web = /^web:(.+)$/.exec(by);
    const self = (web ? (await this.stores.webUsers.get(web[1]!))?.userEmail : null) ?? by;
    const others = (await this.stores.alerts.informedOf(alertId)).filter((e) => e.toLowerCase() !== self.toLowerCase());
    if (!others.length) return;
    const subject = `${what}: ${cleanSubject(a.subject)}`.slice(0, 300);
    const raw = this.noticeMail(cfg, subject, `notice-${alertId}-${this.clock.now()}`);
    await this.writer.submit({
      parsed: { kind: 'update', subject, text: subject, problemKey: `notice:${alertId}`, monitor: 'alertline', ...(a.host ? { host: a.host } : {}) },
      raw, rcpt: others, recipients: others.map((email) => ({ email })), receivedAt: this.clock.now(), client: 'alertline', textOnly: true,
    });
  }

  /** A text back from a person (SMS reply, chat): read with the core's reply grammar. */
  /**
   * A text back from a person (SMS reply, chat): read with the core's reply grammar and acted on
   * through the core. A known sender is answered (what was done, or the codes); a stranger is not.
   */
  private async onMessage(from: Sender, text: string, via: string): Promise<string | null> {
    const reply = parseReply(text);
    const by = from.phone ? { phone: from.phone } : from.sip ? { sip: from.sip } : from.xmpp ? { xmpp: from.xmpp } : null;
    if (!by) {
      this.logger.info('inbound.ignored', { via, reason: 'no sender address' });
      return null;
    }
    if (reply.type === 'other') {
      const known = await identify({ users: this.stores.users, sameSip: this.sameSip }, by);
      this.logger.info('inbound.not_a_code', { via, known: Boolean(known) });
      return known ? REPLY_HELP : null;
    }
    const r = await this.act({ action: reply.type, by, via: `${via}-reply`, ...(reply.alertId !== undefined ? { alertId: reply.alertId } : {}) });
    if (!r.ok && r.message === 'this number belongs to no user') return null;
    return `Alertline: ${r.ok ? r.detail : r.message}.`;
  }

  /** A call from a user's phone (rejected unanswered): acknowledges their latest alert, confirmed by SMS. */
  private async onCallBack(from: Sender, via: string): Promise<string | null> {
    if (!from.phone) return null;
    const r = await this.acknowledge({ by: { phone: from.phone }, via });
    if (r.ok) return `Alertline: alert ${r.alertId} acknowledged by your call.`;
    return r.reason === 'unknown-sender' ? null : `Alertline: your call acknowledged nothing (${r.message}).`;
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const clock = opts.clock ?? systemClock;
    const stores = opts.stores ?? await openStoresAt(opts.config.store, opts.config.dataDir, () => clock.now());
    const d = new Daemon({ ...opts, stores });
    try {
      const cfg = await d.config();
      // A voice setting that cannot work is a start-up error, not a 3 a.m. surprise.
      if (!opts.factories && (cfg.channels.voip.enabled || cfg.channels.gsm.enabled)) await d.audio();
      d.convertVacuum();
      // Accepting and storing mail comes first: a slow modem bring-up must never refuse alerts.
      await d.receiver.listen();
      // Webhooks and the API next; a taken port is retried in the background, never fatal.
      await d.http.listen();
      await d.offerSetup(opts.announce);
      d.heartbeats.start();
    } catch (e) {
      await d.stop(0).catch(() => {});
      throw e;
    }
    // Channels come up in the background; dispatching starts once they have had their chance,
    // so queued alerts don't walk past a channel that is still starting.
    d.channelsReady = d.config().then((cfg) => d.channels.sync(cfg)).catch((e) => d.logger.error('channel.sync_failed', { error: e as Error })).then(async () => {
      if (!d.stopped) await d.dispatcher.start();
    });
    d.retention.start();
    // Several nodes: an ack or a new alert committed on another node rescans here at once
    // (NOTIFY); the dispatcher's one-second poll covers a lost listening connection.
    d.stopListening = await d.stores.sql.listen(CHANGES_CHANNEL, () => d.dispatcher.poke()).catch(() => null);
    await d.writeStatus();
    d.statusTimer = setInterval(() => d.housekeeping(), opts.statusIntervalMs ?? 5000);
    d.statusTimer.unref();
    d.logger.info('daemon.started', { pid: process.pid, config: opts.configPath ?? '(defaults)', dataDir: opts.config.dataDir });
    return d;
  }

  /** One-time: an old database learns to give pruned pages back (README: Retention). */
  private convertVacuum(): void {
    try {
      const r = this.stores.retention.convertToIncremental(CONVERT_VACUUM_MAX_BYTES);
      if (r === 'converted') this.logger.info('store.vacuum_converted', { autoVacuum: 'incremental' });
      if (r === 'too-large') this.logger.warn('store.vacuum_not_converted', { note: 'database larger than 64 MB: pruned space is reused but the file does not shrink; see README, Retention' });
    } catch (e) {
      this.logger.warn('store.vacuum_not_converted', { error: e as Error });
    }
  }

  private async storage(): Promise<NonNullable<LiveStatus['storage']>> {
    const st = await this.stores.stats();
    const space = await this.disk.check();
    const p = this.retention.last;
    return {
      dbBytes: st.dbBytes, freeBytes: st.freeBytes, oldestAlertAt: st.oldestAlertAt, autoVacuum: st.autoVacuum,
      diskFree: Number.isFinite(space.free) ? space.free : null, minFreeSpace: space.min, diskLow: !space.ok,
      lastPrune: p ? { at: p.at, ms: p.ms, alerts: p.alerts, related: p.related, raw: p.raw, pagesFreed: p.pagesFreed, interrupted: p.interrupted } : null,
      lastPruneError: this.retention.lastError,
    };
  }

  private housekeeping(): void {
    this.config().then((cfg) => this.channels.sync(cfg)).catch((e) => this.logger.error('channel.sync_failed', { error: e as Error }));
    // Singletons: with several nodes on one database only the one holding the lock runs them.
    void this.leader().then((lead) => {
      if (!lead || this.stopped) return;
      void this.selfAlarms.evaluate();
      void this.remindAcknowledgers(this.clock.now()).catch((e: Error) => this.logger.warn('ack_reminder.failed', { error: e }));
    });
    void this.writeStatus();
  }

  /**
   * Whether this node runs the singletons now (retention, heartbeat checks, self-alarms,
   * reminders, escalation policies): the holder of a PostgreSQL advisory lock, taken over by
   * another node when its holder's connection dies. On SQLite: always.
   */
  leader(): Promise<boolean> {
    return this.stores.sql.holdLock('alertline:singletons').catch(() => false);
  }

  /** Other nodes that stopped heartbeating without stopping cleanly. */
  private async nodesDown(now: number): Promise<{ name: string; seenAt: number }[]> {
    const me = this.fileConfig.node.name;
    return (await this.stores.nodes.list())
      .filter((n) => n.name !== me && !n.status.stopped && now - n.seenAt > this.fileConfig.node.downAfter)
      .map((n) => ({ name: n.name, seenAt: n.seenAt }));
  }

  /** This node's heartbeat row: its channels and their health, what it runs. */
  private async nodeBeat(stopped = false): Promise<void> {
    const cfg = await this.config();
    const channels: Record<string, { healthy: boolean; detail: string; busy: number }> = {};
    for (const c of this.channelStates(cfg)) channels[c.name] = { healthy: c.running && c.healthy, detail: c.detail, busy: this.dispatcher.runningCount(c.name) };
    await this.stores.nodes.beat(this.fileConfig.node.name, process.pid, this.startedAt, this.clock.now(), {
      hostname: hostname(), channels, running: this.dispatcher.runningSteps(), ...(stopped ? { stopped: true } : {}),
    });
  }

  /**
   * People acknowledge and forget: an alert acknowledged but not resolved after
   * escalation.ackTimeout notifies the acknowledger again (once), as an alert of its own.
   * Returns how many reminders went out.
   */
  async remindAcknowledgers(now: number): Promise<number> {
    const cfg = await this.config();
    if (cfg.escalation.ackTimeout <= 0) return 0;
    let n = 0;
    for (const a of await this.stores.alerts.ackTimedOut(now - cfg.escalation.ackTimeout)) {
      const who = a.ack_by ? await this.stores.users.get(a.ack_by) : null;
      await this.stores.alerts.event(a.id, now, 'ack-reminder', who ? `acknowledged by ${who.email} ${Math.round((now - a.ack_at!) / 60_000)} min ago and still not resolved: reminding them` : `acknowledged by ${a.ack_by ?? '?'} (not a user: nobody to remind)`);
      if (!who) continue;
      const subject = `Still not resolved (you acknowledged it): ${cleanSubject(a.subject)}`.slice(0, 300);
      const raw = this.noticeMail(cfg, subject, `reminder-${a.id}-${now}`);
      await this.writer.submit({
        parsed: { kind: 'update', subject, text: subject, problemKey: `reminder:${a.id}`, monitor: 'alertline', ...(a.host ? { host: a.host } : {}), ...(a.level ? { level: a.level as NonNullable<NewAlert['parsed']['level']> } : {}) },
        raw, rcpt: [who.email], recipients: [{ email: who.email }], receivedAt: now, client: 'alertline',
      });
      this.logger.info('alert.ack_reminder', { alert: a.id, to: who.email });
      n++;
    }
    return n;
  }

  /** The enabled channels, running or not, as the self-alarms see them. */
  private channelStates(cfg: Config): { name: string; running: boolean; healthy: boolean; detail: string }[] {
    const active = this.channels.channels;
    return CHANNEL_NAMES.filter((n) => cfg.channels[n].enabled).map((name) => {
      const h = active[name]?.health();
      return { name, running: Boolean(active[name]), healthy: h?.healthy ?? false, detail: h?.detail ?? this.channels.startError(name) ?? 'not started' };
    });
  }

  /** SIGHUP: take the new file config (runtime settings in the database still override it). */
  reload(config: Config): void {
    this.fileConfig = config;
    this.logger.info('daemon.reloaded', {});
    this.housekeeping();
    this.dispatcher.poke();
  }

  private lastSnapshot: LiveStatus | null = null;

  /**
   * The live state. It must answer while the database fails (that is when it matters): what the
   * store cannot tell is the last figure read, and `database` says what fails.
   */
  async snapshot(): Promise<LiveStatus> {
    const cfg = await this.config().catch(() => this.lastConfig);
    const last = this.lastSnapshot;
    const chans: Record<string, ChannelSnapshot> = {};
    const active = this.channels.channels;
    for (const name of CHANNEL_NAMES) {
      const ch = active[name];
      const h = ch?.health();
      const extra = ch?.status?.();
      chans[name] = {
        enabled: cfg.channels[name].enabled,
        running: Boolean(ch),
        healthy: h?.healthy ?? false,
        detail: h?.detail ?? (cfg.channels[name].enabled ? this.channels.startError(name) ?? 'starting' : 'disabled'),
        busy: this.dispatcher.runningCount(name),
        ...(ch ? { kind: ch.kind } : {}),
        ...(extra ? { status: extra } : {}),
      };
    }
    const a = this.receiver.address();
    const midnight = new Date(this.clock.now());
    midnight.setHours(0, 0, 0, 0);
    const snap: LiveStatus = {
      hostname: hostname(),
      uptimeSec: Math.round((this.clock.now() - this.startedAt) / 1000),
      configPath: this.configPath,
      receiver: a ? { listening: true, address: a.address, port: a.port, accepted: this.receiver.acceptedCount } : { listening: false },
      queue: { openDeliveries: await this.stores.deliveries.openCount().catch(() => last?.queue.openDeliveries ?? 0), running: this.dispatcher.runningCount() },
      alertsToday: await this.stores.alerts.countByState(midnight.getTime()).catch(() => last?.alertsToday ?? {}),
      channels: chans,
      order: cfg.channels.order,
      ...await this.storage().then((storage) => ({ storage }), () => (last?.storage ? { storage: last.storage } : {})),
      selfAlarms: this.selfAlarms.status(),
      database: { ...this.selfAlarms.database(), ...this.storeHealth.state() },
      console: { screens: this.presence.size, ...(this.setupUrl && this.setupToken ? { setupUrl: this.setupUrl } : {}) },
    };
    this.lastSnapshot = snap;
    return snap;
  }

  private async writeStatus(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.stores.daemonStatus.write(process.pid, this.startedAt, this.clock.now(), await this.snapshot());
      await this.nodeBeat();
    } catch (e) {
      this.logger.warn('status.write_failed', { error: e as Error });
    }
  }

  smtpPort(): number {
    return this.receiver.address()?.port ?? 0;
  }

  /** Stop: refuse new mail (421), let running steps finish up to graceMs, stop channels, close the database. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.stopListening?.();
    this.logger.info('daemon.stopping', { graceMs });
    const closing = this.receiver.close();
    this.heartbeats.stop();
    const httpClosing = this.http.close().catch((e) => this.logger.warn('http.close_failed', { error: e as Error }));
    await Promise.race([this.channelsReady, new Promise((r) => setTimeout(r, 5000))]);
    await this.retention.stop();
    await this.dispatcher.stop(graceMs);
    this.selfAlarms.stop();
    await this.selfAlarms.idle();
    await this.channels.stopAll();
    if (this.speech) await this.speech.then((s) => s.close()).catch(() => {});
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]);
    await this.parsePool?.close();
    await Promise.race([httpClosing, new Promise((r) => setTimeout(r, 2000))]);
    this.metrics.close();
    try {
      await this.stores.daemonStatus.clear(process.pid);
      await this.nodeBeat(true);
    } catch { /* ignore */ }
    await this.stores.close();
    this.logger.info('daemon.stopped', {});
  }
}
