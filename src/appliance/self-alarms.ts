/**
 * Self-alarms, the I/O part: observes the appliance (channels, the queue, alerts that ended
 * undelivered, disk, speech, clock), lets the pure rules (self-alarm-rules.ts) decide, and raises
 * or resolves alarms as Alertline's own alerts through the normal admission (the group-commit
 * writer), to the users of admins.group. The dispatcher then reaches them through whichever
 * channels still work, and the alarms are in history like any alert.
 */
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { NewAlert } from '../core/admission.js';
import type { AlertStore } from '../store/alerts.js';
import type { AdmitResult } from '../store/rows.js';
import type { DeliveryStore } from '../store/deliveries.js';
import type { UserStore } from '../store/users.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import {
  clearFailed, conditionsOf, DEFAULT_REPAGE_MS, emptyState, evaluate, raiseFailed, withOpen, isSelfKey,
  type AlarmState, type ChannelObservation, type Condition, type Decisions, type OpenAlarm,
} from './self-alarm-rules.js';
import { selfAlarmParsed, selfAlarmRaw } from './self-alarm-message.js';

/** An enabled channel as the daemon sees it now. */
export interface ChannelState {
  name: string;
  running: boolean;
  healthy: boolean;
  detail: string;
}

export interface SelfAlarmDeps {
  alerts: Pick<AlertStore, 'get' | 'list'>;
  deliveries: Pick<DeliveryStore, 'waiting' | 'oldestDue' | 'failingStreak'>;
  users: Pick<UserStore, 'inGroup'>;
  writer: { submit(a: NewAlert): Promise<AdmitResult> };
  config: () => Promise<Config>;
  /** The enabled channels (running or not) with their health. */
  channels: (cfg: Config) => ChannelState[];
  clock: Clock;
  logger: Logger;
  hostname: string;
  /** The speech service's last start error, or null. */
  ttsError?: () => string | null;
  /** Other nodes sharing the database that stopped heartbeating (none on SQLite). */
  nodesDown?: (now: number) => Promise<{ name: string; seenAt: number }[]>;
  /** Free bytes on the file system holding `dir` (null: unknown). Default: statfs. */
  diskFree?: (dir: string) => Promise<number | null>;
  /** Whether the clock is NTP-synchronized (null: unknown). Default: timedatectl, when present. */
  clockSynced?: () => Promise<boolean | null>;
  /** A key pages at most once per this long (default 15 min). */
  repageMs?: number;
}

export interface SelfAlarmStatus {
  /** Alarms raised and not yet resolved. */
  open: { key: string; summary: string; since: string }[];
  /** Conditions holding that could not be raised (e.g. nobody in admins.group). */
  unsent: string[];
  /** Users in admins.group at the last evaluation (null: not evaluated yet). */
  admins: number | null;
  /** Why alarms cannot reach anyone, when they cannot. */
  problem?: string;
}

export const SELF_MONITOR = 'alertline';
const MAX_EXHAUSTED = 1000;

export async function statfsFree(dir: string): Promise<number | null> {
  if (dir === ':memory:') return null;
  try {
    const s = await statfs(resolve(dir));
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/**
 * `timedatectl show -p NTPSynchronized --value` ("yes"/"no"), at most once a minute. Where the
 * command is missing or systemd does not answer (containers), the state is unknown: no alarm.
 */
export function timedatectlSynced(now: () => number = Date.now, everyMs = 60_000): () => Promise<boolean | null> {
  let missing = false;
  let cached: { at: number; v: boolean | null } | null = null;
  let pending: Promise<boolean | null> | null = null;
  return () => {
    if (missing) return Promise.resolve(null);
    if (cached && now() - cached.at < everyMs) return Promise.resolve(cached.v);
    pending ??= new Promise<boolean | null>((res) => {
      execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 5000, maxBuffer: 4096 }, (err, stdout) => {
        if (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing = true;
          return res(null);
        }
        const v = String(stdout).trim();
        res(v === 'yes' ? true : v === 'no' ? false : null);
      });
    }).then((v) => {
      cached = { at: now(), v };
      pending = null;
      return v;
    });
    return pending;
  };
}

