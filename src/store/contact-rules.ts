/**
 * A user's contact rules as the users table keeps them (the `contact_rules` JSON column).
 *
 * The shapes match src/core/oncall/contact.ts structurally (the store imports nothing above it):
 * the CLI and the API parse what people write ("mon-fri 22:00-07:00", "warning=sms,mail") with the
 * core's parsers and hand the store the parsed values. The store checks what it keeps (times of
 * day, levels, channel names and kinds, the zone name) so a bad value never reaches the
 * dispatcher, and merges a patch (what `users update` changes) into what is there.
 *
 * No zone stored means the machine's zone, looked up when the rules are used.
 */
import { CHANNEL_NAMES } from '../config/channel-names.js';
import { ValidationError } from './user-fields.js';

export type ContactLevel = 'info' | 'warning' | 'average' | 'high' | 'critical';
export const CONTACT_LEVELS: readonly ContactLevel[] = ['info', 'warning', 'average', 'high', 'critical'];
export type ContactKind = 'voice' | 'text';
export type QuietBelow = 'text' | 'hold';

/** Defaults when quiet hours are given without saying from which level calls still happen / what happens below. */
export const DEFAULT_QUIET_CALLS_FROM: ContactLevel = 'high';
export const DEFAULT_QUIET_BELOW: QuietBelow = 'text';

export interface QuietWindowRecord {
  /** Weekdays the window starts on, 1 = Monday; absent: every day. */
  days?: (1 | 2 | 3 | 4 | 5 | 6 | 7)[];
  /** Minutes after local midnight; `to` ≤ `from` crosses midnight. */
  from: number;
  to: number;
}

export interface ChannelSelectorRecord {
  kinds?: ContactKind[];
  channels?: string[];
}

export interface ContactRulesRecord {
  /** IANA zone; absent: the machine's. */
  zone?: string;
  quiet?: { windows: QuietWindowRecord[]; callsFrom: ContactLevel; below: QuietBelow };
  bySeverity?: Partial<Record<ContactLevel, ChannelSelectorRecord>>;
}

/** What a `users add|update` changes. Absent: kept; null (or [] for windows): back to the default. */
export interface ContactRulesPatch {
  zone?: string | null;
  quietWindows?: QuietWindowRecord[] | null;
  callsFrom?: ContactLevel | null;
  below?: QuietBelow | null;
  bySeverity?: Partial<Record<ContactLevel, ChannelSelectorRecord>> | null;
}

function isMinute(m: unknown): boolean {
  return Number.isInteger(m) && (m as number) >= 0 && (m as number) < 1440;
}

function checkLevel(v: unknown, what: string): ContactLevel {
  if (typeof v === 'string' && (CONTACT_LEVELS as readonly string[]).includes(v)) return v as ContactLevel;
  throw new ValidationError(`${what}: unknown severity ${JSON.stringify(v)} (one of ${CONTACT_LEVELS.join(', ')})`);
}

function checkZone(z: unknown): string {
  if (typeof z !== 'string' || z === '' || z.length > 64) throw new ValidationError(`tz: unknown time zone ${JSON.stringify(z)}`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: z });
  } catch {
    throw new ValidationError(`tz: unknown time zone ${JSON.stringify(z)} (use an IANA name such as Europe/Madrid)`);
  }
  return z;
}

function checkWindow(w: QuietWindowRecord): QuietWindowRecord {
  if (!w || typeof w !== 'object' || !isMinute(w.from) || !isMinute(w.to)) {
    throw new ValidationError(`quiet: bad window ${JSON.stringify(w)} (times of day are minutes 0..1439)`);
  }
  const out: QuietWindowRecord = { from: w.from, to: w.to };
  if (w.days !== undefined) {
    if (!Array.isArray(w.days) || w.days.length === 0 || w.days.length > 7 || w.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
      throw new ValidationError(`quiet: bad weekdays ${JSON.stringify(w.days)}`);
    }
    out.days = [...new Set(w.days)].sort((a, b) => a - b);
  }
  return out;
}

