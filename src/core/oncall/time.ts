/**
 * Small shared pieces for on-call logic: input errors that name what was wrong, IANA zone names,
 * "HH:MM" times of day, weekdays, durations, and turning a local wall-clock time into an instant.
 *
 * Every zone conversion goes through luxon. One luxon behaviour is pinned down here: for a local
 * time that happens twice (the hour repeated when DST ends) `DateTime.fromObject` picks an offset
 * that depends on today's date. `localInstant` always takes the EARLIER of the two instants, so
 * results never depend on when the code runs. A local time that does not exist (skipped when DST
 * starts) moves forward by the length of the gap (02:30 on a spring-forward night is 03:30).
 */
import { DateTime, IANAZone } from 'luxon';

/** Bad operator input (CLI flag, API field). `field` names the flag or field, `input` the text given. */
export class OncallInputError extends Error {
  constructor(readonly field: string, readonly input: string, message: string) {
    super(message);
    this.name = 'OncallInputError';
  }
}

/** Longest text any parser here looks at (checked before matching). */
export const MAX_INPUT = 200;

function show(input: string): string {
  const s = input.length > 60 ? `${input.slice(0, 60)}…` : input;
  return JSON.stringify(s);
}

export function bounded(field: string, input: unknown, max = MAX_INPUT): string {
  if (typeof input !== 'string') throw new OncallInputError(field, String(input), `${field}: expected text, got ${typeof input}`);
  if (input.length > max) throw new OncallInputError(field, input, `${field}: ${show(input)} is longer than ${max} characters`);
  return input.trim();
}

/** Canonical IANA zone name ("europe/madrid" → "Europe/Madrid"); an unknown zone is an error naming it. */
export function parseZone(input: string, field = 'tz'): string {
  const s = bounded(field, input, 64);
  if (s === '' || !IANAZone.isValidZone(s)) {
    throw new OncallInputError(field, input, `${field}: unknown time zone ${show(input)} (use an IANA name such as Europe/Madrid)`);
  }
  return canonicalZone(s);
}

function canonicalZone(s: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: s }).resolvedOptions().timeZone;
  } catch {
    return s;
  }
}

/** ISO weekday numbers as luxon uses them: 1 = Monday … 7 = Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const LONG_WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** "mon", "Monday", "TUE" → 1, 2 …; undefined when the word is no weekday. */
export function weekdayOf(word: string): Weekday | undefined {
  const w = word.toLowerCase();
  let i = WEEKDAY_NAMES.indexOf(w as (typeof WEEKDAY_NAMES)[number]);
  if (i < 0) i = LONG_WEEKDAYS.indexOf(w);
  if (i < 0 && w.length >= 3) i = LONG_WEEKDAYS.findIndex((l) => l.startsWith(w));
  return i < 0 ? undefined : ((i + 1) as Weekday);
}

/** A time of day in minutes after local midnight, 0 … 1439 (1440 only where `allow24` lets "24:00" through). */
export function parseTimeOfDay(input: string, field: string, allow24 = false): number {
  const s = bounded(field, input, 16);
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  const h = m ? Number(m[1]) : NaN;
  const min = m ? Number(m[2]) : NaN;
  const ok = m && min < 60 && (h < 24 || (allow24 && h === 24 && min === 0));
  if (!ok) throw new OncallInputError(field, input, `${field}: bad time of day ${show(input)} (write HH:MM, 00:00 to 23:59${allow24 ? ' or 24:00' : ''})`);
  return h * 60 + min;
}

export function formatTimeOfDay(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** "30s", "10m", "2h", "1d"; a bare number is minutes (policy waits are written in minutes). */
export function parseDurationMs(input: string, field: string): number {
  const s = bounded(field, input, 32);
  const m = /^(\d{1,7})\s*(s|m|h|d)?$/i.exec(s);
  if (!m) throw new OncallInputError(field, input, `${field}: bad duration ${show(input)} (write e.g. 30s, 10m, 2h, 1d)`);
  const unit = (m[2] ?? 'm').toLowerCase();
  const mult = unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000;
  const ms = Number(m[1]) * mult;
  if (ms <= 0) throw new OncallInputError(field, input, `${field}: duration ${show(input)} must be longer than zero`);
  return ms;
}

/** A calendar date, no zone attached. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** The calendar date `days` after `d` (pure calendar arithmetic, no zone involved). */
export function addDays(d: LocalDate, days: number): LocalDate {
  const x = DateTime.utc(d.year, d.month, d.day).plus({ days });
  return { year: x.year, month: x.month, day: x.day };
}

/** Whole days from `a` to `b` (b − a) as calendar dates. */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round(DateTime.utc(b.year, b.month, b.day).diff(DateTime.utc(a.year, a.month, a.day), 'days').days);
}

