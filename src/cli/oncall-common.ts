/** Shared by the on-call commands: input errors as usage errors (exit 2), times shown in a zone. */
import { DateTime } from 'luxon';
import { CliError } from './context.js';
import { ValidationError } from '../store/user-fields.js';
import { OncallInputError } from '../core/oncall/index.js';

/** An action whose core parse errors (OncallInputError) and range errors are usage errors. */
export function act<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof OncallInputError) throw new ValidationError(e.message);
      if (e instanceof RangeError) throw new CliError(e.message, 2);
      throw e;
    }
  };
}

/** Who is making the change (recorded with overrides and silences). */
export function operator(): string {
  return process.env.SUDO_USER || process.env.USER || 'cli';
}

/** The appliance's own zone (TZ), for times written without an offset where no schedule gives one. */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** "Sun 2027-03-28 08:00 +02:00" in the zone. */
export function showTime(ms: number | undefined, zone: string): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  return DateTime.fromMillis(ms, { zone }).setLocale('en').toFormat('ccc yyyy-LL-dd HH:mm ZZ');
}

/** ISO with the zone's offset, for --json. */
export function isoTime(ms: number | undefined, zone: string): string | null {
  if (ms === undefined || !Number.isFinite(ms)) return null;
  return DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true });
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
