/**
 * The dispatcher: takes due deliveries from the durable queue in arrival order, walks each
 * recipient's channel plan through the escalation policy, runs one channel step at a time per
 * delivery, and records every attempt. All state is in the store, so a restart resumes where it
 * was. It knows channels only through the Channel interface (kind, capacity, address, retry):
 * it names none.
 */
import type { Channel, DeliveryJob, Outcome, Recipient } from '../channels/channel.js';
import { outcome as mkOutcome } from '../channels/channel.js';
import type { Config } from '../config/schema.js';
import type { AlertStore } from '../store/alerts.js';
import type { AlertState, DeliveryRow } from '../store/rows.js';
import type { DeliveryMove, DeliveryStore } from '../store/deliveries.js';
import type { UserStore, User } from '../store/users.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { OPEN_ALERT_STATES, SEVERITY_LEVELS, type SeverityLevel } from '../core/model.js';
import { contactPlan } from './contact-plan.js';
import { alertView } from '../core/alert-view.js';
import { isExhausted, settle } from '../core/settle.js';
import type { AckRequest, AckResult } from '../core/acknowledge.js';
import type { ActionRequest, ActionResult } from '../core/actions.js';
import type { PolicyRunStore } from '../store/policy-runs.js';
import { PolicyRunner } from './policy-runner.js';
import { afterStep, channelPlan, endOfRound, type Next, type PlanStep, type PolicyConfig, type Position } from './policy.js';

export interface DispatcherDeps {
  alerts: AlertStore;
  deliveries: DeliveryStore;
  users: UserStore;
  /** The channels running now, by name. */
  channels: () => Readonly<Record<string, Channel | undefined>>;
  /** The core's acknowledgement entry (a key pressed during a call goes through it). */
  acknowledge: (req: AckRequest) => Promise<AckResult>;
  /** The core's other actions (keys 3 escalate, 5 snooze, 9 resolve). */
  act?: (req: ActionRequest) => Promise<ActionResult>;
  /** Escalation policies running for alerts; without it, only the people admission chose are notified. */
  policyRuns?: PolicyRunStore;
  /** Who a policy step reaches now (schedules, groups): the daemon builds it from the store's routing tables. */
  policyPeople?: ConstructorParameters<typeof PolicyRunner>[0]['people'];
  /** Effective configuration (file + database settings), read at every tick. */
  config: () => Promise<Config>;
  clock: Clock;
  logger: Logger;
  /** How often the queue is polled for work changed by other processes (CLI). */
  pollIntervalMs?: number;
  /** Upper bound on one channel step, whatever the channel does. */
  stepTimeoutMs?: number;
  /** Minimum spacing of queue scans triggered by pokes (default 20 ms; tests use 0). */
  pokeSpacingMs?: number;
  /** Told when an alert ended failed or unacknowledged (the appliance raises its own alarm). */
  onExhausted?: (alertId: number, state: 'failed' | 'unacknowledged') => void;
  /**
   * Several nodes on one database: the name of another live node that has this channel healthy
   * (a gsm/sms step this node can't run is left to it instead of skipped), or null.
   */
  elsewhere?: (channel: string) => Promise<string | null>;
  /** Run policy steps this scan (several nodes: only the one holding the singleton lock). Default: always. */
  runPolicies?: () => Promise<boolean>;
}

interface Running {
  deliveryId: number;
  alertId: number;
  email: string;
  channel: string;
  kind: Channel['kind'];
  ctrl: AbortController;
  abortReason?: 'acknowledged' | 'resolved' | 'cancelled' | 'shutdown' | 'lost';
  done: Promise<void>;
}

/** A step's consequence: where its delivery goes, and what follows once that is committed. */
interface AfterStep { move: DeliveryMove | null; after?: () => Promise<void> }

