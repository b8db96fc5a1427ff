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
import { admitInput, type NewAlert } from '../core/admission.js';
import type { AlertView, Recipient } from '../core/model.js';
import type { AlertStore } from '../store/alerts.js';
import type { AdmitResult } from '../store/rows.js';
import type { DeliveryStore } from '../store/deliveries.js';
import type { User, UserStore } from '../store/users.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import {
  clearFailed, conditionsOf, DEFAULT_REPAGE_MS, emptyState, evaluate, raiseFailed, withOpen, isSelfKey,
  type AlarmState, type ChannelObservation, type Condition, type Decisions, type OpenAlarm,
} from './self-alarm-rules.js';
import { selfAlarmParsed, selfAlarmRaw, type SelfAlarmMail } from './self-alarm-message.js';

/** One try of sending an alarm straight through a channel (see dispatch/direct.ts). */
export interface SentAttempt {
  email: string;
  channel: string;
  target: string;
  startedAt: number;
  endedAt: number;
  outcome: string;
  reason: string;
}

/** An admin as a channel sees them, and the channels to try for them. */
export interface AdminTarget {
  recipient: Recipient;
  order: readonly string[];
}

const REACHED = ['delivered', 'answered', 'acknowledged'];

/** An enabled channel as the daemon sees it now. */
export interface ChannelState {
  name: string;
  running: boolean;
  healthy: boolean;
  detail: string;
}

export interface SelfAlarmDeps {
  alerts: Pick<AlertStore, 'get' | 'list' | 'recordSent'>;
  deliveries: Pick<DeliveryStore, 'waiting' | 'oldestDue' | 'failingStreak'>;
  users: Pick<UserStore, 'inGroup' | 'effectiveOrder'>;
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
  /**
   * Whether the database works: faults the stores counted (store/health.ts) and a probe (a read
   * and one small write) run at every evaluation. Without it there is no "database errors" alarm.
   */
  database?: {
    faults: { readonly count: number; state(): { last: { op: string; code: string; message: string } | null } };
    probe: (now: number) => Promise<void>;
  };
  /**
   * Sends an alarm straight through the channels, without the store (dispatch/direct.ts): used
   * when an alarm cannot be stored (the database fails). The alarm is written to history later.
   */
  sendDirect?: (alert: AlertView, to: readonly AdminTarget[]) => Promise<SentAttempt[]>;
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
  /** Alarms sent straight through a channel and not yet in history (the database failed). */
  unstored?: string[];
}

