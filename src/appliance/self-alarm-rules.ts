/**
 * Self-alarms, the pure part: which of the appliance's own conditions (a channel down, deliveries
 * waiting, an alert nobody was reached for, a full disk...) become an alarm to the admins now, and
 * which open alarms are over. Conditions in, raise/clear decisions out; the state between two
 * evaluations is a plain value the caller keeps. No I/O, no clock: `now` is handed in.
 *
 * Rules:
 * - a condition must hold `holdMs` (e.g. admins.channelDownAfter) before it is raised;
 * - one open alarm per key: while it is open, the condition holding on is no news;
 * - an open alarm is cleared (resolved) as soon as its condition is no longer observed;
 * - a key is raised at most once per `repageMs`: a flapping condition pages once, and is raised
 *   again only if it still holds when that time is up.
 */

/** One of the appliance's own conditions, as observed now. */
export interface Condition {
  /** `self:<condition>[:<detail>]`: the alarm's problem key (its resolve finds it by this). */
  key: string;
  /** One line for a subject, an SMS and a call. */
  summary: string;
  /** What it means and what to do (the mail body). */
  detail: string;
  /** The condition must hold this long before it is raised (0: at once). */
  holdMs?: number;
  /**
   * When the condition began, if the observer knows better than "first seen by the evaluator"
   * (e.g. a delivery's waiting_since, a failing streak's first failure).
   */
  since?: number;
}

export interface OpenAlarm {
  key: string;
  summary: string;
  raisedAt: number;
}

export interface AlarmState {
  /** Since when each currently observed condition has held (first observation, or its `since`). */
  seen: Record<string, number>;
  /** The alarms raised and not yet cleared. */
  open: Record<string, OpenAlarm>;
  /** When each key was last raised (kept after clearing, for the re-page limit). */
  lastRaised: Record<string, number>;
}

export interface EvalOptions {
  /** A key is raised at most once per this long (default 15 min). */
  repageMs: number;
}

export interface Decisions {
  state: AlarmState;
  raise: Condition[];
  clear: OpenAlarm[];
}

export const DEFAULT_REPAGE_MS = 15 * 60_000;

export function emptyState(): AlarmState {
  return { seen: {}, open: {}, lastRaised: {} };
}

/** The prefix every self-alarm's problem key has (and nothing else's). */
export const SELF_KEY_PREFIX = 'self:';

export function isSelfKey(problemKey: string | null | undefined): boolean {
  return typeof problemKey === 'string' && problemKey.startsWith(SELF_KEY_PREFIX);
}

/**
 * Decides what to raise and what to clear for the conditions observed at `now`. The returned
 * state already counts the raised alarms as open; a raise that could not be carried out is
 * taken back with `raiseFailed`.
 */
export function evaluate(prev: AlarmState, conditions: readonly Condition[], now: number, opts: EvalOptions = { repageMs: DEFAULT_REPAGE_MS }): Decisions {
  const byKey = new Map<string, Condition>();
  for (const c of conditions) if (!byKey.has(c.key)) byKey.set(c.key, c);

  const seen: Record<string, number> = {};
  const open: Record<string, OpenAlarm> = { ...prev.open };
  const lastRaised: Record<string, number> = { ...prev.lastRaised };
  const raise: Condition[] = [];
  const clear: OpenAlarm[] = [];

  for (const [key, c] of byKey) {
    const first = prev.seen[key];
    seen[key] = Math.min(first ?? now, c.since ?? now);
    if (open[key]) continue;
    if (now - seen[key] < (c.holdMs ?? 0)) continue;
    const last = lastRaised[key];
    if (last !== undefined && now - last < opts.repageMs) continue;
    open[key] = { key, summary: c.summary, raisedAt: now };
    lastRaised[key] = now;
    raise.push(c);
  }
  for (const key of Object.keys(open)) {
    if (byKey.has(key)) continue;
    clear.push(open[key]!);
    delete open[key];
  }
  return { state: { seen, open, lastRaised }, raise, clear };
}

/** A raise that was decided but not carried out (nobody to tell, the store refused): try again next time. */
export function raiseFailed(s: AlarmState, key: string, previousLastRaised: number | undefined): AlarmState {
  const open = { ...s.open };
  delete open[key];
  const lastRaised = { ...s.lastRaised };
  if (previousLastRaised === undefined) delete lastRaised[key];
  else lastRaised[key] = previousLastRaised;
  return { ...s, open, lastRaised };
}