function moveOf(next: Next): DeliveryMove {
  return next.kind === 'continue'
    ? { kind: 'reschedule', step: next.step, round: next.round, tries: next.tries, nextAt: next.at, informed: next.informed }
    : { kind: 'finish', state: next.state, result: next.result, informed: next.informed };
}

const POKE_SPACING_MS = 20;
/** How long key 5 holds a person's walk. */
const SNOOZE_MS = 30 * 60_000;
/** How often a delivery waiting for a channel looks again. */
const WAIT_RECHECK_MS = 5000;

export function policyConfig(cfg: Config): PolicyConfig {
  return {
    mode: cfg.escalation.mode,
    rounds: cfg.escalation.rounds,
    roundIntervalMs: cfg.escalation.roundInterval,
    quickRetryMs: cfg.escalation.quickRetry,
  };
}

export class Dispatcher {
  private readonly running = new Map<number, Running>();
  /** Deliveries this node holds: from start() until the step's end and the delivery's move are committed. */
  private readonly held = new Set<number>();
  /** Each person's channel order, read once per scan (a flood has many deliveries per person). */
  private readonly orders = new Map<string, Awaited<ReturnType<UserStore['effectiveOrder']>>>();
  private cancelRenew: (() => void) | null = null;
  private cancelTimer: (() => void) | null = null;
  private tickQueued = false;
  private ticking: Promise<void> | null = null;
  private tickAgain = false;
  private stopping = false;
  private stopped = false;
  private started = false;
  private idleWaiters: (() => void)[] = [];
  private lastTickAt = -Infinity;
  private lastCommitScanAt = -Infinity;

  private readonly policies: PolicyRunner | null;
  /**
   * Other nodes share the queue (PostgreSQL): renew and take over leases. A step is leased by
   * start() (one conditional UPDATE: of two nodes one gets it); a queued delivery is not claimed
   * per scan, which would cost a commit per due delivery per scan on every node.
   */
  private readonly shared: boolean;

  constructor(private readonly d: DispatcherDeps) {
    this.shared = Boolean(d.elsewhere);
    this.policies = d.policyRuns && d.policyPeople
      ? new PolicyRunner({ runs: d.policyRuns, alerts: d.alerts, people: d.policyPeople, logger: d.logger })
      : null;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const r = await this.d.deliveries.recoverInterrupted(this.d.clock.now());
    if (r.attempts || r.deliveries) {
      this.d.logger.warn('dispatch.recovered', { interruptedAttempts: r.attempts, requeued: r.deliveries });
    }
    if (this.shared) this.renewLoop();
    this.poke();
  }

  /**
   * Several nodes: the leases of the steps this node holds are renewed on their own timer, three
   * times per lease period, so a long scan (a flood) or a slow step end never lets one lapse
   * while the node is alive (another node would make the step again).
   */
  private renewLoop(): void {
    const every = Math.max(200, Math.floor(this.d.deliveries.leaseMs / 3));
    this.cancelRenew = this.d.clock.setTimer(() => {
      if (this.stopped) return;
      const renew = this.held.size ? this.d.deliveries.renew(this.d.clock.now()) : Promise.resolve(0);
      renew.catch((e: unknown) => this.d.logger.error('dispatch.store_error', { error: e as Error }))
        .finally(() => { if (!this.stopped) this.renewLoop(); });
    }, every);
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
      void this.tick();
    };
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  /** The steps running on this node now (status). */
  runningSteps(): { alertId: number; deliveryId: number; channel: string; to: string }[] {
    return [...this.running.values()].map((r) => ({ alertId: r.alertId, deliveryId: r.deliveryId, channel: r.channel, to: r.email }));
  }

