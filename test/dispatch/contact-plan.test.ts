/**
 * contactPlan: a person's contact rules over the plan the dispatcher would walk.
 * Madrid: CET +01:00; CEST +02:00 from 2027-03-28 02:00 (the short night) to 2027-10-31 03:00 (the long one).
 * 2027-03-26 is a Friday.
 */
import { describe, expect, it } from 'vitest';
import { contactPlan, type ContactPlan } from '../../src/dispatch/contact-plan.js';
import type { PlanStep } from '../../src/dispatch/policy.js';
import type { SeverityLevel } from '../../src/core/model.js';
import { parseChannelSelector, parseQuietWindow } from '../../src/core/oncall/index.js';
import { normalizeContactRules, type ContactRulesRecord } from '../../src/store/contact-rules.js';

const PLAN: PlanStep[] = [
  { channel: 'voip', kind: 'voice' }, { channel: 'gsm', kind: 'voice' }, { channel: 'sms', kind: 'text' }, { channel: 'mail', kind: 'text' },
];
const CALLS = ['voip', 'gsm'];
const TEXTS = ['sms', 'mail'];
const ALL = [...CALLS, ...TEXTS];
const t = (iso: string) => Date.parse(iso);

/** A user as the store gives it, from the spellings the CLI takes. */
function user(o: { zone?: string; quiet?: string[]; callsFrom?: SeverityLevel; below?: 'text' | 'hold'; severity?: Record<string, string> }) {
  const rec: ContactRulesRecord = {};
  if (o.zone) rec.zone = o.zone;
  if (o.quiet) rec.quiet = { windows: o.quiet.map((q) => parseQuietWindow(q)), callsFrom: o.callsFrom ?? 'high', below: o.below ?? 'text' };
  if (o.severity) rec.bySeverity = Object.fromEntries(Object.entries(o.severity).map(([k, v]) => [k, parseChannelSelector(v)]));
  return { contactRules: normalizeContactRules(rec) };
}
const channels = (d: ContactPlan) => ('plan' in d ? d.plan.map((s) => s.channel) : { holdUntil: new Date(d.holdUntil).toISOString() });

const madridNights = user({ zone: 'Europe/Madrid', quiet: ['22:00-07:00'], severity: { warning: 'sms', high: 'voice' } });
const madridHold = user({ zone: 'Europe/Madrid', quiet: ['22:00-07:00'], below: 'hold' });
const weekNights = user({ zone: 'Europe/Madrid', quiet: ['mon-fri 22:00-07:00'], below: 'hold' });