export class SelfAlarms {
  private state: AlarmState = emptyState();
  private readonly exhausted = new Map<number, 'failed' | 'unacknowledged'>();
  private running: Promise<Decisions | null> | null = null;
  private admins: number | null = null;
  private unsent: string[] = [];
  private noAdminLogged = false;
  private group = 'admins';
  private readonly diskFree: (dir: string) => Promise<number | null>;
  private readonly clockSynced: () => Promise<boolean | null>;
  private loaded = false;

  constructor(private readonly d: SelfAlarmDeps) {
    this.diskFree = d.diskFree ?? statfsFree;
    this.clockSynced = d.clockSynced ?? timedatectlSynced(() => d.clock.now());
  }

  /**
   * The dispatcher's onExhausted: an alert ended failed or unacknowledged. Self-alarms are left
   * out when the next evaluation reads the alert (an alarm about an alarm would loop).
   */
  onExhausted(alertId: number, state: 'failed' | 'unacknowledged'): void {
    this.exhausted.set(alertId, state);
    if (this.exhausted.size > MAX_EXHAUSTED) this.exhausted.delete(this.exhausted.keys().next().value!);
  }

  /** Alarms an earlier run raised and never resolved, and alerts that ended undelivered lately, from history. */
  private async load(now: number): Promise<void> {
    this.loaded = true;
    const recent = await this.d.alerts.list(500);
    const latest = new Map<string, (typeof recent)[number]>();
    const open: OpenAlarm[] = [];
    for (const a of recent) {
      if (a.monitor === SELF_MONITOR && isSelfKey(a.problem_key)) {
        if (!latest.has(a.problem_key)) latest.set(a.problem_key, a);
      } else if ((a.state === 'failed' || a.state === 'unacknowledged') && now - a.updated_at < 24 * 3_600_000) {
        this.exhausted.set(a.id, a.state);
      }
    }
    for (const [key, a] of latest) {
      if (a.kind !== 'problem') continue;
      if (['pending', 'notifying', 'delivered', 'failed', 'unacknowledged', 'acknowledged'].includes(a.state)) {
        open.push({ key, summary: a.subject, raisedAt: a.received_at });
      }
    }
    if (open.length) this.state = withOpen(this.state, open);
  }

  private async observeExhausted(): Promise<{ id: number; state: 'failed' | 'unacknowledged'; subject: string }[]> {
    const out: { id: number; state: 'failed' | 'unacknowledged'; subject: string }[] = [];
    for (const id of [...this.exhausted.keys()]) {
      const a = await this.d.alerts.get(id);
      if (!a || a.monitor === SELF_MONITOR || isSelfKey(a.problem_key) || (a.state !== 'failed' && a.state !== 'unacknowledged')) {
        this.exhausted.delete(id);
        continue;
      }
      out.push({ id, state: a.state, subject: a.subject });
    }
    return out;
  }

  /** The conditions holding now. */
  async observe(cfg: Config, now: number): Promise<Condition[]> {
    const channels: ChannelObservation[] = [];
    for (const c of this.d.channels(cfg)) {
      const streak = c.running && c.healthy ? await this.d.deliveries.failingStreak(c.name) : null;
      channels.push({ name: c.name, healthy: c.running && c.healthy, detail: c.detail, failingSince: streak?.since ?? null, lastFailure: streak?.reason ?? null });
    }
    const [waiting, oldestDue, exhausted, diskFree, clockSynced, nodesDown] = await Promise.all([
      this.d.deliveries.waiting(now, SELF_MONITOR),
      this.d.deliveries.oldestDue(now),
      this.observeExhausted(),
      this.diskFree(cfg.dataDir),
      this.clockSynced().catch(() => null),
      this.d.nodesDown ? this.d.nodesDown(now) : Promise.resolve([]),
    ]);
    return conditionsOf(
      { now, channels, waiting, oldestDue, exhausted, diskFree, ttsError: this.d.ttsError?.() ?? null, clockSynced, nodesDown },
      { channelDownAfterMs: cfg.admins.channelDownAfter, queueAgeMaxMs: cfg.admins.queueAgeMax, minFreeDisk: cfg.admins.minFreeDisk },
    );
  }