  /**
   * The alert writer committed new alerts: scan at once, without the poke spacing, so the phone
   * rings milliseconds after the 250. Commits closer together than pokeSpacingMs (a flood) fall
   * back to poke(): one scan covers them all. A scan in progress runs again right after.
   */
  committed(): void {
    if (this.stopping || !this.started) return;
    const now = performance.now();
    if (now - this.lastCommitScanAt < (this.d.pokeSpacingMs ?? POKE_SPACING_MS)) {
      this.poke();
      return;
    }
    this.lastCommitScanAt = now;
    // After the current turn: the senders' 250s are written first, then the scan's own commits.
    setImmediate(() => void this.tick());
  }

  runningCount(channel?: string): number {
    let n = 0;
    for (const r of this.running.values()) if (!channel || r.channel === channel) n++;
    return n;
  }

  /** Resolves once nothing is running and nothing is due now (tests). */
  async whenIdle(): Promise<void> {
    if (await this.isIdle()) return;
    return new Promise((res) => this.idleWaiters.push(res));
  }

  private async isIdle(): Promise<boolean> {
    // held covers running: a step is held from its start until its end is committed.
    if (this.held.size || this.ticking) return false;
    const next = await this.d.deliveries.nextDueAt();
    return this.held.size === 0 && (next === null || next > this.d.clock.now());
  }

  private async checkIdle(): Promise<void> {
    if (this.idleWaiters.length && (await this.isIdle())) {
      const w = this.idleWaiters.splice(0);
      for (const f of w) f();
    }
  }

  /** Stops taking work; running steps get graceMs to finish, then are aborted. */
  async stop(graceMs = 0): Promise<void> {
    this.stopping = true;
    this.cancelTimer?.();
    await this.ticking?.catch(() => {});
    const all = [...this.running.values()];
    if (all.length && graceMs > 0) {
      await Promise.race([Promise.all(all.map((r) => r.done)), new Promise((r) => setTimeout(r, graceMs))]);
    }
    for (const r of this.running.values()) {
      r.abortReason ??= 'shutdown';
      r.ctrl.abort();
    }
    await Promise.all([...this.running.values()].map((r) => r.done));
    // Leases were renewed until every step's end was recorded.
    this.stopped = true;
    this.cancelRenew?.();
  }