describe('contactPlan', () => {
  const cases: [string, ReturnType<typeof user>, SeverityLevel | undefined, string, string[] | { holdUntil: string }][] = [
    // per severity, outside quiet hours
    ['no rules: the whole plan', { contactRules: null }, 'info', '2027-03-24T02:00:00Z', ALL],
    ['warning → sms only', madridNights, 'warning', '2027-03-24T11:00:00Z', ['sms']],
    ['high → calls', madridNights, 'high', '2027-03-24T11:00:00Z', CALLS],
    ['a level with no entry: the whole plan', madridNights, 'average', '2027-03-24T11:00:00Z', ALL],
    ['unknown severity counts as critical', madridNights, undefined, '2027-03-24T11:00:00Z', ALL],
    // quiet hours crossing midnight (CET, +01:00)
    ['21:59 is before the window', madridNights, 'info', '2027-03-24T20:59:00Z', ALL],
    ['22:00 starts it: below high, text only', madridNights, 'info', '2027-03-24T21:00:00Z', TEXTS],
    ['00:30, the window began yesterday', madridNights, 'average', '2027-03-24T23:30:00Z', TEXTS],
    ['06:59 still inside', madridNights, 'info', '2027-03-25T05:59:00Z', TEXTS],
    ['07:00 ends it', madridNights, 'info', '2027-03-25T06:00:00Z', ALL],
    ['warning at night: its own rule, and text only', madridNights, 'warning', '2027-03-24T23:30:00Z', ['sms']],
    ['high at night still calls', madridNights, 'high', '2027-03-24T23:30:00Z', CALLS],
    ['critical at night: the whole plan', madridNights, 'critical', '2027-03-24T23:30:00Z', ALL],
    ['unknown severity at night still calls', madridNights, undefined, '2027-03-24T23:30:00Z', ALL],
    // hold until the window ends
    ['hold: 23:30 CET waits for 07:00 CET', madridHold, 'warning', '2027-03-24T22:30:00Z', { holdUntil: '2027-03-25T06:00:00.000Z' }],
    ['hold: high is not held', madridHold, 'high', '2027-03-24T22:30:00Z', ALL],
    // the short night (2027-03-28): 22:00 CET to 07:00 CEST is 8 hours
    ['short night: 22:30 CET held until 07:00 CEST', madridHold, 'info', '2027-03-27T21:30:00Z', { holdUntil: '2027-03-28T05:00:00.000Z' }],
    ['short night: 03:30 CEST (after the skipped hour) held', madridHold, 'info', '2027-03-28T01:30:00Z', { holdUntil: '2027-03-28T05:00:00.000Z' }],
    ['short night: 06:30 CEST = 05:30 CET still inside', madridNights, 'info', '2027-03-28T04:30:00Z', TEXTS],
    ['short night: 07:00 CEST is over (06:00 CET would not be)', madridNights, 'info', '2027-03-28T05:00:00Z', ALL],
    // the long night (2027-10-31): 22:00 CEST to 07:00 CET is 10 hours
    ['long night: 23:00 CEST held until 07:00 CET', madridHold, 'average', '2027-10-30T21:00:00Z', { holdUntil: '2027-10-31T06:00:00.000Z' }],
    ['long night: 06:30 CET still inside', madridNights, 'info', '2027-10-31T05:30:00Z', TEXTS],
    // weekdays: the day a window starts on
    ['mon-fri: Friday 23:00', weekNights, 'info', '2027-03-26T22:00:00Z', { holdUntil: '2027-03-27T06:00:00.000Z' }],
    ['mon-fri: Saturday 06:00 (Friday night) held', weekNights, 'info', '2027-03-27T05:00:00Z', { holdUntil: '2027-03-27T06:00:00.000Z' }],
    ['mon-fri: Saturday 23:00 is not quiet', weekNights, 'info', '2027-03-27T22:00:00Z', ALL],
    ['mon-fri: Monday 00:30 (Sunday night) is not quiet', weekNights, 'info', '2027-03-28T22:30:00Z', ALL],
    ['mon-fri: Monday 22:30 is', weekNights, 'info', '2027-03-29T20:30:00Z', { holdUntil: '2027-03-30T05:00:00.000Z' }],
    // windows that touch are one stretch
    ['touching windows: held until the last ends', user({ zone: 'Europe/Madrid', quiet: ['22:00-24:00', '00:00-07:00', 'sat,sun 07:00-10:00'], below: 'hold' }), 'info', '2027-03-26T22:00:00Z', { holdUntil: '2027-03-27T09:00:00.000Z' }],
    // callsFrom moved up: high is held too
    ['quiet-calls-from critical holds high', user({ zone: 'Europe/Madrid', quiet: ['22:00-07:00'], callsFrom: 'critical', below: 'hold' }), 'high', '2027-03-24T22:30:00Z', { holdUntil: '2027-03-25T06:00:00.000Z' }],
    // another zone on the same instant
    ['New York: 23:30 Madrid is 18:30 there', user({ zone: 'America/New_York', quiet: ['22:00-07:00'] }), 'info', '2027-03-24T22:30:00Z', ALL],
  ];
  for (const [name, u, level, at, expected] of cases) {
    it(name, () => {
      expect(channels(contactPlan(u, level, t(at), PLAN))).toEqual(expected);
    });
  }

  it('at holdUntil the alert goes out (with the text-or-call rules of that instant)', () => {
    for (const at of ['2027-03-27T21:30:00Z', '2027-10-30T21:00:00Z', '2027-03-26T22:00:00Z']) {
      const d = contactPlan(madridHold, 'info', t(at), PLAN);
      if (!('holdUntil' in d)) throw new Error(`expected a hold at ${at}`);
      expect(d.reason).toMatch(/quiet hours/);
      expect(d.holdUntil).toBeGreaterThan(t(at));
      expect(contactPlan(madridHold, 'info', d.holdUntil, PLAN)).toEqual({ plan: PLAN });
      expect(contactPlan(madridHold, 'info', d.holdUntil - 1, PLAN)).toHaveProperty('holdUntil', d.holdUntil);
    }
  });

  it('text only with no text channel in the plan: held instead of calling', () => {
    const d = contactPlan(madridNights, 'info', t('2027-03-24T23:30:00Z'), PLAN.filter((s) => s.kind === 'voice'));
    expect(d).toEqual({ holdUntil: t('2027-03-25T06:00:00Z'), reason: expect.stringMatching(/held until they end/) });
  });

  it('a severity rule that matches none of the plan keeps the plan and says why', () => {
    const d = contactPlan(madridNights, 'warning', t('2027-03-24T11:00:00Z'), PLAN.filter((s) => s.channel !== 'sms'));
    expect(d).toEqual({ plan: PLAN.filter((s) => s.channel !== 'sms'), reason: expect.stringMatching(/no channel of the plan matches the warning rule/) });
  });

  it('keeps the plan\'s order and steps as given (the user\'s own order)', () => {
    const order: PlanStep[] = [{ channel: 'mail', kind: 'text' }, { channel: 'gsm', kind: 'voice' }, { channel: 'sms', kind: 'text' }];
    const u = user({ zone: 'Europe/Madrid', severity: { info: 'sms,mail' } });
    expect(contactPlan(u, 'info', t('2027-03-24T11:00:00Z'), order)).toEqual({ plan: [order[0], order[2]] });
    expect(order).toHaveLength(3);
  });

  it('a user without --tz: quiet hours are in the zone given as the machine\'s', () => {
    const u = user({ quiet: ['22:00-07:00'], below: 'hold' });
    // 23:30 in Madrid (22:30Z) is 18:30 in New York
    expect(channels(contactPlan(u, 'info', t('2027-03-24T22:30:00Z'), PLAN, 'Europe/Madrid'))).toEqual({ holdUntil: '2027-03-25T06:00:00.000Z' });
    expect(channels(contactPlan(u, 'info', t('2027-03-24T22:30:00Z'), PLAN, 'America/New_York'))).toEqual(ALL);
    expect(channels(contactPlan(u, 'info', t('2027-03-25T03:30:00Z'), PLAN, 'America/New_York'))).toEqual({ holdUntil: '2027-03-25T11:00:00.000Z' });
  });
});