/** A clear that was not carried out: the alarm stays open, so the next evaluation clears it again. */
export function clearFailed(s: AlarmState, alarm: OpenAlarm): AlarmState {
  return { ...s, open: { ...s.open, [alarm.key]: alarm } };
}

/** Alarms found open in the history at start (raised by an earlier run): they are cleared when their condition is gone. */
export function withOpen(s: AlarmState, alarms: readonly OpenAlarm[]): AlarmState {
  const open = { ...s.open };
  const lastRaised = { ...s.lastRaised };
  for (const a of alarms) {
    open[a.key] ??= a;
    lastRaised[a.key] = Math.max(lastRaised[a.key] ?? -Infinity, a.raisedAt);
  }
  return { ...s, open, lastRaised };
}

// ------------------------------------------------------------------ observations → conditions

/** What the appliance sees about one enabled channel. */
export interface ChannelObservation {
  name: string;
  /** Running and healthy. */
  healthy: boolean;
  /** The channel's own words ("modem disconnected: ...", "failed at pbx:5060: 403"), or why it did not start. */
  detail: string;
  /** Deliveries through this channel have been failing since then (no success after), if they are. */
  failingSince?: number | null;
  /** The last failure's reason, with failingSince. */
  lastFailure?: string | null;
}

export interface Observations {
  now: number;
  channels: ChannelObservation[];
  /** Deliveries (of alerts other than self-alarms) waiting for a channel to come back. */
  waiting: { count: number; since: number | null };
  /** When the oldest due delivery became due (null: nothing due). */
  oldestDue: number | null;
  /** Alerts that ended without reaching anyone or without an acknowledgement, still so. */
  exhausted: { id: number; state: 'failed' | 'unacknowledged'; subject: string }[];
  /** Free bytes under dataDir (null: unknown). */
  diskFree: number | null;
  /** The speech service's last start error (null: works, or not needed). */
  ttsError: string | null;
  /** false: the system clock is not synchronized; null: unknown. */
  clockSynced: boolean | null;
  /** The database failing now (its last error: "SQLITE_IOERR_WRITE in alerts.admitBatch: disk I/O error"), or null. */
  databaseError?: string | null;
  /** Other nodes sharing the database that stopped heartbeating (several appliances on one PostgreSQL). */
  nodesDown?: { name: string; seenAt: number }[];
}

export interface Thresholds {
  channelDownAfterMs: number;
  queueAgeMaxMs: number;
  minFreeDisk: number;
  /** Database errors must go on this long before they page (a single busy moment does not). */
  databaseErrorsAfterMs?: number;
}

function mb(n: number): string {
  return `${Math.round(n / 1024 ** 2)} MB`;
}