  /** One scan of the queue. Scans never overlap: a tick asked for during one runs right after it. */
  tick(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.ticking) {
      this.tickAgain = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      try {
        do {
          this.tickAgain = false;
          await this.scan();
        } while (this.tickAgain && !this.stopping);
      } finally {
        this.ticking = null;
      }
      await this.checkIdle();
    })();
    return this.ticking;
  }

  private async scan(): Promise<void> {
    this.lastTickAt = performance.now();
    const { clock, logger } = this.d;
    let cfg: Config;
    try {
      cfg = await this.d.config();
    } catch (e) {
      logger.error('dispatch.config_error', { error: e as Error });
      this.schedule(clock.now() + 5000);
      return;
    }
    // Read the time after the first await: the scan sees the clock as it is when it runs.
    const now = clock.now();
    try {
      // Several nodes: keep our leases (a call may last minutes), take over the steps of nodes
      // that died. (One node on SQLite: nothing to share, and each write would cost an fsync.)
      if (this.shared && this.held.size) await this.d.deliveries.renew(now);
      for (const t of this.shared ? await this.d.deliveries.takeOver(now) : []) {
        logger.warn('dispatch.took_over', { delivery: t.id, alert: t.alertId, from: t.from, note: 'its node stopped renewing the lease: the interrupted step is made again here' });
      }
      await this.abortStale();
      if (this.policies && (!this.d.runPolicies || await this.d.runPolicies())) {
        // The acknowledger's reminder after escalation.ackTimeout is the daemon's (for every alert, policy or not).
        const r = await this.policies.run(now, 0);
        for (const id of r.ended) await this.settleAlert(id, now);
      }
      const released = await this.releaseSilenced(now, cfg.escalation.deliverAfterSilence);
      if (released) logger.info('dispatch.unsilenced', { alerts: released });
      const users = new Map<string, User | null>();
      this.orders.clear();
      // Every line busy (a flood): no due delivery could start a step now, and the step that ends
      // first pokes a new scan; reading and walking the whole due list meanwhile is wasted.
      const due = this.anyLineFree(cfg) ? await this.d.deliveries.due(now) : [];
      for (const d of due) {
        if (this.stopping) return;
        if (this.running.has(d.id)) continue;
        try {
          await this.advance(d, cfg, now, users);
        } catch (e) {
          logger.error('dispatch.step_error', { delivery: d.id, alert: d.alert_id, error: e as Error });
        }
      }
      const nexts = [await this.d.deliveries.nextDueAt(), this.policies ? await this.d.policyRuns!.nextDueAt() : null].filter((t): t is number => t !== null);
      const next = nexts.length ? Math.min(...nexts) : null;
      const poll = now + (this.d.pollIntervalMs ?? 1000);
      this.schedule(next !== null && next > now ? Math.min(next, poll) : poll);
    } catch (e) {
      logger.error('dispatch.store_error', { error: e as Error });
      this.schedule(now + (this.d.pollIntervalMs ?? 1000));
    }
  }

  private schedule(at: number): void {
    this.cancelTimer?.();
    if (this.stopping) return;
    this.cancelTimer = this.d.clock.setTimer(() => {
      this.cancelTimer = null;
      void this.tick();
    }, Math.max(0, at - this.d.clock.now()));
  }

  /** Running steps whose alert was acknowledged, resolved or cancelled meanwhile are aborted. */
  private async abortStale(): Promise<void> {
    for (const r of [...this.running.values()]) {
      if (r.ctrl.signal.aborted) continue;
      const a = await this.d.alerts.get(r.alertId);
      const del = await this.d.deliveries.get(r.deliveryId);
      if (r.ctrl.signal.aborted) continue;
      if (del?.state === 'running' && del.lease_node && del.lease_node !== this.d.deliveries.node) {
        // Our lease ran out and another node took the step over: it makes the call now.
        r.abortReason = 'lost';
        this.d.logger.warn('attempt.abort', { alert: r.alertId, delivery: r.deliveryId, channel: r.channel, why: `lease lost to node ${del.lease_node}` });
        r.ctrl.abort();
        continue;
      }
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
      ...(user.xmpp ? { xmpp: user.xmpp } : {}),
    };
  }

  private channel(name: string, cfg: Config): Channel | undefined {
    const enabled = (cfg.channels as Record<string, { enabled?: boolean } | undefined>)[name]?.enabled ?? false;
    return enabled ? this.d.channels()[name] : undefined;
  }

  /** The channel for a step, when it is enabled, running and can reach this person. */
  private usable(step: PlanStep, r: Recipient, cfg: Config): Channel | undefined {
    const ch = this.channel(step.channel, cfg);
    return ch && ch.address(r) !== null ? ch : undefined;
  }

  /** The steps this delivery walks: its own plan (send-test --channel), else the person's order. */
  private async plan(d: DeliveryRow, user: User, cfg: Config): Promise<PlanStep[]> {
    const chans = this.d.channels();
    const kindOf = (c: string) => chans[c]?.kind;
    if (d.plan) return channelPlan(JSON.parse(d.plan) as string[], null, false, kindOf);
    let order = this.orders.get(user.email);
    if (order === undefined) this.orders.set(user.email, (order = await this.d.users.effectiveOrder(user)));
    return channelPlan(cfg.channels.order, order, d.text_only === 1, kindOf);
  }

  /**
   * Whether some enabled channel has a line free now (or none is enabled: then each due delivery
   * is walked to its end, failed, at once). A delivery whose own channels are all disabled while
   * every enabled line is busy waits for the first line to free up to be ended.
   */
  private anyLineFree(cfg: Config): boolean {
    const enabled = Object.keys(this.d.channels()).flatMap((name) => {
      const c = this.channel(name, cfg);
      return c ? [[name, c] as const] : [];
    });
    return enabled.length === 0 || enabled.some(([name, c]) => this.runningCount(name) < c.capacity);
  }

  /** Walks a due delivery forward: skips what can't be used, then starts the current step (or waits for capacity). */
  private async advance(d: DeliveryRow & { alert_state: AlertState; alert_level: string | null }, cfg: Config, now: number, userCache: Map<string, User | null>): Promise<void> {
    const { deliveries, users, logger } = this.d;
    if (!OPEN_ALERT_STATES.includes(d.alert_state)) {
      await deliveries.finish(d.id, 'cancelled', `alert is ${d.alert_state}`, now);
      return;
    }
    let user = userCache.get(d.user_email);
    if (user === undefined) userCache.set(d.user_email, (user = await users.get(d.user_email)));
    if (!user) {
      await deliveries.finish(d.id, 'failed', 'user no longer exists', now);
      logger.error('delivery.failed', { alert: d.alert_id, user: d.user_email, reason: 'user no longer exists' });
      await this.settleAlert(d.alert_id, now);
      return;
    }
    const recipient = this.recipientFor(user, cfg);
    let plan = await this.plan(d, user, cfg);
    if (d.plan === null && d.text_only === 0 && d.step === 0 && d.round === 1 && d.tries === 0 && user.contactRules) {
      // Contact rules (quiet hours, channels per severity) choose the plan once, at the start.
      const level = (SEVERITY_LEVELS as readonly string[]).includes(d.alert_level ?? '') ? (d.alert_level as SeverityLevel) : undefined;
      const c = contactPlan(user, level, now, plan);
      if ('holdUntil' in c) {
        await deliveries.reschedule(d.id, { step: 0, round: 1, tries: 0, nextAt: c.holdUntil }, now);
        await this.d.alerts.event(d.alert_id, now, 'held', `${user.email}: ${c.reason} until ${new Date(c.holdUntil).toISOString()}`);
        return;
      }
      plan = c.plan;
      await deliveries.setPlan(d.id, plan.map((s) => s.channel));
    }
    const pcfg = this.policyFor(cfg, plan, recipient);
    if (await this.leaveToAnotherNode(d, plan, recipient, cfg)) return;
    if (await this.waitForAChannel(d, plan, recipient, cfg, now)) return;
    let pos: Position = { step: d.step, round: d.round, tries: d.tries, textOnly: d.text_only === 1, informed: d.informed === 1 };
    const moved = () => pos.step !== d.step || pos.round !== d.round || pos.tries !== d.tries;

    for (let guard = 0; guard < 100; guard++) {
      if (pos.step >= plan.length) {
        const next = endOfRound(pos, now, pcfg);
        if (!plan.length || !plan.some((s) => this.usable(s, recipient, cfg))) {
          await this.apply(d, { kind: 'finish', state: 'failed', informed: pos.informed, result: `no enabled channel can reach ${user.email} (plan: ${plan.map((s) => s.channel).join(',') || 'empty'})` }, now);
          return;
        }
        await this.apply(d, next, now);
        return;
      }
      const step = plan[pos.step]!;
      const chan = this.usable(step, recipient, cfg);
      const skip = async (reason: string | null) => {
        if (reason) await deliveries.recordSkip(d, step.channel, chan?.address(recipient) ?? null, reason, now);
        pos = { ...pos, step: pos.step + 1, tries: 0 };
      };
      if ((!chan || !chan.health().healthy) && this.d.elsewhere && await this.d.elsewhere(step.channel)) {
        // Channel affinity: this step's channel (a modem) is up on another node: it runs the step.
        if (moved()) await deliveries.reschedule(d.id, { ...pos, nextAt: now }, now);
        return;
      }
      if (!chan) { await skip(null); continue; }
      if (pos.round > 1 && chan.kind === 'text' && (await deliveries.attemptsOf(d.id)).some((a) => a.channel === step.channel && a.outcome === 'delivered')) { await skip(null); continue; }
      const health = chan.health();
      if (!health.healthy) { await skip(`channel unhealthy: ${health.detail}`); continue; }
      if (chan.kind === 'voice') {
        const voiceNames = Object.entries(this.d.channels()).filter(([, c]) => c?.kind === 'voice').map(([n]) => n);
        const calls = await deliveries.callsSince(user.email, now - 3_600_000, voiceNames);
        if (calls >= cfg.escalation.maxCallsPerHour) { await skip(`rate limit: ${calls} calls to ${user.email} in the last hour`); continue; }
        if ([...this.running.values()].some((r) => r.email === user.email && r.kind === 'voice')) break; // one call at a time per person
      }
      if (this.runningCount(step.channel) >= chan.capacity) break; // wait for a free line
      if (moved()) await deliveries.reschedule(d.id, { ...pos, nextAt: now }, now);
      await this.launch(d, step, chan, recipient, pos, plan, now);
      return;
    }
    if (moved()) await deliveries.reschedule(d.id, { ...pos, nextAt: now }, now);
  }

  /**
   * Several nodes: when no channel of the plan is healthy here but one is on another live node,
   * the delivery is left (unmoved) for that node to take. True when it was.
   */
  private async leaveToAnotherNode(d: DeliveryRow, plan: PlanStep[], r: Recipient, cfg: Config): Promise<boolean> {
    if (!this.d.elsewhere) return false;
    if (plan.some((s) => this.usable(s, r, cfg)?.health().healthy)) return false;
    for (const s of plan) {
      if (await this.d.elsewhere(s.channel)) return true;
    }
    return false;
  }

  /**
   * When every channel that could reach this person is down (modem unplugged, PBX gone), walking
   * the plan would only burn the escalation: the delivery waits where it is, looking again every
   * few seconds, up to escalation.maxWait in all; then the walk goes on (and records why each step
   * was skipped), so an alert nobody can be told of still ends failed, loudly. True while it waits.
   */
  private async waitForAChannel(d: DeliveryRow, plan: PlanStep[], r: Recipient, cfg: Config, now: number): Promise<boolean> {
    const usable = plan.map((s) => this.usable(s, r, cfg)).filter((c): c is Channel => Boolean(c));
    if (!usable.length || usable.some((c) => c.health().healthy)) return false;
    if (d.waiting_since !== null && now - d.waiting_since >= cfg.escalation.maxWait) return false;
    const since = await this.d.deliveries.waitForChannel(d.id, now + WAIT_RECHECK_MS, now);
    if (d.waiting_since === null) {
      this.d.logger.warn('delivery.waiting', {
        alert: d.alert_id, user: d.user_email, why: usable.map((c) => `${c.name}: ${c.health().detail}`).join('; '),
        until: new Date(since + cfg.escalation.maxWait).toISOString(),
      });
      await this.d.alerts.event(d.alert_id, now, 'waiting', `${d.user_email}: every channel that can reach them is down (${usable.map((c) => c.name).join(', ')}); waiting up to ${Math.round(cfg.escalation.maxWait / 60_000)} min`);
    }
    return true;
  }

  /**
   * Rounds exist to get an acknowledgement by phone. When no voice channel in the plan can reach
   * this person (none enabled, no number), there is nothing to repeat: walk the plan once.
   */
  private policyFor(cfg: Config, plan: PlanStep[], r: Recipient): PolicyConfig {
    const p = policyConfig(cfg);
    const voice = plan.some((s) => this.usable(s, r, cfg)?.kind === 'voice');
    return voice ? p : { ...p, mode: 'all' };
  }

  private async launch(d: DeliveryRow, step: PlanStep, chan: Channel, recipient: Recipient, pos: Position, plan: PlanStep[], now: number): Promise<void> {
    const { alerts, deliveries, logger, clock } = this.d;
    const target = chan.address(recipient) ?? '';
    const ch = step.channel;
    // Claim the line before the first await, so the same scan doesn't overbook it.
    const ctrl = new AbortController();
    const entry: Running = { deliveryId: d.id, alertId: d.alert_id, email: recipient.email, channel: ch, kind: chan.kind, ctrl, done: Promise.resolve() };
    this.running.set(d.id, entry);
    this.held.add(d.id);
    let job: DeliveryJob;
    try {
      const attemptId = await deliveries.start(d.id, ch, target, now);
      const row = attemptId === null ? null : await alerts.get(d.alert_id);
      const raw = row ? await alerts.raw(d.alert_id) : null;
      if (attemptId === null || !row || !raw) {
        this.running.delete(d.id);
        this.held.delete(d.id);
        return;
      }
      // A call also says how many other alerts are open for this person, so alerts skipped by the
      // hourly call limit are still heard about.
      const more = chan.kind === 'voice' ? await alerts.otherOpenFor(recipient.email, d.alert_id) : 0;
      job = { alert: alertView(row, raw), recipient, address: target, moreAlerts: more, attemptId };
    } catch (e) {
      this.running.delete(d.id);
      this.held.delete(d.id);
      throw e;
    }
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
      // The step is over: its line is free (and nothing may abort it any more).
      this.running.delete(d.id);
      try {
        let next: AfterStep = { move: null };
        try {
          next = await this.afterAttempt(d, step, chan, recipient, pos, plan, o, entry, end);
        } catch (e) {
          logger.error('dispatch.record_error', { delivery: d.id, error: e as Error });
        }
        // The attempt's end and the delivery's next place are one commit (see DeliveryStore.complete).
        await deliveries.complete(job.attemptId, o, d.id, next.move, end);
        logger.info('attempt.end', { alert: d.alert_id, delivery: d.id, channel: ch, to: target, outcome: o.kind, reason: o.reason, ms: end - now });
        await next.after?.();
      } catch (e) {
        logger.error('dispatch.record_error', { delivery: d.id, error: e as Error });
      } finally {
        this.held.delete(d.id);
      }
      this.poke();
      await this.checkIdle();
    })();
  }

  /**
   * What a step's outcome does to its delivery (the core's acknowledgement and key actions run
   * here, before the delivery moves), and what follows once the move is committed.
   */
  private async afterAttempt(d: DeliveryRow, step: PlanStep, chan: Channel, r: Recipient, pos: Position, plan: PlanStep[], o: Outcome, entry: Running, now: number): Promise<AfterStep> {
    const { alerts } = this.d;
    const settleAll = async () => {
      await this.abortStale();
      await this.settleAlert(d.alert_id, now);
    };
    const action = o.detail?.action;
    if ((action === 'escalate' || action === 'snooze' || action === 'resolve') && this.d.act) {
      const how = `${step.channel} key`;
      const res = await this.d.act({ action, alertId: d.alert_id, by: { email: r.email }, via: how });
      if (res.ok && action === 'snooze') {
        // This person's walk goes on where it was, after the snooze.
        return { move: { kind: 'reschedule', step: pos.step, round: pos.round, tries: pos.tries, nextAt: now + SNOOZE_MS, informed: true } };
      }
      if (res.ok) {
        return { move: { kind: 'finish', state: 'done', result: `${action === 'resolve' ? 'resolved' : 'escalated'} by ${r.email} (${how})`, informed: true }, after: settleAll };
      }
      this.d.logger.info('dispatch.key_action_refused', { alert: d.alert_id, action, reason: res.message });
    }
    if (o.kind === 'acknowledged') {
      const how = `${step.channel} keypress`;
      await this.d.acknowledge({ alertId: d.alert_id, by: { email: r.email }, via: how });
      return { move: { kind: 'finish', state: 'acknowledged', result: `acknowledged by ${r.email} (${how})`, informed: true }, after: settleAll };
    }
    if (entry.abortReason === 'lost') return { move: null }; // another node has the delivery now
    if (entry.abortReason && entry.abortReason !== 'shutdown') {
      const a = await alerts.get(d.alert_id);
      return { move: { kind: 'finish', state: a?.state === 'acknowledged' ? 'acknowledged' : 'cancelled', result: `stopped: alert ${a?.state ?? 'gone'}` } };
    }
    if (entry.abortReason === 'shutdown') {
      // Leave it queued at the same step: the next start retries it.
      return { move: { kind: 'reschedule', step: pos.step, round: pos.round, tries: pos.tries, nextAt: now } };
    }
    const cfg = await this.d.config();
    const next = afterStep({ pos, plan, step, result: o.kind, retryable: o.retryable, retry: chan.retry, now, cfg: this.policyFor(cfg, plan, r) });
    return { move: moveOf(next), after: () => this.afterMove(d, next, now) };
  }

  /** Moves a delivery as the policy says (a step that was not made: nothing to close with it). */
  private async apply(d: DeliveryRow, next: Next, now: number): Promise<void> {
    const m = moveOf(next);
    if (m.kind === 'reschedule') await this.d.deliveries.reschedule(d.id, m, now);
    else await this.d.deliveries.finish(d.id, m.state, m.result, now, m.informed);
    await this.afterMove(d, next, now);
  }

  /** Logs the move; a delivery that ended may end its alert. */
  private async afterMove(d: DeliveryRow, next: Next, now: number): Promise<void> {
    if (next.kind === 'continue') {
      if (next.round !== d.round) this.d.logger.info('delivery.round', { alert: d.alert_id, user: d.user_email, round: next.round, at: new Date(next.at).toISOString() });
      return;
    }
    const level = next.state === 'failed' || next.state === 'unacknowledged' ? 'error' : 'info';
    this.d.logger[level](`delivery.${next.state}`, { alert: d.alert_id, user: d.user_email, result: next.result });
    await this.settleAlert(d.alert_id, now);
  }

  /** Alerts whose silence ended: still open ones are delivered now (the store resolves the others). */
  private async releaseSilenced(now: number, deliver: boolean): Promise<number> {
    let n = 0;
    for (const a of await this.d.alerts.silenceEnded(now)) {
      if (!deliver) {
        if (await this.d.alerts.setState(a.id, 'cancelled', now, ['silenced'])) {
          await this.d.alerts.event(a.id, now, 'cancelled', 'the silence ended; escalation.deliverAfterSilence is off');
        }
        continue;
      }
      if ((await this.d.alerts.releaseSilenced(a.id, now)) === 'released') n++;
    }
    return n;
  }

  /** When every delivery of an open alert has ended, the alert's state says how it ended (core/settle). */
  private async settleAlert(alertId: number, now: number): Promise<void> {
    const { alerts, logger } = this.d;
    const a = await alerts.get(alertId);
    if (!a || !OPEN_ALERT_STATES.includes(a.state)) return;
    // A policy with steps still to come (the secondary in 10 minutes) keeps the alert open.
    if (this.d.policyRuns && (await this.d.policyRuns.active(alertId))) return;
    const state = settle((await alerts.deliveries(alertId)).map((x) => x.state));
    if (!state) return;
    if (!(await alerts.setState(alertId, state, now, OPEN_ALERT_STATES))) return;
    if (isExhausted(state)) {
      await alerts.event(alertId, now, 'exhausted', state === 'failed' ? 'no channel reached any recipient' : 'nobody acknowledged');
      logger.error(`alert.${state}`, { alert: alertId, subject: a.subject, note: state === 'failed' ? 'ALERT NOT DELIVERED: every channel exhausted' : 'every round done, nobody acknowledged' });
      this.d.onExhausted?.(alertId, state as 'failed' | 'unacknowledged');
    }
  }
}
