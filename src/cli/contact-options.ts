/**
 * The contact-rule flags of `users add|update` (--tz, --quiet, --quiet-calls-from, --quiet-below,
 * --severity-channels), declared without loading the parsers (contact-flags.ts does that, and
 * the time-zone library with it, only when a command uses them).
 */
import type { Command } from 'commander';
import { SEVERITY_LEVELS } from '../core/model.js';
import { DEFAULT_QUIET_BELOW, DEFAULT_QUIET_CALLS_FROM } from '../store/contact-rules.js';

export interface ContactFlags {
  tz?: string;
  quiet?: string[];
  quietCallsFrom?: string;
  quietBelow?: string;
  severityChannels?: string[];
}

function more(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

export function contactFlags(c: Command): Command {
  return c
    .option('--tz <zone>', 'the user\'s time zone for quiet hours (IANA, e.g. Europe/Madrid); default and "": the machine\'s')
    .option('--quiet <window>', 'quiet hours in the user\'s zone, e.g. "mon-fri 22:00-07:00" or "22:00-07:00" (repeatable; replaces the windows; "" clears)', more)
    .option('--quiet-calls-from <severity>', `during quiet hours, alerts at or above this still call (${SEVERITY_LEVELS.join('|')}; default ${DEFAULT_QUIET_CALLS_FROM})`)
    .option('--quiet-below <text|hold>', `during quiet hours, alerts below it: text channels only, or hold until the quiet hours end (default ${DEFAULT_QUIET_BELOW})`)
    .option('--severity-channels <level=channels>', 'channels for one severity, by name or kind, e.g. "warning=sms,mail", "high=voice" (repeatable; replaces the list; "" clears)', more);
}