function checkSelector(level: string, sel: ChannelSelectorRecord): ChannelSelectorRecord {
  const out: ChannelSelectorRecord = {};
  for (const k of sel.kinds ?? []) {
    if (k !== 'voice' && k !== 'text') throw new ValidationError(`severity-channels ${level}: unknown channel kind ${JSON.stringify(k)} (voice or text)`);
    if (!(out.kinds ??= []).includes(k)) out.kinds.push(k);
  }
  for (const raw of sel.channels ?? []) {
    const c = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
    if (typeof c !== 'string' || !(CHANNEL_NAMES as readonly string[]).includes(c)) {
      throw new ValidationError(`severity-channels ${level}: unknown channel ${JSON.stringify(raw)} (one of ${CHANNEL_NAMES.join(', ')}, or a kind: voice, text)`);
    }
    if (!(out.channels ??= []).includes(c)) out.channels.push(c);
  }
  if (!out.kinds && !out.channels) throw new ValidationError(`severity-channels ${level}: give at least one channel or kind (e.g. ${level}=sms,mail)`);
  return out;
}

/** Checks a record and returns it in its normal form: defaults dropped, null when nothing is set. */
export function normalizeContactRules(r: ContactRulesRecord): ContactRulesRecord | null {
  const out: ContactRulesRecord = {};
  if (r.zone !== undefined) out.zone = checkZone(r.zone);
  if (r.quiet) {
    const windows = (r.quiet.windows ?? []).map(checkWindow);
    const callsFrom = checkLevel(r.quiet.callsFrom ?? DEFAULT_QUIET_CALLS_FROM, 'quiet-calls-from');
    const below = r.quiet.below ?? DEFAULT_QUIET_BELOW;
    if (below !== 'text' && below !== 'hold') throw new ValidationError(`quiet-below: expected text or hold, got ${JSON.stringify(below)}`);
    if (windows.length > 32) throw new ValidationError('quiet: at most 32 windows');
    if (windows.length || callsFrom !== DEFAULT_QUIET_CALLS_FROM || below !== DEFAULT_QUIET_BELOW) out.quiet = { windows, callsFrom, below };
  }
  if (r.bySeverity) {
    const by: Partial<Record<ContactLevel, ChannelSelectorRecord>> = {};
    for (const [k, sel] of Object.entries(r.bySeverity)) {
      if (sel === undefined) continue;
      by[checkLevel(k, 'severity-channels')] = checkSelector(k, sel);
    }
    if (Object.keys(by).length) out.bySeverity = by;
  }
  return Object.keys(out).length ? out : null;
}

/** `current` with `patch` applied, checked; null when nothing is left. */
export function patchContactRules(current: ContactRulesRecord | null, patch: ContactRulesPatch): ContactRulesRecord | null {
  const next: ContactRulesRecord = { ...(current ?? {}) };
  if (patch.zone !== undefined) {
    if (patch.zone === null || patch.zone === '') delete next.zone;
    else next.zone = patch.zone;
  }
  if (patch.quietWindows !== undefined || patch.callsFrom !== undefined || patch.below !== undefined) {
    const q = current?.quiet;
    next.quiet = {
      windows: patch.quietWindows === undefined ? q?.windows ?? [] : patch.quietWindows ?? [],
      callsFrom: patch.callsFrom === undefined ? q?.callsFrom ?? DEFAULT_QUIET_CALLS_FROM : patch.callsFrom ?? DEFAULT_QUIET_CALLS_FROM,
      below: patch.below === undefined ? q?.below ?? DEFAULT_QUIET_BELOW : patch.below ?? DEFAULT_QUIET_BELOW,
    };
  }
  if (patch.bySeverity !== undefined) {
    if (patch.bySeverity === null) delete next.bySeverity;
    else next.bySeverity = patch.bySeverity;
  }
  return normalizeContactRules(next);
}

/** The column's text back to a record; a value that no longer passes the checks reads as no rules (calls as usual). */
export function contactRulesFromColumn(text: string | null): ContactRulesRecord | null {
  if (!text) return null;
  try {
    return normalizeContactRules(JSON.parse(text) as ContactRulesRecord);
  } catch {
    return null;
  }
}