/** The database as the last evaluation found it. */
export interface DatabaseStatus {
  ok: boolean;
  /** What fails ("SQLITE_IOERR_WRITE in store probe: disk I/O error"), while it fails. */
  error: string | null;
  /** Since when it fails, while it fails. */
  since: string | null;
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
  private lastCfg: Config | null = null;
  /** Admins as last read from the store: alarms about the store itself still find them. */
  private adminCache: User[] = [];
  private targetsCache: AdminTarget[] = [];
  private adminsUnread = false;
  /** Alarms sent without the store, waiting to be written to history. */
  private readonly unstored = new Map<string, { mail: SelfAlarmMail; attempts: SentAttempt[] }>();
  private faultsSeen = 0;
  private db: { error: string | null; since: number | null } = { error: null, since: null };
  private readonly abort = new AbortController();

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
    this.loaded = true;
  }

  /**
   * What fails in the database now: the probe's own error, else a fault some store call met since
   * the last evaluation. Null when the probe went through and nothing failed meanwhile.
   */
  private async databaseError(now: number): Promise<string | null> {
    const db = this.d.database;
    if (!db) return null;
    let error: string | null = null;
    try {
      await db.probe(now);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      error = `${typeof code === 'string' ? `${code} in ` : ''}store probe: ${(e as Error).message}`;
    }
    const count = db.faults.count;
    if (!error && count > this.faultsSeen) {
      const last = db.faults.state().last;
      if (last) error = `${last.code} in ${last.op}: ${last.message}`;
    }
    this.faultsSeen = count;
    this.db = error ? { error, since: this.db.since ?? now } : { error: null, since: null };
    return error;
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
    // A read the database refuses leaves that observation out (the database alarm says why).
    const orElse = <T>(p: () => Promise<T>, v: T): Promise<T> => p().catch(() => v);
    for (const c of this.d.channels(cfg)) {
      const streak = c.running && c.healthy ? await orElse(() => this.d.deliveries.failingStreak(c.name), null) : null;
      channels.push({ name: c.name, healthy: c.running && c.healthy, detail: c.detail, failingSince: streak?.since ?? null, lastFailure: streak?.reason ?? null });
    }
    const databaseError = await this.databaseError(now);
    const [waiting, oldestDue, exhausted, diskFree, clockSynced, nodesDown] = await Promise.all([
      orElse(() => this.d.deliveries.waiting(now, SELF_MONITOR), { count: 0, since: null }),
      orElse(() => this.d.deliveries.oldestDue(now), null),
      orElse(() => this.observeExhausted(), []),
      this.diskFree(cfg.dataDir),
      this.clockSynced().catch(() => null),
      this.d.nodesDown ? orElse(() => this.d.nodesDown!(now), []) : Promise.resolve([]),
    ]);
    return conditionsOf(
      { now, channels, waiting, oldestDue, exhausted, diskFree, ttsError: this.d.ttsError?.() ?? null, clockSynced, databaseError, nodesDown },
      { channelDownAfterMs: cfg.admins.channelDownAfter, queueAgeMaxMs: cfg.admins.queueAgeMax, minFreeDisk: cfg.admins.minFreeDisk, databaseErrorsAfterMs: cfg.admins.databaseErrorsAfter },
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

  /** The effective config, or the last one read when the database (holding runtime settings) fails. */
  private async config(): Promise<Config> {
    try {
      this.lastCfg = await this.d.config();
    } catch (e) {
      if (!this.lastCfg) throw e;
    }
    return this.lastCfg;
  }

  /** The admins, read again at every evaluation; the last list read when the database fails. */
  private async adminsNow(cfg: Config): Promise<User[]> {
    try {
      const admins = await this.d.users.inGroup(cfg.admins.group);
      const targets: AdminTarget[] = [];
      for (const u of admins) {
        const own = await this.d.users.effectiveOrder(u);
        targets.push({ recipient: recipientOf(u, cfg), order: own ?? cfg.channels.order });
      }
      this.adminCache = admins;
      this.targetsCache = targets;
      this.adminsUnread = false;
    } catch (e) {
      // Once per outage, not at every evaluation.
      if (!this.adminsUnread) this.d.logger.warn('self_alarm.admins_unread', { error: e as Error, using: this.adminCache.length });
      this.adminsUnread = true;
    }
    return this.adminCache;
  }

  /** Alarms sent without the store are written to history once it takes writes again. */
  private async recordUnstored(): Promise<void> {
    for (const [key, u] of this.unstored) {
      try {
        const note = `sent straight through ${[...new Set(u.attempts.filter((a) => REACHED.includes(a.outcome)).map((a) => a.channel))].join(', ') || 'no channel'} without the database (it failed); written to history now`;
        const id = await this.d.alerts.recordSent(admitInput(this.newAlert(u.mail)), u.attempts, note);
        this.unstored.delete(key);
        this.d.logger.info('self_alarm.recorded', { key, alert: id });
      } catch {
        return;
      }
    }
  }

  private async evaluateOnce(): Promise<Decisions> {
    const cfg = await this.config();
    const now = this.d.clock.now();
    if (!this.loaded) await this.load(now).catch((e: Error) => this.d.logger.warn('self_alarm.history_unread', { error: e }));
    if (this.unstored.size) await this.recordUnstored();
    const conditions = await this.observe(cfg, now);
    const before = this.state;
    const decided = evaluate(before, conditions, now, { repageMs: this.d.repageMs ?? DEFAULT_REPAGE_MS });
    this.state = decided.state;
    const admins = await this.adminsNow(cfg);
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
        // It cannot be stored (the database fails): straight through a channel, if one reaches an admin.
        if (await this.raiseUnstored(c, to, now, e as Error)) continue;
        this.state = raiseFailed(this.state, c.key, before.lastRaised[c.key]);
        unsent.push(c.key);
        this.d.logger.error('self_alarm.raise_failed', { key: c.key, error: e as Error });
      }
    }
    for (const a of decided.clear) {
      // Its resolve must find it in history: wait until it is written there.
      if (this.unstored.has(a.key)) {
        this.state = clearFailed(this.state, a);
        continue;
      }
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


  private newAlert(mail: SelfAlarmMail): NewAlert {
    return {
      parsed: selfAlarmParsed(mail),
      raw: selfAlarmRaw(mail),
      mailFrom: '',
      rcpt: mail.to,
      client: 'alertline (self-alarm)',
      recipients: mail.to.map((email) => ({ email })),
      receivedAt: mail.at,
    };
  }

  private submit(kind: 'problem' | 'resolved', key: string, summary: string, detail: string, to: string[], now: number): Promise<AdmitResult> {
    return this.d.writer.submit(this.newAlert({ kind, key, summary, detail, hostname: this.d.hostname, to, at: now }));
  }

  /** Sends an alarm the store refused straight through the channels; true when an admin was reached. */
  private async raiseUnstored(c: Condition, to: string[], now: number, why: Error): Promise<boolean> {
    if (!this.d.sendDirect || this.abort.signal.aborted) return false;
    const mail: SelfAlarmMail = { kind: 'problem', key: c.key, summary: c.summary, detail: c.detail, hostname: this.d.hostname, to, at: now };
    const p = selfAlarmParsed(mail);
    const view: AlertView = {
      id: 0, kind: 'problem', subject: p.subject, text: p.text, receivedAt: now, raw: selfAlarmRaw(mail),
      host: this.d.hostname, severity: 'High', level: 'high', sentence: p.subject, from: p.from ?? `alertline@${this.d.hostname}`,
    };
    const targets = this.targetsCache.filter((t) => to.includes(t.recipient.email));
    const attempts = await this.d.sendDirect(view, targets);
    const reached = attempts.filter((a) => REACHED.includes(a.outcome));
    if (!reached.length) {
      this.d.logger.error('self_alarm.unstored_failed', { key: c.key, why: why.message, tries: attempts.map((a) => `${a.channel}:${a.outcome}: ${a.reason}`).join('; ') || 'no channel can reach an admin' });
      return false;
    }
    this.unstored.set(c.key, { mail, attempts });
    this.d.logger.warn('self_alarm.raised_unstored', { key: c.key, summary: c.summary, why: why.message, via: reached.map((a) => `${a.channel}:${a.target}`).join(',') });
    return true;
  }

  /** The database as the last evaluation found it. */
  database(): DatabaseStatus {
    return { ok: this.db.error === null, error: this.db.error, since: this.db.since !== null ? new Date(this.db.since).toISOString() : null };
  }

  /** Stops sending (shutdown): a send in progress is aborted. */
  stop(): void {
    this.abort.abort();
  }

  status(): SelfAlarmStatus {
    return {
      open: Object.values(this.state.open).map((a) => ({ key: a.key, summary: a.summary, since: new Date(a.raisedAt).toISOString() })),
      unsent: this.unsent,
      admins: this.admins,
      ...(this.unstored.size ? { unstored: [...this.unstored.keys()] } : {}),
      ...(this.admins === 0 ? { problem: `self-alarm with no admin to tell: nobody is in group ${this.group} (admins.group)` } : {}),
    };
  }

  /** Resolves when no evaluation is running (shutdown). */
  async idle(): Promise<void> {
    await this.running;
  }
}

/** An admin as the channels see them (dispatcher's recipient, from the stored user). */
function recipientOf(u: User, cfg: Config): Recipient {
  return {
    email: u.email,
    lang: u.lang ?? cfg.voice.lang,
    ...(u.name ? { name: u.name } : {}),
    ...(u.phone ? { phone: u.phone } : {}),
    ...(u.sip ? { sip: u.sip } : {}),
    ...(u.xmpp ? { xmpp: u.xmpp } : {}),
  };
}
