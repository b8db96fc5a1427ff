/**
 * Contact rules, per user: which of the channels the dispatcher would use (the "plan", in the
 * user's channel order) are used for this alert now. Pure.
 *
 * 1. Per severity: `bySeverity[level]` keeps the channels whose kind or name it lists
 *    (warning → ['sms']; high → ['voice']). A level with no entry keeps the whole plan. The rule
 *    applies to exactly that level. If nothing in the plan matches, the whole plan is kept (an
 *    alert is never dropped because a channel is missing); `reason` says so.
 * 2. Quiet hours: windows in the user's zone ("22:00-07:00" crosses midnight; weekdays optional,
 *    the weekday being the day the window starts). Inside a window, alerts at or above
 *    `callsFrom` go on unchanged; below it, `below: 'text'` keeps text channels only and
 *    `below: 'hold'` returns `{ holdUntil }`, the instant the window (and any window it runs
 *    into) ends. If 'text' leaves nothing, the alert is held instead.
 *
 * An alert whose severity could not be mapped counts as `unknownLevel` (default 'critical'): an
 * alert nobody can rank is not held back.
 */
import { SEVERITY_LEVELS, type SeverityLevel } from '../model.js';
import {
  OncallInputError, addDays, bounded, formatTimeOfDay, localInstant, localParts, parseTimeOfDay, parseZone, weekdayOf,
  weekdayOfDate, WEEKDAY_NAMES, type Weekday,
} from './time.js';

export type ChannelKind = 'voice' | 'text';

export interface PlannedChannel {
  name: string;
  kind: ChannelKind;
}

export interface QuietWindow {
  /** Weekdays the window STARTS on (1 = Monday); absent: every day. */
  days?: Weekday[];
  /** Minutes after local midnight. `to` ≤ `from` crosses midnight; `to` = `from` is 24 hours. */
  from: number;
  to: number;
}

export interface QuietHours {
  windows: QuietWindow[];
  /** Alerts at or above this level still call during quiet hours. */
  callsFrom: SeverityLevel;
  /** What happens to alerts below it: text channels only, or wait until the window ends. */
  below: 'text' | 'hold';
}

export interface ChannelSelector {
  kinds?: ChannelKind[];
  channels?: string[];
}

export interface ContactRules {
  /** The user's IANA zone (quiet hours are in it). */
  zone: string;
  quiet?: QuietHours;
  bySeverity?: Partial<Record<SeverityLevel, ChannelSelector>>;
  unknownLevel?: SeverityLevel;
}

export type ContactDecision =
  | { plan: PlannedChannel[]; reason?: string }
  | { holdUntil: number; reason: string };

export function levelRank(level: SeverityLevel): number {
  return SEVERITY_LEVELS.indexOf(level);
}

/** "warning", "HIGH" → the level; anything else is an error listing the levels. */
export function parseLevel(input: string, field = 'severity'): SeverityLevel {
  const s = bounded(field, input, 16).toLowerCase();
  if ((SEVERITY_LEVELS as readonly string[]).includes(s)) return s as SeverityLevel;
  throw new OncallInputError(field, input, `${field}: unknown severity ${JSON.stringify(input)} (one of ${SEVERITY_LEVELS.join(', ')})`);
}

function windowLength(w: QuietWindow): number {
  return w.to > w.from ? w.to - w.from : w.to + 1440 - w.from;
}

