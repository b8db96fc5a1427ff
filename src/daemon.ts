/**
 * Wiring: the store, the SMTP receiver, the dispatcher and the channels; start, stop, reload; the
 * live status snapshot that `alertline status` reads.
 */
import { hostname } from 'node:os';
import type { Config } from './config/schema.js';
import type { Channel, ChannelName } from './channels/channel.js';
import { CHANNEL_NAMES } from './channels/channel.js';
import { openStores, type Stores } from './store/index.js';
import { AlertWriter } from './receiver/alert-writer.js';
import { SmtpReceiver } from './receiver/smtp-receiver.js';
import { compileIgnore } from './receiver/filter.js';
import type { FilterSettings } from './store/alerts.js';
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
  private ignoreCache: { key: string; res: RegExp[] } = { key: '', res: [] };
  private stopped = false;
  private speech: Promise<SpeechService> | null = null;
  /** Resolves once the initial channel bring-up is done and the dispatcher runs. */
  channelsReady: Promise<void> = Promise.resolve();

  private constructor(opts: DaemonOptions) {
    this.fileConfig = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger({ level: opts.config.logLevel });
    this.startedAt = this.clock.now();
    this.stores = openStores(opts.config.dataDir, () => this.clock.now());
    this.channels = new ChannelManager(
      opts.factories ?? channelFactories({ logger: this.logger, ackSink: { acknowledgeByPhone: (p, id, via) => this.acknowledgeByPhone(p, id, via) }, audio: () => this.audio() }),
      this.logger, () => this.clock.now());
    this.dispatcher = new Dispatcher({
      alerts: this.stores.alerts, deliveries: this.stores.deliveries, users: this.stores.users,
      channels: new Proxy({}, { get: (_t, k) => this.channels.channels[k as ChannelName] }) as Partial<Record<ChannelName, Channel>>,
      config: () => this.config(), clock: this.clock, logger: this.logger,
      ...(opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {}),
    });
    const writer = new AlertWriter(this.stores.alerts, () => this.filterSettings(), () => this.dispatcher.poke());
    this.receiver = new SmtpReceiver({
      config: opts.config.smtp, users: this.stores.users, writer,
      openDeliveries: () => this.openDeliveriesCached(),
      maxPending: () => this.config().filter.maxPending,
      clock: this.clock, logger: this.logger,
    });
  }

  private openCache = { at: -Infinity, n: 0 };

  /**
   * Open deliveries for the receiver's capacity check at every MAIL FROM. Counting costs
   * O(backlog), so the figure is reused for 200 ms: maxPending is a soft bound, and a brief
   * overshoot by what arrives in 200 ms is harmless, where a count per message under a deep
   * backlog is not.
   */
  private openDeliveriesCached(): number {
    const now = performance.now();
    if (now - this.openCache.at > 200) this.openCache = { at: now, n: this.stores.deliveries.openCount() };
    return this.openCache.n;
  }

  /** File config with the database's runtime settings applied. */
  config(): Config {
    return this.stores.settings.effective(this.fileConfig);
  }

  private filterSettings(): FilterSettings {
    const cfg = this.config();
    const key = JSON.stringify(cfg.filter.ignoreSubjects);
    if (key !== this.ignoreCache.key) this.ignoreCache = { key, res: compileIgnore(cfg.filter.ignoreSubjects) };
    return { ignore: this.ignoreCache.res, dedupeWindowMs: cfg.filter.dedupeWindow, notifyResolved: cfg.escalation.notifyResolved };
  }

  /** The speech service shared by the call channels (created once; validates voice.lang). */
  audio(): Promise<PromptAudio> {
    if (!this.speech) {
      const cfg = this.config();
      this.speech = import('./audio/speech-service.js').then(({ SpeechService }) =>
        SpeechService.create({ voice: cfg.voice, cacheDir: cfg.audioCacheDir, logger: this.logger.child({ part: 'speech' }) }));
      this.speech.catch(() => { this.speech = null; });
    }
    return this.speech;
  }

  /** An SMS reply from a user's phone: "1" / "ack" acknowledges their latest open alert, "ack 42" alert 42. */
  async acknowledgeByPhone(phone: string, alertId: number | undefined, via: string): Promise<number | null> {
    const { users, alerts } = this.stores;
    const user = users.byPhone(phone);
    if (!user) {
      this.logger.warn('ack.unknown_sender', { phone, via });
      return null;
    }
    const id = alertId ?? alerts.latestOpenFor(user.email);
    if (id === null || !alerts.wasSentTo(id, user.email)) {
      this.logger.warn('ack.no_match', { user: user.email, alert: alertId, via });
      return null;
    }
    const acked = alerts.acknowledge(id, user.email, via, this.clock.now());
    if (!acked.length) return null;
    this.logger.info('alert.acknowledged', { alert: id, by: user.email, via });
    this.dispatcher.poke();
    return id;
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const d = new Daemon(opts);
    try {
      const cfg = d.config();
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
    d.channelsReady = d.channels.sync(d.config()).catch((e) => d.logger.error('channel.sync_failed', { error: e as Error })).then(() => {
      if (!d.stopped) d.dispatcher.start();
    });
    d.writeStatus();
    d.statusTimer = setInterval(() => d.housekeeping(), opts.statusIntervalMs ?? 5000);
    d.statusTimer.unref();
    d.logger.info('daemon.started', { pid: process.pid, config: opts.configPath ?? '(defaults)', dataDir: opts.config.dataDir });
    return d;
  }

  private housekeeping(): void {
    this.channels.sync(this.config()).catch((e) => this.logger.error('channel.sync_failed', { error: e as Error }));
    this.writeStatus();
  }

  /** SIGHUP: take the new file config (runtime settings in the database still override it). */
  reload(config: Config): void {
    this.fileConfig = config;
    this.logger.info('daemon.reloaded', {});
    this.housekeeping();
    this.dispatcher.poke();
  }

  snapshot(): Record<string, unknown> {
    const cfg = this.config();
    const chans: Record<string, unknown> = {};
    const active = this.channels.channels;
    for (const name of CHANNEL_NAMES) {
      const ch = active[name];
      const h = ch?.health();
      const extra = ch && 'status' in ch && typeof (ch as { status?: unknown }).status === 'function' ? (ch as unknown as { status(): unknown }).status() : undefined;
      chans[name] = {
        enabled: cfg.channels[name].enabled,
        running: Boolean(ch),
        healthy: h?.healthy ?? false,
        detail: h?.detail ?? (cfg.channels[name].enabled ? this.channels.startError(name) ?? 'starting' : 'disabled'),
        busy: this.dispatcher.runningCount(name),
        ...(extra ? { status: extra } : {}),
      };
    }
    const a = this.receiver.address();
    const midnight = new Date(this.clock.now());
    midnight.setHours(0, 0, 0, 0);
    return {
      hostname: hostname(),
      uptimeSec: Math.round((this.clock.now() - this.startedAt) / 1000),
      receiver: a ? { listening: true, address: a.address, port: a.port, accepted: this.receiver.acceptedCount } : { listening: false },
      queue: { openDeliveries: this.stores.deliveries.openCount(), running: this.dispatcher.runningCount() },
      alertsToday: this.stores.alerts.countByState(midnight.getTime()),
      channels: chans,
      order: cfg.channels.order,
    };
  }

  private writeStatus(): void {
    if (this.stopped) return;
    try {
      this.stores.daemonStatus.write(process.pid, this.startedAt, this.clock.now(), this.snapshot());
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
      this.stores.daemonStatus.clear(process.pid);
    } catch { /* ignore */ }
    this.stores.close();
    this.logger.info('daemon.stopped', {});
  }
}