  /** One evaluation (housekeeping calls it every few seconds). Evaluations never overlap. */
  evaluate(): Promise<Decisions | null> {
    this.running ??= this.evaluateOnce().catch((e: Error) => {
      this.d.logger.error('self_alarm.evaluate_failed', { error: e });
      return null;
    }).finally(() => { this.running = null; });
    return this.running;
  }

  private async evaluateOnce(): Promise<Decisions> {
    const cfg = await this.d.config();
    const now = this.d.clock.now();
    if (!this.loaded) await this.load(now);
    const conditions = await this.observe(cfg, now);
    const before = this.state;
    const decided = evaluate(before, conditions, now, { repageMs: this.d.repageMs ?? DEFAULT_REPAGE_MS });
    this.state = decided.state;
    const admins = await this.d.users.inGroup(cfg.admins.group);
    this.admins = admins.length;
    const to = admins.map((u) => u.email);
    const unsent: string[] = [];
    for (const c of decided.raise) {
      if (!to.length) {
        this.state = raiseFailed(this.state, c.key, before.lastRaised[c.key]);
        unsent.push(c.key);
        continue;
      }
      try {
        const r = await this.submit('problem', c.key, c.summary, c.detail, to, now);
        this.d.logger.warn('self_alarm.raised', { key: c.key, alert: r.id, summary: c.summary, to: to.join(',') });
      } catch (e) {
        this.state = raiseFailed(this.state, c.key, before.lastRaised[c.key]);
        unsent.push(c.key);
        this.d.logger.error('self_alarm.raise_failed', { key: c.key, error: e as Error });
      }
    }
    for (const a of decided.clear) {
      if (!to.length) {
        this.state = clearFailed(this.state, a);
        continue;
      }
      try {
        const r = await this.submit('resolved', a.key, a.summary.replace(/^Resolved: /, ''), `The condition is over: ${a.summary}`, to, now);
        this.d.logger.info('self_alarm.resolved', { key: a.key, alert: r.id, resolved: r.resolved.join(',') });
      } catch (e) {
        this.state = clearFailed(this.state, a);
        this.d.logger.error('self_alarm.resolve_failed', { key: a.key, error: e as Error });
      }
    }
    if (unsent.length && !to.length) {
      if (!this.noAdminLogged) {
        this.d.logger.error('self-alarm with no admin to tell', { group: cfg.admins.group, alarms: unsent.join(','), hint: `alertline users add <email> --group ${cfg.admins.group}` });
        this.noAdminLogged = true;
      }
    } else if (to.length) {
      this.noAdminLogged = false;
    }
    // Conditions held back because nobody could be told stay visible in status.
    this.unsent = unsent;
    this.group = cfg.admins.group;
    return decided;
  }


  private submit(kind: 'problem' | 'resolved', key: string, summary: string, detail: string, to: string[], now: number): Promise<AdmitResult> {
    const mail = { kind, key, summary, detail, hostname: this.d.hostname, to, at: now };
    return this.d.writer.submit({
      parsed: selfAlarmParsed(mail),
      raw: selfAlarmRaw(mail),
      mailFrom: '',
      rcpt: to,
      client: 'alertline (self-alarm)',
      recipients: to.map((email) => ({ email })),
      receivedAt: now,
    });
  }

  status(): SelfAlarmStatus {
    return {
      open: Object.values(this.state.open).map((a) => ({ key: a.key, summary: a.summary, since: new Date(a.raisedAt).toISOString() })),
      unsent: this.unsent,
      admins: this.admins,
      ...(this.admins === 0 ? { problem: `self-alarm with no admin to tell: nobody is in group ${this.group} (admins.group)` } : {}),
    };
  }

  /** Resolves when no evaluation is running (shutdown). */
  async idle(): Promise<void> {
    await this.running;
  }
}
