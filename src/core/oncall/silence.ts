/**
 * Silences (maintenance windows): which silence, if any, covers an alert at an instant. Pure.
 *
 * A silence matches an alert when every criterion it has holds:
 * - `host`: a regular expression the alert's WHOLE host name must match (`db-.*` matches
 *   "db-01", not "mydb-01"); an alert without a host does not match a host silence.
 * - `subject`: a regular expression found ANYWHERE in the subject (`disk full`; write ^…$ to
 *   anchor).
 * - `severity` S: the alert's level is S or below (a `warning` silence covers info and warning,
 *   not average/high/critical). An alert whose severity is unknown counts as critical (so only a
 *   `critical` silence covers it: nothing is silenced that could not be ranked).
 * - time: from ≤ at < until.
 * Both patterns are case-insensitive and matched in linear time (see pattern.ts). A silence needs
 * at least one criterion (`--subject '.*'` silences everything).
 */
import { SEVERITY_LEVELS, type SeverityLevel } from '../model.js';
import { parseLevel } from './contact.js';
import { Pattern } from './pattern.js';
import { OncallInputError, bounded, parseDurationMs, parseInstant } from './time.js';

export interface Silence {
  id: number | string;
  host?: string;
  subject?: string;
  severity?: SeverityLevel;
  from: number;
  until: number;
  comment: string;
}

/** What a silence looks at in an alert (AlertView and ParsedAlert both fit). */
export interface SilenceSubject {
  host?: string;
  subject: string;
  level?: SeverityLevel;
}

export interface CompiledSilence {
  silence: Silence;
  host?: Pattern;
  subject?: Pattern;
}

export const MAX_COMMENT = 500;

/** Compiles a silence's patterns; a bad one is an error naming the field and the pattern. */
export function compileSilence(s: Silence): CompiledSilence {
  if (s.host === undefined && s.subject === undefined && s.severity === undefined) {
    throw new OncallInputError('host', '', `silence: give --host, --subject or --severity (--subject '.*' silences everything)`);
  }
  if (s.severity !== undefined) parseLevel(s.severity, 'severity');
  if (!Number.isFinite(s.from) || !Number.isFinite(s.until) || s.from >= s.until) {
    throw new OncallInputError('until', String(s.until), `silence: it must end after it starts`);
  }
  const c: CompiledSilence = { silence: s };
  if (s.host !== undefined) c.host = Pattern.compile(s.host, 'host', true);
  if (s.subject !== undefined) c.subject = Pattern.compile(s.subject, 'subject', false);
  return c;
}

function rank(level: SeverityLevel | undefined): number {
  return SEVERITY_LEVELS.indexOf(level ?? 'critical');
}

function matches(c: CompiledSilence, alert: SilenceSubject): boolean {
  if (c.host && (alert.host === undefined || !c.host.test(alert.host))) return false;
  if (c.subject && !c.subject.test(alert.subject)) return false;
  if (c.silence.severity !== undefined && rank(alert.level) > rank(c.silence.severity)) return false;
  return true;
}

/** Compiled once, asked per alert (the receiver's path). Silences that do not compile are skipped and listed in `rejected`. */
export class SilenceMatcher {
  readonly compiled: CompiledSilence[] = [];
  readonly rejected: { silence: Silence; error: string }[] = [];

  constructor(silences: readonly Silence[]) {
    for (const s of silences) {
      try {
        this.compiled.push(compileSilence(s));
      } catch (e) {
        this.rejected.push({ silence: s, error: (e as Error).message });
      }
    }
  }

  /** Every silence covering the alert at `at`. */
  allFor(alert: SilenceSubject, at: number): Silence[] {
    return this.compiled.filter((c) => c.silence.from <= at && at < c.silence.until && matches(c, alert)).map((c) => c.silence);
  }

  /** The covering silence that lasts longest, if any. */
  activeFor(alert: SilenceSubject, at: number): Silence | undefined {
    let best: Silence | undefined;
    for (const s of this.allFor(alert, at)) if (!best || s.until > best.until) best = s;
    return best;
  }

  /**
   * When the alert stops being silenced, following silences that overlap or touch (one ends at
   * 10:00, another covers 09:00–12:00: 12:00). Undefined if it is not silenced at `at`.
   */
  silencedUntil(alert: SilenceSubject, at: number): number | undefined {
    let s = this.activeFor(alert, at);
    if (!s) return undefined;
    let end = s.until;
    for (let i = 0; i < this.compiled.length; i++) {
      s = this.activeFor(alert, end);
      if (!s) break;
      end = s.until;
    }
    return end;
  }
}

/** The active silence for an alert at `at` (the one lasting longest), if any. */
export function activeSilenceFor(silences: readonly Silence[], alert: SilenceSubject, at: number): Silence | undefined {
  return new SilenceMatcher(silences).activeFor(alert, at);
}

export interface SilenceOptions {
  host?: string;
  subject?: string;
  severity?: string;
  /** `--for 2h` */
  for?: string;
  /** `--until ISO` (local in `zone` without an offset) */
  until?: string;
  /** `--from ISO`; default now */
  from?: string;
  comment: string;
}

/** A silence from the CLI's flags (`silences add`), without its id. Errors name the flag. */
export function silenceFromOptions(o: SilenceOptions, now: number, zone: string): Omit<Silence, 'id'> {
  const from = o.from === undefined ? now : parseInstant(o.from, zone, 'from');
  if ((o.for === undefined) === (o.until === undefined)) {
    throw new OncallInputError('for', o.for ?? o.until ?? '', 'silence: give exactly one of --for DURATION or --until TIME');
  }
  const until = o.for !== undefined ? from + parseDurationMs(o.for, 'for') : parseInstant(o.until!, zone, 'until');
  if (until <= from) throw new OncallInputError('until', o.until ?? '', `until: ${JSON.stringify(o.until)} is not after the start`);
  const comment = bounded('comment', o.comment ?? '', MAX_COMMENT);
  if (comment === '') throw new OncallInputError('comment', '', 'comment: say why (e.g. --comment "kernel upgrade")');
  const s: Omit<Silence, 'id'> = { from, until, comment };
  if (o.host !== undefined) s.host = o.host;
  if (o.subject !== undefined) s.subject = o.subject;
  if (o.severity !== undefined) s.severity = parseLevel(o.severity);
  compileSilence({ ...s, id: 'new' });
  return s;
}
