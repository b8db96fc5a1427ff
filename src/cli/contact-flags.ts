/**
 * The contact-rule flags of `users add|update` (--tz, --quiet, --quiet-calls-from, --quiet-below,
 * --severity-channels) and how `users list|show` print the rules. The spellings are parsed by the
 * core (src/core/oncall/contact.ts); a bad one is a usage error (exit 2) that names the input.
 */
import { SEVERITY_LEVELS } from '../core/model.js';
import {
  OncallInputError, WEEKDAY_NAMES, formatQuietWindow, parseChannelSelector, parseLevel, parseQuietWindow, parseZone, type QuietWindow,
} from '../core/oncall/index.js';
import { DEFAULT_QUIET_BELOW, DEFAULT_QUIET_CALLS_FROM, type ChannelSelectorRecord, type ContactLevel, type ContactRulesPatch, type ContactRulesRecord } from '../store/contact-rules.js';
import { ValidationError } from '../store/user-fields.js';
import { machineZone } from '../dispatch/contact-plan.js';

export type { ContactFlags } from './contact-options.js';
import type { ContactFlags } from './contact-options.js';


function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OncallInputError) throw new ValidationError(e.message);
    throw e;
  }
}

function parseSeverityChannels(items: string[]): Partial<Record<ContactLevel, ChannelSelectorRecord>> | null {
  const given = items.map((s) => s.trim()).filter((s) => s !== '');
  if (!given.length) return null;
  const out: Partial<Record<ContactLevel, ChannelSelectorRecord>> = {};
  for (const item of given) {
    const eq = item.indexOf('=');
    if (eq <= 0 || item.slice(eq + 1).trim() === '') {
      throw new ValidationError(`severity-channels: ${JSON.stringify(item)} is not level=channels (e.g. "warning=sms,mail" or "high=voice")`);
    }
    const level = parseLevel(item.slice(0, eq).trim(), 'severity-channels');
    if (out[level]) throw new ValidationError(`severity-channels: ${level} is given twice`);
    out[level] = parseChannelSelector(item.slice(eq + 1), `severity-channels ${level}`);
  }
  return out;
}

/** The flags as a patch for the store; undefined when none was given. */
export function contactPatch(f: ContactFlags): ContactRulesPatch | undefined {
  return usage(() => {
    const p: ContactRulesPatch = {};
    if (f.tz !== undefined) p.zone = f.tz.trim() === '' ? null : parseZone(f.tz, 'tz');
    if (f.quiet !== undefined) p.quietWindows = f.quiet.filter((s) => s.trim() !== '').map((s) => parseQuietWindow(s, 'quiet'));
    if (f.quietCallsFrom !== undefined) p.callsFrom = f.quietCallsFrom.trim() === '' ? null : parseLevel(f.quietCallsFrom, 'quiet-calls-from');
    if (f.quietBelow !== undefined) {
      const b = f.quietBelow.trim().toLowerCase();
      if (b !== 'text' && b !== 'hold' && b !== '') throw new ValidationError(`quiet-below: ${JSON.stringify(f.quietBelow)} is neither text nor hold`);
      p.below = b === '' ? null : b;
    }
    if (f.severityChannels !== undefined) p.bySeverity = parseSeverityChannels(f.severityChannels);
    return Object.keys(p).length ? p : undefined;
  });
}

/** The rules as the flags spell them, defaults filled in (for --json). */
export interface ContactView {
  /** The zone quiet hours are in. */
  tz: string;
  /** True when the user has no --tz and the machine's zone is used. */
  tzIsMachine: boolean;
  quiet: string[];
  quietCallsFrom: ContactLevel;
  quietBelow: 'text' | 'hold';
  /** level → "sms,mail" / "voice". */
  severityChannels: Partial<Record<ContactLevel, string>>;
}

/** "mon-fri 22:00-07:00", as people write it (runs of three or more weekdays as a range). */
export function quietText(w: QuietWindow): string {
  const time = formatQuietWindow({ from: w.from, to: w.to });
  if (!w.days) return time;
  const days = [...w.days].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < days.length;) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
    const name = (d: number) => WEEKDAY_NAMES[d - 1]!;
    if (j - i >= 2) parts.push(`${name(days[i]!)}-${name(days[j]!)}`);
    else for (let k = i; k <= j; k++) parts.push(name(days[k]!));
    i = j + 1;
  }
  return `${parts.join(',')} ${time}`;
}

function selectorText(s: ChannelSelectorRecord): string {
  return [...(s.kinds ?? []), ...(s.channels ?? [])].join(',');
}

export function contactView(r: ContactRulesRecord | null): ContactView {
  const severityChannels: Partial<Record<ContactLevel, string>> = {};
  for (const level of SEVERITY_LEVELS) {
    const sel = r?.bySeverity?.[level];
    if (sel) severityChannels[level] = selectorText(sel);
  }
  return {
    tz: r?.zone ?? machineZone(),
    tzIsMachine: r?.zone === undefined,
    quiet: (r?.quiet?.windows ?? []).map(quietText),
    quietCallsFrom: r?.quiet?.callsFrom ?? DEFAULT_QUIET_CALLS_FROM,
    quietBelow: r?.quiet?.below ?? DEFAULT_QUIET_BELOW,
    severityChannels,
  };
}

/** One line for `users list`: "quiet mon-fri 22:00-07:00 (calls from high, else text); warning=sms,mail". */
export function contactSummary(r: ContactRulesRecord | null): string {
  const v = contactView(r);
  const parts: string[] = [];
  if (v.quiet.length) parts.push(`quiet ${v.quiet.join(', ')} (calls from ${v.quietCallsFrom}, else ${v.quietBelow === 'hold' ? 'hold' : 'text'})`);
  const sev = Object.entries(v.severityChannels).map(([k, s]) => `${k}=${s}`);
  if (sev.length) parts.push(sev.join(' '));
  return parts.join('; ');
}

/** Lines for `users show`. */
export function contactLines(r: ContactRulesRecord | null): [string, string][] {
  const v = contactView(r);
  const sev = Object.entries(v.severityChannels).map(([k, s]) => `${k}=${s}`);
  return [
    ['tz', v.tzIsMachine ? `${v.tz} (the machine's)` : v.tz],
    ['quiet', v.quiet.length ? v.quiet.join(', ') : '(none)'],
    ['quiet-calls-from', v.quietCallsFrom],
    ['quiet-below', v.quietBelow === 'hold' ? 'hold (until the quiet hours end)' : 'text (text channels only)'],
    ['severity-channels', sev.length ? sev.join(' ') : '(every level: the whole channel order)'],
  ];
}
