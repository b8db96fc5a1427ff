/**
 * Wiring: the store, the SMTP receiver, the dispatcher and the channels; start, stop, reload; the
 * live status snapshot that `alertline status` reads.
 */
import { hostname } from 'node:os';
import type { Config } from './config/schema.js';
import type { ChannelName, InboundSink, Sender } from './channels/channel.js';
import { CHANNEL_NAMES } from './channels/channel.js';
import { openStores, type Stores } from './store/index.js';
import type { ChannelSnapshot, LiveStatus } from './store/daemon-status.js';
import type { AdmitDecide } from './store/rows.js';
import { AlertWriter } from './receiver/alert-writer.js';
import { SmtpReceiver } from './receiver/smtp-receiver.js';
import { admissionRules, compileIgnore } from './core/admission.js';
import { acknowledger, type AckRequest, type AckResult } from './core/acknowledge.js';
import { parseReply } from './core/replies.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { ChannelManager, type ChannelFactory } from './channels/manager.js';
import { channelFactories } from './channels/factories.js';
import type { PromptAudio } from './audio/prompt-audio.js';
import type { SpeechService } from './audio/speech-service.js';
import { systemClock, type Clock } from './util/clock.js';
import { createLogger, type Logger } from './util/log.js';

export interface DaemonOptions {
  config: Config;
  configPath?: string | null;
  clock?: Clock;
  logger?: Logger;
  /** Replace channel factories (tests use fake channels). */
  factories?: Partial<Record<ChannelName, ChannelFactory>>;
  statusIntervalMs?: number;
  pollIntervalMs?: number;
}

/** The real channels, for tests that want one of them without a whole daemon's acknowledgement path. */
export function defaultFactories(logger: Logger): Partial<Record<ChannelName, ChannelFactory>> {
  return channelFactories({
    logger,
    ackSink: { acknowledgeByPhone: async () => null },
    inbound: { message: async () => null, callBack: async () => null },
    audio: () => Promise.reject(new Error('no speech service in this context')),
  });
}

export class Daemon {
  readonly stores: Stores;
  readonly dispatcher: Dispatcher;
  readonly receiver: SmtpReceiver;
  readonly channels: ChannelManager;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private fileConfig: Config;
  private readonly startedAt: number;
  private statusTimer: NodeJS.Timeout | null = null;
  private rulesCache: { key: string; rules: AdmitDecide | null } = { key: '', rules: null };
  /** The one acknowledgement entry (core): keys, SMS replies, call-backs, CLI, API, web. */
  readonly acknowledge: (req: AckRequest) => Promise<AckResult>;
  /** Replies and call-backs arriving through channels. */
  readonly inbound: InboundSink;
  private readonly configPath: string | null;
  private stopped = false;
  private speech: Promise<SpeechService> | null = null;
  /** Resolves once the initial channel bring-up is done and the dispatcher runs. */
  channelsReady: Promise<void> = Promise.resolve();