function parseDayList(text: string, field: string, input: string): Weekday[] {
  const days = new Set<Weekday>();
  for (const item of text.split(',')) {
    const [a, b, extra] = item.split('-');
    const wa = a === undefined ? undefined : weekdayOf(a.trim());
    const wb = b === undefined ? wa : weekdayOf(b.trim());
    if (extra !== undefined || wa === undefined || wb === undefined) {
      throw new OncallInputError(field, input, `${field}: ${JSON.stringify(item)} is not a weekday or a range of weekdays (mon, sat-sun, mon-fri)`);
    }
    for (let d = wa; ; d = ((d % 7) + 1) as Weekday) {
      days.add(d);
      if (d === wb) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

/** "22:00-07:00", "mon-fri 22:00-07:00", "sat,sun 00:00-24:00". */
export function parseQuietWindow(input: string, field = 'quiet'): QuietWindow {
  const s = bounded(field, input, 64);
  const parts = s.split(/\s+/);
  if (parts.length > 2 || parts[0] === '') throw new OncallInputError(field, input, `${field}: bad quiet hours ${JSON.stringify(input)} (write "22:00-07:00" or "mon-fri 22:00-07:00")`);
  const range = parts[parts.length - 1]!;
  const times = range.split('-');
  if (times.length !== 2) throw new OncallInputError(field, input, `${field}: bad quiet hours ${JSON.stringify(input)}: ${JSON.stringify(range)} is not HH:MM-HH:MM`);
  const from = parseTimeOfDay(times[0]!, field);
  const to = parseTimeOfDay(times[1]!, field, true);
  const w: QuietWindow = { from, to: to % 1440 }; // "24:00" ends the day like "00:00"
  if (parts.length === 2) w.days = parseDayList(parts[0]!, field, input);
  return w;
}

export function formatQuietWindow(w: QuietWindow): string {
  const t = `${formatTimeOfDay(w.from)}-${w.to === 0 && w.from === 0 ? '24:00' : formatTimeOfDay(w.to)}`;
  return w.days ? `${w.days.map((d) => WEEKDAY_NAMES[d - 1]).join(',')} ${t}` : t;
}

/** "sms,mail", "voice", "text,mail": kinds ('voice', 'text') and channel names. */
export function parseChannelSelector(input: string, field = 'channels'): ChannelSelector {
  const s = bounded(field, input, 128);
  const sel: ChannelSelector = {};
  for (const raw of s.split(',')) {
    const item = raw.trim().toLowerCase();
    if (item === 'voice' || item === 'text') (sel.kinds ??= []).push(item);
    else if (/^[a-z][a-z0-9_-]{0,31}$/.test(item)) (sel.channels ??= []).push(item);
    else throw new OncallInputError(field, input, `${field}: ${JSON.stringify(raw.trim())} is neither a channel kind (voice, text) nor a channel name`);
  }
  return sel;
}

/** The quiet-hours occurrence containing `at` ([start, end) instants), if any. */
export function quietWindowAt(rules: Pick<ContactRules, 'zone' | 'quiet'>, at: number): { start: number; end: number } | undefined {
  const windows = rules.quiet?.windows ?? [];
  if (windows.length === 0) return undefined;
  const today = localParts(at, rules.zone).date;
  let best: { start: number; end: number } | undefined;
  for (const w of windows) {
    for (const date of [addDays(today, -1), today]) {
      if (w.days && !w.days.includes(weekdayOfDate(date))) continue;
      const start = localInstant(date, w.from, rules.zone);
      const end = localInstant(date, w.from + windowLength(w), rules.zone);
      if (start <= at && at < end && (!best || end > best.end)) best = { start, end };
    }
  }
  return best;
}

/** When quiet hours that contain `at` end, following windows that begin before the previous one ends; undefined if they never do within 8 days. */
function quietEnd(rules: ContactRules, at: number): number | undefined {
  let t = at;
  for (let i = 0; i < 32; i++) {
    const w = quietWindowAt(rules, t);
    if (!w) return t;
    if (w.end - at > 8 * 86_400_000) return undefined;
    t = w.end;
  }
  return undefined;
}

function selects(sel: ChannelSelector, c: PlannedChannel): boolean {
  return (sel.kinds?.includes(c.kind) ?? false) || (sel.channels?.some((n) => n.toLowerCase() === c.name.toLowerCase()) ?? false);
}

/** The channels to use for an alert of `level` at `at`, or the instant to wait for. */
export function applyContactRules(rules: ContactRules, level: SeverityLevel | undefined, at: number, plan: readonly PlannedChannel[]): ContactDecision {
  const lv = level ?? rules.unknownLevel ?? 'critical';
  let out = [...plan];
  const reasons: string[] = [];
  const sel = rules.bySeverity?.[lv];
  if (sel) {
    const kept = out.filter((c) => selects(sel, c));
    if (kept.length > 0) out = kept;
    else reasons.push(`no channel of the plan matches the ${lv} rule; using the whole plan`);
  }
  const q = rules.quiet;
  if (q && levelRank(lv) < levelRank(q.callsFrom)) {
    const window = quietWindowAt(rules, at);
    if (window) {
      const text = out.filter((c) => c.kind === 'text');
      if (q.below === 'text' && text.length > 0) {
        return { plan: text, reason: [...reasons, `quiet hours: ${lv} is below ${q.callsFrom}, text only`].join('; ') };
      }
      const end = quietEnd(rules, at);
      if (end !== undefined) {
        return { holdUntil: end, reason: [...reasons, `quiet hours: ${lv} is below ${q.callsFrom}, held until they end`].join('; ') };
      }
      reasons.push('quiet hours never end; not held');
      if (text.length > 0) out = text;
    }
  }
  return reasons.length > 0 ? { plan: out, reason: reasons.join('; ') } : { plan: out };
}

/** Checks stored rules (zone, windows, levels). */
export function validateContactRules(r: ContactRules): void {
  parseZone(r.zone);
  if (r.quiet) {
    parseLevel(r.quiet.callsFrom, 'callsFrom');
    if (r.quiet.below !== 'text' && r.quiet.below !== 'hold') throw new OncallInputError('below', String(r.quiet.below), `below: expected text or hold`);
    for (const w of r.quiet.windows) {
      for (const m of [w.from, w.to]) {
        if (!Number.isInteger(m) || m < 0 || m >= 1440) throw new OncallInputError('quiet', String(m), `quiet: bad time of day ${m}`);
      }
    }
  }
  for (const k of Object.keys(r.bySeverity ?? {})) parseLevel(k, 'bySeverity');
  if (r.unknownLevel !== undefined) parseLevel(r.unknownLevel, 'unknownLevel');
}
