/**
 * Starts and stops channels as the effective configuration enables or disables them, so
 * `alertline channels enable voip` takes effect on a running daemon without a restart.
 * Factories are registered per channel name; the gsm and sms channels share one modem, which the
 * factories arrange between themselves.
 */
import type { Channel, ChannelName } from './channel.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/log.js';

export type ChannelFactory = (config: Config) => Promise<Channel>;

export class ChannelManager {
  private readonly active = new Map<ChannelName, Channel>();
  private readonly starting = new Map<ChannelName, Promise<void>>();
  private readonly failures = new Map<ChannelName, { at: number; error: string }>();

  constructor(
    private readonly factories: Partial<Record<ChannelName, ChannelFactory>>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly retryAfterMs = 30_000,
  ) {}

  /** The channels running now (what the dispatcher may use). */
  get channels(): Partial<Record<ChannelName, Channel>> {
    return Object.fromEntries(this.active) as Partial<Record<ChannelName, Channel>>;
  }

  /** Starts enabled channels not yet running, stops running ones that were disabled. */
  async sync(cfg: Config): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const name of Object.keys(this.factories) as ChannelName[]) {
      const enabled = cfg.channels[name].enabled;
      if (enabled && !this.active.has(name) && !this.starting.has(name)) {
        const f = this.failures.get(name);
        if (f && this.now() - f.at < this.retryAfterMs) continue;
        jobs.push(this.startOne(name, cfg));
      } else if (!enabled && this.active.has(name)) {
        jobs.push(this.stopOne(name));
      }
    }
    await Promise.all(jobs);
  }

  private startOne(name: ChannelName, cfg: Config): Promise<void> {
    const p = (async () => {
      try {
        const ch = await this.factories[name]!(cfg);
        await ch.start?.();
        this.active.set(name, ch);
        this.failures.delete(name);
        this.logger.info('channel.started', { channel: name });
      } catch (e) {
        this.failures.set(name, { at: this.now(), error: (e as Error).message });
        this.logger.error('channel.start_failed', { channel: name, error: e as Error });
      } finally {
        this.starting.delete(name);
      }
    })();
    this.starting.set(name, p);
    return p;
  }

  private async stopOne(name: ChannelName): Promise<void> {
    const ch = this.active.get(name);
    this.active.delete(name);
    try {
      await ch?.stop?.();
      this.logger.info('channel.stopped', { channel: name });
    } catch (e) {
      this.logger.warn('channel.stop_failed', { channel: name, error: e as Error });
    }
  }

  startError(name: ChannelName): string | null {
    return this.failures.get(name)?.error ?? null;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.starting.values()]);
    await Promise.all([...this.active.keys()].map((n) => this.stopOne(n)));
  }
}
