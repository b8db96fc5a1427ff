/**
 * The dispatcher: takes due deliveries from the durable queue in arrival order, walks each
 * recipient's channel plan through the escalation policy, runs one channel step at a time per
 * delivery, and records every attempt. All state is in SQLite, so a restart resumes where it was.
 * It knows channels only through the Channel interface.
 */
import type { Channel, ChannelName, DeliveryJob, Outcome, Recipient } from '../channels/channel.js';
import { outcome as mkOutcome } from '../channels/channel.js';
import type { Config } from '../config/schema.js';
import type { AlertStore, DeliveryRow } from '../store/alerts.js';
import { OPEN_ALERT_STATES, type AlertState } from '../store/alerts.js';
import type { DeliveryStore } from '../store/deliveries.js';
import type { UserStore, User } from '../store/users.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { afterStep, channelPlan, endOfRound, TEXT_CHANNELS, VOICE_CHANNELS, type Next, type PolicyConfig, type Position } from './policy.js';

export interface DispatcherDeps {
  alerts: AlertStore;
  deliveries: DeliveryStore;
  users: UserStore;
  channels: Partial<Record<ChannelName, Channel>>;
  /** Effective configuration (file + database settings), read at every tick. */
  config: () => Config;
  clock: Clock;
  logger: Logger;
  /** How often the queue is polled for work changed by other processes (CLI). */
  pollIntervalMs?: number;
  /** Upper bound on one channel step, whatever the channel does. */
  stepTimeoutMs?: number;
  /** Minimum spacing of queue scans triggered by pokes (default 20 ms; tests use 0). */
  pokeSpacingMs?: number;
}

interface Running {
  deliveryId: number;
  alertId: number;
  email: string;
  channel: ChannelName;
  ctrl: AbortController;
  abortReason?: 'acknowledged' | 'resolved' | 'cancelled' | 'shutdown';
  done: Promise<void>;
}

const POKE_SPACING_MS = 20;

export function policyConfig(cfg: Config): PolicyConfig {
  return {
    mode: cfg.escalation.mode,
    rounds: cfg.escalation.rounds,
    roundIntervalMs: cfg.escalation.roundInterval,
    quickRetryMs: cfg.escalation.quickRetry,
    textRetries: cfg.channels.mail.retries,
    textBackoffMs: cfg.channels.mail.retryBackoff,
  };
}

export function channelCapacity(cfg: Config, ch: ChannelName): number {
  switch (ch) {
    case 'voip': return cfg.channels.voip.maxConcurrentCalls;
    case 'gsm': return 1;
    case 'sms': return 1;
    case 'mail': return 4;
  }
}

export class Dispatcher {
  private readonly running = new Map<number, Running>();
  private cancelTimer: (() => void) | null = null;
  private tickQueued = false;
  private stopping = false;
  private started = false;
  private idleWaiters: (() => void)[] = [];
  private lastTickAt = -Infinity;

