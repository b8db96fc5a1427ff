/**
 * Heartbeats, the dead-man's switch: a monitor pings every `every`; when no ping came for
 * `every + grace`, Alertline raises its own alert "monitor <name> went quiet" (monitor
 * 'alertline') to the heartbeat's group through the normal admission, and the next ping resolves
 * it. After the appliance itself starts, every monitor gets one full interval before it can be
 * quiet (a restart after downtime is not an outage of every monitor). Time comes from the clock.
 */
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { Heartbeat } from '../../store/heartbeats.js';
import type { NewAlert } from '../../core/admission.js';
import type { AdmitResult } from '../../store/rows.js';
import type { ParsedAlert } from '../../core/model.js';
import type { User } from '../../store/users.js';
import { formatDuration } from '../../config/units.js';
import { syntheticMail } from './synthetic-mail.js';
import { resolveName } from './ingest.js';

export interface HeartbeatDeps {
  store: {
    list(): Promise<Heartbeat[]>;
    get(name: string): Promise<Heartbeat | null>;
    seen(name: string, at: number): Promise<Heartbeat | null>;
    setQuiet(name: string, quiet: { since: number; alertId: number } | null): Promise<boolean>;
  };
  users: { resolveRecipient(address: string): Promise<User[]>; inGroup(group: string): Promise<User[]> };
  writer: { submit(item: NewAlert): Promise<AdmitResult> };
  defaultTo: () => string[];
  clock: Clock;
  logger: Logger;
  hostname: string;
  checkEveryMs: number;
  /** Several nodes on one database: only the node this says true on checks (default: always). */
  leader?: () => Promise<boolean>;
}

export function quietSentence(name: string): string {
  return `monitor ${name} went quiet`;
}

export class HeartbeatMonitor {
  private readonly startedAt: number;
  private cancel: (() => void) | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly d: HeartbeatDeps) {
    this.startedAt = d.clock.now();
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      void (this.d.leader ? this.d.leader() : Promise.resolve(true)).then((lead) => (lead ? this.check() : undefined)).catch((e) => this.d.logger.error('heartbeat.check_failed', { error: e as Error })).finally(() => {
        if (!this.stopped) this.cancel = this.d.clock.setTimer(tick, this.d.checkEveryMs);
      });
    };
    this.cancel = this.d.clock.setTimer(tick, this.d.checkEveryMs);
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
  }

  /** Pings and checks run one at a time, so a ping never races the alert it resolves. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => {});
    return p;
  }

  /** When a heartbeat counts as quiet (ms since the epoch). */
  deadline(h: Heartbeat): number {
    return Math.max(h.lastSeenAt ?? h.createdAt, this.startedAt) + h.everyMs + h.graceMs;
  }

  /** A ping: recorded (committed when this resolves); a quiet monitor's alert is resolved. Null: no such heartbeat. */
  ping(name: string): Promise<Heartbeat | null> {
    return this.serial(async () => {
      const now = this.d.clock.now();
      const h = await this.d.store.seen(name, now);
      if (!h) return null;
      if (h.quietSince !== null) {
        await this.raise(h, 'resolved', h.quietSince);
        await this.d.store.setQuiet(h.name, null);
        this.d.logger.info('heartbeat.back', { name: h.name, quietForSec: Math.round((now - h.quietSince) / 1000) });
      }
      return (await this.d.store.get(h.name))!;
    });
  }

  /** Raises the quiet-monitor alert for every heartbeat past its deadline. */
  check(): Promise<void> {
    return this.serial(async () => {
      const now = this.d.clock.now();
      for (const h of await this.d.store.list()) {
        if (h.quietSince !== null || now <= this.deadline(h)) continue;
        const r = await this.raise(h, 'problem', now);
        await this.d.store.setQuiet(h.name, { since: now, alertId: r.id });
        this.d.logger.warn('heartbeat.quiet', { name: h.name, lastSeenAt: h.lastSeenAt, alert: r.id, state: r.state });
      }
    });
  }

  private async raise(h: Heartbeat, kind: 'problem' | 'resolved', since: number): Promise<AdmitResult> {
    const now = this.d.clock.now();
    const sentence = kind === 'problem' ? quietSentence(h.name) : `monitor ${h.name} is back`;
    const subject = `${kind === 'problem' ? 'Problem' : 'Resolved'}: ${sentence}`;
    const last = h.lastSeenAt ? new Date(h.lastSeenAt).toISOString() : 'never';
    const text = [
      kind === 'problem'
        ? `No heartbeat from ${h.name} for more than ${formatDuration(h.everyMs + h.graceMs)} (expected every ${formatDuration(h.everyMs)}, grace ${formatDuration(h.graceMs)}).`
        : `${h.name} is sending heartbeats again.`,
      '',
      `Monitor: ${h.name}`,
      `Last heartbeat: ${last}`,
      `Quiet since: ${new Date(since).toISOString()}`,
    ].join('\n');
    const names = h.group ? [h.group] : this.d.defaultTo();
    const users: User[] = [];
    for (const n of names) users.push(...await resolveName(this.d.users, n));
    if (!users.length) this.d.logger.warn('heartbeat.no_recipients', { name: h.name, group: h.group });
    const parsed: ParsedAlert = {
      kind, subject, text, sentence, monitor: 'alertline', severity: 'high', level: 'high', host: h.name,
      // One outage is one problem: a second outage later is a new alert, not a duplicate.
      problemKey: `heartbeat:${h.name.toLowerCase()}:${since}`,
      eventId: `heartbeat:${h.name.toLowerCase()}:${since}`,
    };
    return this.d.writer.submit({
      parsed, rcpt: names, mailFrom: 'alertline', client: 'heartbeat', recipients: users.map((u) => ({ email: u.email })), receivedAt: now,
      raw: syntheticMail({ from: `alertline@${this.d.hostname}`, subject, text, date: now, messageId: `heartbeat.${h.name}.${kind}.${since}@${this.d.hostname}` }),
    });
  }
}