  private constructor(opts: DaemonOptions) {
    this.fileConfig = opts.config;
    this.lastConfig = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger({ level: opts.config.logLevel });
    this.startedAt = this.clock.now();
    this.configPath = opts.configPath ?? null;
    this.stores = openStores(opts.config.dataDir, () => this.clock.now());
    this.acknowledge = acknowledger({
      alerts: this.stores.alerts, users: this.stores.users, now: () => this.clock.now(), logger: this.logger,
      changed: () => this.dispatcher.poke(),
    });
    this.inbound = {
      message: (from, text, via) => this.onMessage(from, text, via),
      callBack: (from, via) => this.onCallBack(from, via),
    };
    this.channels = new ChannelManager(
      opts.factories ?? channelFactories({
        logger: this.logger, inbound: this.inbound, audio: () => this.audio(),
        ackSink: { acknowledgeByPhone: async (phone, alertId, via) => this.onAckByPhone(phone, alertId, via) },
      }),
      this.logger, () => this.clock.now());
    this.dispatcher = new Dispatcher({
      alerts: this.stores.alerts, deliveries: this.stores.deliveries, users: this.stores.users,
      channels: () => this.channels.channels, acknowledge: this.acknowledge,
      config: () => this.config(), clock: this.clock, logger: this.logger,
      ...(opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {}),
    });
    const writer = new AlertWriter(this.stores.alerts, () => this.admission(), () => this.dispatcher.poke());
    this.receiver = new SmtpReceiver({
      config: opts.config.smtp, users: this.stores.users, writer,
      openDeliveries: () => this.openDeliveriesCached(),
      maxPending: () => this.lastConfig.filter.maxPending,
      clock: this.clock, logger: this.logger,
    });
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
      this.speech.catch(() => { this.speech = null; });
    }
    return this.speech;
  }

  /** A text back from a person (SMS reply, chat): read with the core's reply grammar. */
  private async onMessage(from: Sender, text: string, via: string): Promise<string | null> {
    const reply = parseReply(text);
    if (reply.type === 'ack' && from.xmpp) {
      const r = await this.acknowledge({ by: { xmpp: from.xmpp }, via, ...(reply.alertId !== undefined ? { alertId: reply.alertId } : {}) });
      return r.ok ? `Alert ${r.alertId} acknowledged` : r.reason === 'unknown-sender' ? null : r.message;
    }
    if (reply.type !== 'ack' || !from.phone) {
      this.logger.info('inbound.ignored', { via, reason: reply.type === 'ack' ? 'sender has no phone number' : 'not a reply code' });
      return null;
    }
    await this.onAckByPhone(from.phone, reply.alertId, via);
    return null;
  }

  /** A call from a user's phone (rejected unanswered): acknowledges their latest alert. */
  private async onCallBack(from: Sender, via: string): Promise<string | null> {
    if (from.phone) await this.onAckByPhone(from.phone, undefined, via);
    return null;
  }

  private async onAckByPhone(phone: string, alertId: number | undefined, via: string): Promise<number | null> {
    const r = await this.acknowledge({ by: { phone }, via, ...(alertId !== undefined ? { alertId } : {}) });
    return r.ok ? r.alertId : null;
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const d = new Daemon(opts);
    try {
      const cfg = await d.config();
      // A voice setting that cannot work is a start-up error, not a 3 a.m. surprise.
      if (!opts.factories && (cfg.channels.voip.enabled || cfg.channels.gsm.enabled)) await d.audio();
      // Accepting and storing mail comes first: a slow modem bring-up must never refuse alerts.
      await d.receiver.listen();
    } catch (e) {
      await d.stop(0).catch(() => {});
      throw e;
    }
    // Channels come up in the background; dispatching starts once they have had their chance,
    // so queued alerts don't walk past a channel that is still starting.
    d.channelsReady = d.config().then((cfg) => d.channels.sync(cfg)).catch((e) => d.logger.error('channel.sync_failed', { error: e as Error })).then(async () => {
      if (!d.stopped) await d.dispatcher.start();
    });
    await d.writeStatus();
    d.statusTimer = setInterval(() => d.housekeeping(), opts.statusIntervalMs ?? 5000);
    d.statusTimer.unref();
    d.logger.info('daemon.started', { pid: process.pid, config: opts.configPath ?? '(defaults)', dataDir: opts.config.dataDir });
    return d;
  }

  private housekeeping(): void {
    this.config().then((cfg) => this.channels.sync(cfg)).catch((e) => this.logger.error('channel.sync_failed', { error: e as Error }));
    void this.writeStatus();
  }

  /** SIGHUP: take the new file config (runtime settings in the database still override it). */
  reload(config: Config): void {
    this.fileConfig = config;
    this.logger.info('daemon.reloaded', {});
    this.housekeeping();
    this.dispatcher.poke();
  }

  async snapshot(): Promise<LiveStatus> {
    const cfg = await this.config();
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
    return {
      hostname: hostname(),
      uptimeSec: Math.round((this.clock.now() - this.startedAt) / 1000),
      configPath: this.configPath,
      receiver: a ? { listening: true, address: a.address, port: a.port, accepted: this.receiver.acceptedCount } : { listening: false },
      queue: { openDeliveries: await this.stores.deliveries.openCount(), running: this.dispatcher.runningCount() },
      alertsToday: await this.stores.alerts.countByState(midnight.getTime()),
      channels: chans,
      order: cfg.channels.order,
    };
  }

  private async writeStatus(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.stores.daemonStatus.write(process.pid, this.startedAt, this.clock.now(), await this.snapshot());
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
    this.logger.info('daemon.stopping', { graceMs });
    const closing = this.receiver.close();
    await Promise.race([this.channelsReady, new Promise((r) => setTimeout(r, 5000))]);
    await this.dispatcher.stop(graceMs);
    await this.channels.stopAll();
    if (this.speech) await this.speech.then((s) => s.close()).catch(() => {});
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]);
    try {
      await this.stores.daemonStatus.clear(process.pid);
    } catch { /* ignore */ }
    await this.stores.close();
    this.logger.info('daemon.stopped', {});
  }
}