/** ISO weekday of a calendar date. */
export function weekdayOfDate(d: LocalDate): Weekday {
  return DateTime.utc(d.year, d.month, d.day).weekday as Weekday;
}

/** The local calendar date and minute of day of an instant in a zone. */
export function localParts(at: number, zone: string): { date: LocalDate; minute: number; weekday: Weekday } {
  const dt = DateTime.fromMillis(at, { zone });
  return { date: { year: dt.year, month: dt.month, day: dt.day }, minute: dt.hour * 60 + dt.minute, weekday: dt.weekday as Weekday };
}

/**
 * The instant of a local wall-clock time in a zone: `minuteOfDay` may be 1440 (midnight ending
 * the day). Repeated local times resolve to the earlier instant, skipped ones move forward.
 */
export function localInstant(date: LocalDate, minuteOfDay: number, zone: string): number {
  let d = date;
  let m = minuteOfDay;
  if (m >= 1440) {
    d = addDays(d, Math.floor(m / 1440));
    m %= 1440;
  }
  const dt = DateTime.fromObject({ year: d.year, month: d.month, day: d.day, hour: Math.floor(m / 60), minute: m % 60 }, { zone });
  if (!dt.isValid) throw new RangeError(`no such local time ${d.year}-${d.month}-${d.day} ${m} in ${zone}: ${dt.invalidExplanation ?? ''}`);
  let best = dt.toMillis();
  for (const alt of dt.getPossibleOffsets()) best = Math.min(best, alt.toMillis());
  return best;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DT_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/;

/** "2027-03-28" → a calendar date (checked: no February 30th). */
export function parseLocalDate(input: string, field: string): LocalDate {
  const s = bounded(field, input, 32);
  const m = DATE_RE.exec(s);
  const d = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
  if (!d || !DateTime.utc(d.year, d.month, d.day).isValid) {
    throw new OncallInputError(field, input, `${field}: bad date ${show(input)} (write YYYY-MM-DD)`);
  }
  return d;
}

/**
 * An instant from operator text. With an offset or Z ("2027-03-28T08:30+01:00") it is that
 * instant; without one ("2027-03-28T08:30", "2027-03-28") it is that local time in `zone`
 * (a bare date means its local midnight). Local times that happen twice take the earlier.
 */
export function parseInstant(input: string, zone: string, field = 'at'): number {
  const s = bounded(field, input, 40);
  const bad = () => new OncallInputError(field, input, `${field}: bad time ${show(input)} (write an ISO time such as 2027-03-28T08:30, 2027-03-28T08:30+01:00 or 2027-03-28)`);
  if (DATE_RE.test(s)) return localInstant(parseLocalDate(s, field), 0, zone);
  const m = LOCAL_DT_RE.exec(s);
  if (m) {
    const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
    const h = Number(m[4]);
    const min = Number(m[5]);
    const sec = m[6] === undefined ? 0 : Number(m[6]);
    if (!DateTime.utc(date.year, date.month, date.day).isValid || h > 23 || min > 59 || sec > 59) throw bad();
    return localInstant(date, h * 60 + min, zone) + sec * 1000;
  }
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]{5,12}(Z|[+-]\d{2}(:?\d{2})?)$/i.test(s)) throw bad();
  const dt = DateTime.fromISO(s, { setZone: true });
  if (!dt.isValid) throw bad();
  return dt.toMillis();
}

/** An instant as ISO text with the zone's offset ("2027-03-28T09:00:00.000+02:00"). */
export function isoIn(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toISO() ?? new Date(at).toISOString();
}