function minutes(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/**
 * The conditions in a set of observations. Channels sharing one device (gsm and sms on one modem)
 * report the same words: they make one alarm, keyed by the first of them.
 */
export function conditionsOf(o: Observations, t: Thresholds): Condition[] {
  const out: Condition[] = [];
  const down = new Map<string, string[]>();
  for (const ch of o.channels) {
    if (ch.healthy) continue;
    const names = down.get(ch.detail) ?? [];
    names.push(ch.name);
    down.set(ch.detail, names);
  }
  for (const [detail, names] of down) {
    const what = names.length > 1 ? `channels ${names.join(' and ')}` : `channel ${names[0]}`;
    out.push({
      key: `self:channel-down:${names[0]}`,
      summary: `Alertline: ${what} down: ${detail}`,
      detail: `The ${what} ${names.length > 1 ? 'are' : 'is'} enabled but not working: ${detail}.\n`
        + 'Alerts go out through the other channels; an alert that only this channel can deliver waits for it (up to escalation.maxWait).\n'
        + 'Check the device or server, then `alertline status` and `alertline doctor`.',
      holdMs: t.channelDownAfterMs,
    });
  }
  for (const ch of o.channels) {
    if (!ch.healthy || ch.failingSince === null || ch.failingSince === undefined) continue;
    out.push({
      key: `self:channel-failing:${ch.name}`,
      summary: `Alertline: channel ${ch.name} failing: ${ch.lastFailure ?? 'deliveries fail'}`,
      detail: `Every delivery through the ${ch.name} channel has failed since ${new Date(ch.failingSince).toISOString()} (last: ${ch.lastFailure ?? 'unknown'}).\n`
        + `The channel reports: ${ch.detail}.\nAlerts go on through the other channels. Check its server and credentials; \`alertline doctor\` tests it.`,
      holdMs: t.channelDownAfterMs,
      since: ch.failingSince,
    });
  }
  for (const n of o.nodesDown ?? []) {
    out.push({
      key: `self:node-down:${n.name}`,
      summary: `Alertline: node ${n.name} is down (not seen since ${new Date(n.seenAt).toISOString()})`,
      detail: `The appliance ${n.name} shares this database but has stopped writing its heartbeat since ${new Date(n.seenAt).toISOString()}.\n`
        + 'The other nodes take over its deliveries once their leases run out (node.lease); its modem channels (gsm, sms) are gone until it is back.\n'
        + 'Check the box (power, network, `systemctl status alertline` there), then `alertline status` here.',
      since: n.seenAt,
    });
  }
  if (o.waiting.count > 0) {
    out.push({
      key: 'self:waiting',
      summary: `Alertline: ${o.waiting.count} deliver${o.waiting.count === 1 ? 'y' : 'ies'} waiting for a channel`,
      detail: `${o.waiting.count} alert deliver${o.waiting.count === 1 ? 'y waits' : 'ies wait'} because every channel that could reach the person is down`
        + `${o.waiting.since !== null ? ` (the oldest since ${new Date(o.waiting.since).toISOString()})` : ''}.\n`
        + 'They go on within seconds when a channel comes back; after escalation.maxWait the escalation goes on without it.',
      ...(o.waiting.since !== null ? { since: o.waiting.since } : {}),
    });
  }
  if (o.oldestDue !== null && o.now - o.oldestDue > t.queueAgeMaxMs) {
    out.push({
      key: 'self:queue-age',
      summary: `Alertline: queue stuck, the oldest due delivery waits ${minutes(o.now - o.oldestDue)}`,
      detail: `A delivery due since ${new Date(o.oldestDue).toISOString()} has not been started (admins.queueAgeMax is ${minutes(t.queueAgeMaxMs)}).\n`
        + 'Channels may be busy or stuck: see `alertline status`.',
    });
  }
  for (const state of ['failed', 'unacknowledged'] as const) {
    const list = o.exhausted.filter((e) => e.state === state).sort((a, b) => a.id - b.id);
    if (!list.length) continue;
    const first = list[0]!;
    const n = list.length;
    const what = state === 'failed' ? 'reached nobody' : 'was acknowledged by nobody';
    out.push({
      key: `self:${state}`,
      summary: n === 1 ? `Alertline: alert ${first.id} ${what}: ${first.subject}` : `Alertline: ${n} alerts ${state === 'failed' ? 'reached nobody' : 'were acknowledged by nobody'} (first: ${first.id} ${first.subject})`,
      detail: `${state === 'failed' ? 'No channel reached any recipient of' : 'Every round is done and nobody acknowledged'} alert${n === 1 ? '' : 's'} ${list.map((e) => e.id).join(', ')}.\n`
        + `See \`alertline alerts show ${first.id}\`; acknowledge with \`alertline ack ${first.id}\`.`,
    });
  }
  if (o.diskFree !== null && o.diskFree < t.minFreeDisk) {
    out.push({
      key: 'self:disk-low',
      summary: `Alertline: disk almost full, ${mb(o.diskFree)} free`,
      detail: `Only ${mb(o.diskFree)} are free under the data directory (admins.minFreeDisk is ${mb(t.minFreeDisk)}). When it is full, new alerts are refused.\nFree space on that file system.`,
    });
  }
  if (o.databaseError) {
    out.push({
      key: 'self:database',
      summary: `Alertline: database errors: ${o.databaseError}`,
      detail: `The database fails: ${o.databaseError}.\n`
        + 'New alerts cannot be stored (senders get a temporary failure and retry), and deliveries cannot move on. '
        + 'This alarm was sent straight through a channel, without the database; it is written to history once the database works again.\n'
        + 'Check the disk and the file system under dataDir (dmesg, `alertline doctor`); `alertline backup` copies what is readable.',
      holdMs: t.databaseErrorsAfterMs ?? 0,
    });
  }
  if (o.ttsError) {
    out.push({
      key: 'self:tts',
      summary: `Alertline: speech synthesis failing: ${o.ttsError}`,
      detail: `The speech service does not start: ${o.ttsError}.\nCalls cannot play the alert. Check voice.engine and voice.lang; try \`alertline say test\`.`,
    });
  }
  if (o.clockSynced === false) {
    out.push({
      key: 'self:clock',
      summary: 'Alertline: system clock not synchronized',
      detail: 'timedatectl says the clock is not synchronized (NTP). Schedules, dedupe windows and history times depend on it.\nCheck systemd-timesyncd or chrony and the network path to the time servers.',
      holdMs: t.channelDownAfterMs,
    });
  }
  return out;
}