  constructor(private readonly d: DispatcherDeps) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    const r = this.d.deliveries.recoverInterrupted(this.d.clock.now());
    if (r.attempts || r.deliveries) {
      this.d.logger.warn('dispatch.recovered', { interruptedAttempts: r.attempts, requeued: r.deliveries });
    }
    this.poke();
  }

  /**
   * Something changed (new alert, ack, a step ended): look at the queue soon. Pokes are coalesced
   * and spaced by at least pokeSpacingMs so a flood of incoming mail doesn't rescan the queue
   * after every commit.
   */
  poke(): void {
    if (this.stopping || !this.started || this.tickQueued) return;
    this.tickQueued = true;
    const wait = Math.max(0, this.lastTickAt + (this.d.pokeSpacingMs ?? POKE_SPACING_MS) - performance.now());
    const run = () => {
      this.tickQueued = false;
      this.tick();
    };
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  runningCount(channel?: ChannelName): number {
    let n = 0;
    for (const r of this.running.values()) if (!channel || r.channel === channel) n++;
    return n;
  }

  /** Resolves once nothing is running and nothing is due now (tests). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  private isIdle(): boolean {
    const next = this.d.deliveries.nextDueAt();
    return this.running.size === 0 && (next === null || next > this.d.clock.now());
  }

  private checkIdle(): void {
    if (this.idleWaiters.length && this.isIdle()) {
      const w = this.idleWaiters.splice(0);
      for (const f of w) f();
    }
  }

  /** Stops taking work; running steps get graceMs to finish, then are aborted. */
  async stop(graceMs = 0): Promise<void> {
    this.stopping = true;
    this.cancelTimer?.();
    const all = [...this.running.values()];
    if (all.length && graceMs > 0) {
      await Promise.race([Promise.all(all.map((r) => r.done)), new Promise((r) => setTimeout(r, graceMs))]);
    }
    for (const r of this.running.values()) {
      r.abortReason ??= 'shutdown';
      r.ctrl.abort();
    }
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  tick(): void {
    if (this.stopping) return;
    this.lastTickAt = performance.now();
    const { clock, logger } = this.d;
    const now = clock.now();
    let cfg: Config;
    try {
      cfg = this.d.config();
    } catch (e) {
      logger.error('dispatch.config_error', { error: e as Error });
      this.schedule(now + 5000);
      return;
    }
    this.abortStale();
    const users = new Map<string, User | null>();
    for (const d of this.d.deliveries.due(now)) {
      if (this.running.has(d.id)) continue;
      try {
        this.advance(d, cfg, now, users);
      } catch (e) {
        logger.error('dispatch.step_error', { delivery: d.id, alert: d.alert_id, error: e as Error });
      }
    }
    const next = this.d.deliveries.nextDueAt();
    const poll = now + (this.d.pollIntervalMs ?? 1000);
    this.schedule(next !== null && next > now ? Math.min(next, poll) : poll);
    this.checkIdle();
  }

  private schedule(at: number): void {
    this.cancelTimer?.();
    if (this.stopping) return;
    this.cancelTimer = this.d.clock.setTimer(() => {
      this.cancelTimer = null;
      this.tick();
    }, Math.max(0, at - this.d.clock.now()));
  }

  /** Running steps whose alert was acknowledged, resolved or cancelled meanwhile are aborted. */
  private abortStale(): void {
    for (const r of this.running.values()) {
      if (r.ctrl.signal.aborted) continue;
      const a = this.d.alerts.get(r.alertId);
      const del = this.d.deliveries.get(r.deliveryId);
      if (!a || !OPEN_ALERT_STATES.includes(a.state) || del?.state !== 'running') {
        r.abortReason = a?.state === 'acknowledged' ? 'acknowledged' : a?.state === 'resolved' ? 'resolved' : 'cancelled';
        this.d.logger.info('attempt.abort', { alert: r.alertId, delivery: r.deliveryId, channel: r.channel, why: r.abortReason });
        r.ctrl.abort();
      }
    }
  }

  private recipientFor(user: User, cfg: Config): Recipient {
    return {
      email: user.email,
      lang: user.lang ?? cfg.voice.lang,
      ...(user.name ? { name: user.name } : {}),
      ...(user.phone ? { phone: user.phone } : {}),
      ...(user.sip ? { sip: user.sip } : {}),
    };
  }

  private targetOf(ch: ChannelName, r: Recipient): string {
    return ch === 'voip' ? r.sip ?? '' : ch === 'mail' ? r.email : r.phone ?? '';
  }

  /** Walks a due delivery forward: skips what can't be used, then starts the current step (or waits for capacity). */
  private advance(d: DeliveryRow & { alert_state: AlertState }, cfg: Config, now: number, userCache: Map<string, User | null>): void {
    const { deliveries, users, logger } = this.d;
    if (!OPEN_ALERT_STATES.includes(d.alert_state)) {
      deliveries.finish(d.id, 'cancelled', `alert is ${d.alert_state}`, now);
      return;
    }
    let user = userCache.get(d.user_email);
    if (user === undefined) userCache.set(d.user_email, (user = users.get(d.user_email)));
    if (!user) {
      deliveries.finish(d.id, 'failed', 'user no longer exists', now);
      logger.error('delivery.failed', { alert: d.alert_id, user: d.user_email, reason: 'user no longer exists' });
      this.settleAlert(d.alert_id, now);
      return;
    }
    const recipient = this.recipientFor(user, cfg);
    const plan = d.plan ? (JSON.parse(d.plan) as ChannelName[]) : channelPlan(cfg.channels.order, users.effectiveOrder(user), d.text_only === 1);
    const pcfg = this.policyFor(cfg, plan, recipient);
    let pos: Position = { step: d.step, round: d.round, tries: d.tries, textOnly: d.text_only === 1, informed: d.informed === 1 };
    const moved = () => pos.step !== d.step || pos.round !== d.round || pos.tries !== d.tries;

    for (let guard = 0; guard < 100; guard++) {
      if (pos.step >= plan.length) {
        const next = endOfRound(pos, now, pcfg);
        if (!plan.length || !this.anyUsable(plan, recipient, cfg)) {
          this.apply(d, { kind: 'finish', state: 'failed', informed: pos.informed, result: `no enabled channel can reach ${user.email} (plan: ${plan.join(',') || 'empty'})` }, now);
          return;
        }
        this.apply(d, next, now);
        return;
      }
      const ch = plan[pos.step]!;
      const chan = this.d.channels[ch];
      const skip = (reason: string | null) => {
        if (reason) deliveries.recordSkip(d, ch, this.targetOf(ch, recipient) || null, reason, now);
        pos = { ...pos, step: pos.step + 1, tries: 0 };
      };
      if (!chan || !cfg.channels[ch].enabled || chan.address(recipient) === null) { skip(null); continue; }
      if (pos.round > 1 && TEXT_CHANNELS.has(ch) && deliveries.attemptsOf(d.id).some((a) => a.channel === ch && a.outcome === 'delivered')) { skip(null); continue; }
      const health = chan.health();
      if (!health.healthy) { skip(`channel unhealthy: ${health.detail}`); continue; }
      if (VOICE_CHANNELS.has(ch)) {
        const calls = deliveries.callsSince(user.email, now - 3_600_000);
        if (calls >= cfg.escalation.maxCallsPerHour) { skip(`rate limit: ${calls} calls to ${user.email} in the last hour`); continue; }
        if ([...this.running.values()].some((r) => r.email === user.email && VOICE_CHANNELS.has(r.channel))) break; // one call at a time per person
      }
      if (this.runningCount(ch) >= channelCapacity(cfg, ch)) break; // wait for a free line
      if (moved()) deliveries.reschedule(d.id, { ...pos, nextAt: now }, now);
      this.launch(d, ch, chan, recipient, pos, plan, now);
      return;
    }
    if (moved()) deliveries.reschedule(d.id, { ...pos, nextAt: now }, now);
  }

  /**
   * Rounds exist to get an acknowledgement by phone. When no voice channel in the plan can reach
   * this person (none enabled, no number), there is nothing to repeat: walk the plan once.
   */
  private policyFor(cfg: Config, plan: ChannelName[], r: Recipient): PolicyConfig {
    const p = policyConfig(cfg);
    const voice = plan.some((ch) => VOICE_CHANNELS.has(ch) && cfg.channels[ch].enabled && this.d.channels[ch]?.address(r) != null);
    return voice ? p : { ...p, mode: 'all' };
  }

  private anyUsable(plan: ChannelName[], r: Recipient, cfg: Config): boolean {
    return plan.some((ch) => this.d.channels[ch] && cfg.channels[ch].enabled && this.d.channels[ch]!.address(r) !== null);
  }

  private launch(d: DeliveryRow, ch: ChannelName, chan: Channel, recipient: Recipient, pos: Position, plan: ChannelName[], now: number): void {
    const { alerts, deliveries, logger, clock } = this.d;
    const target = this.targetOf(ch, recipient);
    const attemptId = deliveries.start(d.id, ch, target, now);
    if (attemptId === null) return;
    const view = alerts.view(d.alert_id)!;
    // A call also says how many other alerts are open for this person, so alerts skipped by the
    // hourly call limit are still heard about.
    const more = VOICE_CHANNELS.has(ch) ? alerts.otherOpenFor(recipient.email, d.alert_id) : 0;
    const job: DeliveryJob = { alert: view, recipient, address: target, moreAlerts: more, attemptId };
    const ctrl = new AbortController();
    const entry: Running = { deliveryId: d.id, alertId: d.alert_id, email: recipient.email, channel: ch, ctrl, done: Promise.resolve() };
    this.running.set(d.id, entry);
    logger.info('attempt.start', { alert: d.alert_id, delivery: d.id, channel: ch, to: target, round: pos.round, step: pos.step + 1 });
    entry.done = (async () => {
      let o: Outcome;
      const limit = this.d.stepTimeoutMs ?? 15 * 60_000;
      const cancelGuard = clock.setTimer(() => { entry.abortReason ??= 'cancelled'; ctrl.abort(); }, limit);
      try {
        o = await chan.deliver(job, ctrl.signal);
      } catch (e) {
        o = mkOutcome('failed', `channel error: ${(e as Error).message}`, true);
      } finally {
        cancelGuard();
      }
      const end = clock.now();
      deliveries.finishAttempt(attemptId, o, end);
      logger.info('attempt.end', { alert: d.alert_id, delivery: d.id, channel: ch, to: target, outcome: o.kind, reason: o.reason, ms: end - now });
      this.running.delete(d.id);
      try {
        this.afterAttempt(d, ch, recipient, pos, plan, o, entry, end);
      } catch (e) {
        logger.error('dispatch.record_error', { delivery: d.id, error: e as Error });
      }
      this.poke();
      this.checkIdle();
    })();
  }

  private afterAttempt(d: DeliveryRow, ch: ChannelName, r: Recipient, pos: Position, plan: ChannelName[], o: Outcome, entry: Running, now: number): void {
    const { alerts, deliveries, logger } = this.d;
    if (o.kind === 'acknowledged') {
      const how = `${ch} keypress`;
      alerts.acknowledge(d.alert_id, r.email, how, now);
      deliveries.finish(d.id, 'acknowledged', `acknowledged by ${r.email} (${how})`, now, true);
      logger.info('alert.acknowledged', { alert: d.alert_id, by: r.email, via: how });
      this.abortStale();
      this.settleAlert(d.alert_id, now);
      return;
    }
    if (entry.abortReason && entry.abortReason !== 'shutdown') {
      const a = alerts.get(d.alert_id);
      const st = a?.state === 'acknowledged' ? 'acknowledged' : 'cancelled';
      deliveries.finish(d.id, st, `stopped: alert ${a?.state ?? 'gone'}`, now);
      return;
    }
    if (entry.abortReason === 'shutdown') {
      // Leave it queued at the same step: the next start retries it.
      deliveries.reschedule(d.id, { step: pos.step, round: pos.round, tries: pos.tries, nextAt: now }, now);
      return;
    }
    const cfg = this.d.config();
    const next = afterStep({ pos, plan, channel: ch, result: o.kind, retryable: o.retryable, now, cfg: this.policyFor(cfg, plan, r) });
    this.apply(d, next, now);
  }

  private apply(d: DeliveryRow, next: Next, now: number): void {
    const { deliveries, logger } = this.d;
    if (next.kind === 'continue') {
      deliveries.reschedule(d.id, { step: next.step, round: next.round, tries: next.tries, nextAt: next.at, informed: next.informed }, now);
      if (next.round !== d.round) logger.info('delivery.round', { alert: d.alert_id, user: d.user_email, round: next.round, at: new Date(next.at).toISOString() });
      return;
    }
    deliveries.finish(d.id, next.state, next.result, now, next.informed);
    const level = next.state === 'failed' || next.state === 'unacknowledged' ? 'error' : 'info';
    logger[level](`delivery.${next.state}`, { alert: d.alert_id, user: d.user_email, result: next.result });
    this.settleAlert(d.alert_id, now);
  }

  /** When every delivery of an open alert has ended, the alert's state says how it ended. */
  private settleAlert(alertId: number, now: number): void {
    const { alerts, logger } = this.d;
    const a = alerts.get(alertId);
    if (!a || !OPEN_ALERT_STATES.includes(a.state)) return;
    const ds = alerts.deliveries(alertId);
    if (ds.some((x) => x.state === 'queued' || x.state === 'running')) return;
    let state: 'acknowledged' | 'unacknowledged' | 'delivered' | 'failed' | 'cancelled';
    if (ds.some((x) => x.state === 'acknowledged')) state = 'acknowledged';
    else if (ds.some((x) => x.state === 'unacknowledged')) state = 'unacknowledged';
    else if (ds.some((x) => x.state === 'done')) state = 'delivered';
    else if (ds.some((x) => x.state === 'failed')) state = 'failed';
    else state = 'cancelled';
    alerts.setState(alertId, state, now);
    if (state === 'failed' || state === 'unacknowledged') {
      alerts.event(alertId, now, 'exhausted', state === 'failed' ? 'no channel reached any recipient' : 'nobody acknowledged');
      logger.error(`alert.${state}`, { alert: alertId, subject: a.subject, note: state === 'failed' ? 'ALERT NOT DELIVERED: every channel exhausted' : 'every round done, nobody acknowledged' });
    }
  }
}
