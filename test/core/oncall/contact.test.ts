/**
 * Contact rules: per-severity channel choice and quiet hours (crossing midnight and DST nights).
 * Expected instants are hand-written ISO times with the offsets of the zones' rules.
 */
import { describe, expect, it } from 'vitest';
import {
  applyContactRules, parseChannelSelector, parseLevel, parseQuietWindow, quietWindowAt, validateContactRules,
  type ContactRules, type PlannedChannel,
} from '../../../src/core/oncall/contact.js';

const t = (iso: string) => new Date(iso).getTime();
const voip: PlannedChannel = { name: 'voip', kind: 'voice' };
const gsm: PlannedChannel = { name: 'gsm', kind: 'voice' };
const sms: PlannedChannel = { name: 'sms', kind: 'text' };
const mail: PlannedChannel = { name: 'mail', kind: 'text' };
const plan = [voip, gsm, sms, mail];

const nights = (zone: string, below: 'text' | 'hold', spec = '22:00-07:00'): ContactRules => ({
  zone,
  quiet: { windows: spec.split(';').map((w) => parseQuietWindow(w)), callsFrom: 'high', below },
});

describe('quiet hours hold low-severity alerts until the window ends', () => {
  it.each([
    { name: 'Madrid, spring night (the window is 8 real hours)', zone: 'Europe/Madrid', at: '2027-03-27T23:30+01:00', until: '2027-03-28T07:00+02:00' },
    { name: 'Madrid, a minute before the end', zone: 'Europe/Madrid', at: '2027-03-28T06:59+02:00', until: '2027-03-28T07:00+02:00' },
    { name: 'Madrid, autumn night, first 02:30', zone: 'Europe/Madrid', at: '2027-10-31T02:30+02:00', until: '2027-10-31T07:00+01:00' },
    { name: 'Madrid, autumn night, second 02:30', zone: 'Europe/Madrid', at: '2027-10-31T02:30+01:00', until: '2027-10-31T07:00+01:00' },
    { name: 'Madrid, right at 22:00', zone: 'Europe/Madrid', at: '2027-10-30T22:00+02:00', until: '2027-10-31T07:00+01:00' },
    { name: 'New York, spring night', zone: 'America/New_York', at: '2027-03-14T01:59-05:00', until: '2027-03-14T07:00-04:00' },
    { name: 'New York, autumn night, second 01:30', zone: 'America/New_York', at: '2027-11-07T01:30-05:00', until: '2027-11-07T07:00-05:00' },
    { name: 'Sydney, October (spring) night', zone: 'Australia/Sydney', at: '2027-10-03T01:00+10:00', until: '2027-10-03T07:00+11:00' },
    { name: 'Sydney, April (autumn) night, second 02:30', zone: 'Australia/Sydney', at: '2027-04-04T02:30+10:00', until: '2027-04-04T07:00+10:00' },
  ])('$name', ({ zone, at, until }) => {
    expect(applyContactRules(nights(zone, 'hold'), 'warning', t(at), plan)).toMatchObject({ holdUntil: t(until) });
  });

  it.each([
    { level: 'info', at: '2027-03-27T21:59+01:00', want: plan, why: 'before the window' },
    { level: 'warning', at: '2027-03-28T07:00+02:00', want: plan, why: 'the window has ended' },
    { level: 'high', at: '2027-03-27T23:30+01:00', want: plan, why: 'at the threshold' },
    { level: 'critical', at: '2027-03-27T23:30+01:00', want: plan, why: 'above the threshold' },
    { level: undefined, at: '2027-03-27T23:30+01:00', want: plan, why: 'unknown severity counts as critical' },
  ] as const)('$level at $at goes out unchanged ($why)', ({ level, at, want }) => {
    expect(applyContactRules(nights('Europe/Madrid', 'hold'), level, t(at), plan)).toEqual({ plan: want });
  });

  it('unknownLevel can rank unmapped alerts lower', () => {
    const r = { ...nights('Europe/Madrid', 'hold'), unknownLevel: 'info' as const };
    expect(applyContactRules(r, undefined, t('2027-03-27T23:30+01:00'), plan)).toMatchObject({ holdUntil: t('2027-03-28T07:00+02:00') });
  });

  it('below: text keeps only text channels, and holds when the plan has none', () => {
    const r = nights('Europe/Madrid', 'text');
    expect(applyContactRules(r, 'warning', t('2027-03-27T23:30+01:00'), plan)).toMatchObject({ plan: [sms, mail] });
    expect(applyContactRules(r, 'warning', t('2027-03-27T23:30+01:00'), [voip, gsm])).toMatchObject({ holdUntil: t('2027-03-28T07:00+02:00') });
    expect(applyContactRules(r, 'warning', t('2027-03-27T12:00+01:00'), [voip, gsm])).toEqual({ plan: [voip, gsm] });
  });

  it('weekday windows start on their weekday and run past midnight (New York autumn weekend)', () => {
    const r = nights('America/New_York', 'hold', 'sat 22:00-08:00');
    // Saturday 2027-11-06 22:00 EDT → Sunday 08:00 EST: 11 real hours
    expect(applyContactRules(r, 'average', t('2027-11-07T01:30-05:00'), plan)).toMatchObject({ holdUntil: t('2027-11-07T08:00-05:00') });
    expect(quietWindowAt(r, t('2027-11-07T01:30-04:00'))).toEqual({ start: t('2027-11-06T22:00-04:00'), end: t('2027-11-07T08:00-05:00') });
    expect(applyContactRules(r, 'average', t('2027-11-07T23:00-05:00'), plan)).toEqual({ plan }); // Sunday night: no window
    expect(applyContactRules(r, 'average', t('2027-11-06T21:59-04:00'), plan)).toEqual({ plan });
    expect(applyContactRules(r, 'average', t('2027-11-05T23:00-04:00'), plan)).toEqual({ plan }); // Friday night
  });

  it('windows that run into each other hold until the last one ends', () => {
    // Friday 22:00 → Saturday 07:00, all of Saturday and Sunday, Sunday 22:00 → Monday 07:00
    const r = nights('Europe/Madrid', 'hold', '22:00-07:00;sat,sun 00:00-24:00');
    expect(applyContactRules(r, 'info', t('2027-04-02T23:00+02:00'), plan)).toMatchObject({ holdUntil: t('2027-04-05T07:00+02:00') });
    const overlap = nights('Europe/Madrid', 'hold', '22:00-07:00;06:00-09:00');
    expect(applyContactRules(overlap, 'info', t('2027-04-06T23:00+02:00'), plan)).toMatchObject({ holdUntil: t('2027-04-07T09:00+02:00') });
  });

  it('quiet hours that never end do not hold an alert forever', () => {
    const r = nights('Europe/Madrid', 'hold', '00:00-24:00');
    const d = applyContactRules(r, 'info', t('2027-04-02T23:00+02:00'), plan);
    expect(d).toMatchObject({ plan: [sms, mail] });
    expect('reason' in d && d.reason).toMatch(/never end/);
    expect(applyContactRules(r, 'info', t('2027-04-02T23:00+02:00'), [voip])).toMatchObject({ plan: [voip] });
  });
});

describe('channels per severity', () => {
  const rules: ContactRules = {
    zone: 'Europe/Madrid',
    bySeverity: { warning: parseChannelSelector('sms'), high: parseChannelSelector('voice'), info: parseChannelSelector('xmpp') },
  };
  it.each([
    { level: 'warning', want: [sms] },
    { level: 'high', want: [voip, gsm] },
    { level: 'average', want: plan },
    { level: 'critical', want: plan },
  ] as const)('$level → $want.length channels', ({ level, want }) => {
    expect(applyContactRules(rules, level, t('2027-04-02T12:00+02:00'), plan)).toEqual({ plan: want });
  });
  it('a rule naming no channel of the plan keeps the whole plan and says so', () => {
    const d = applyContactRules(rules, 'info', t('2027-04-02T12:00+02:00'), plan);
    expect(d).toMatchObject({ plan, reason: expect.stringMatching(/no channel of the plan matches the info rule/) });
  });
  it('severity choice and quiet hours together: high → calls only, but quiet hours hold calls below critical', () => {
    const r: ContactRules = { ...rules, quiet: { windows: [parseQuietWindow('22:00-07:00')], callsFrom: 'critical', below: 'text' } };
    expect(applyContactRules(r, 'high', t('2027-04-02T23:00+02:00'), plan)).toMatchObject({ holdUntil: t('2027-04-03T07:00+02:00') });
    expect(applyContactRules(r, 'warning', t('2027-04-02T23:00+02:00'), plan)).toMatchObject({ plan: [sms] });
    expect(applyContactRules(r, 'high', t('2027-04-03T07:00+02:00'), plan)).toEqual({ plan: [voip, gsm] });
  });
});

describe('spellings', () => {
  it.each([
    ['22:00-07:00', { from: 1320, to: 420 }],
    ['mon-fri 22:00-07:00', { days: [1, 2, 3, 4, 5], from: 1320, to: 420 }],
    ['fri-mon 20:00-08:00', { days: [1, 5, 6, 7], from: 1200, to: 480 }],
    ['Sat,Sun 00:00-24:00', { days: [6, 7], from: 0, to: 0 }],
    ['22:00-24:00', { from: 1320, to: 0 }],
  ])('%j', (s, w) => expect(parseQuietWindow(s)).toEqual(w));
  it.each(['22:00', 'someday 22:00-07:00', '22:00-25:00', 'mon tue 22:00-07:00', 'mon-fri-sat 22:00-07:00'])('%j is an error naming it', (s) => {
    expect(() => parseQuietWindow(s)).toThrow(/quiet/);
  });
  it('levels and selectors', () => {
    expect(parseLevel('HIGH')).toBe('high');
    expect(() => parseLevel('disaster')).toThrow(/unknown severity "disaster" \(one of info, warning, average, high, critical\)/);
    expect(parseChannelSelector('text, mail')).toEqual({ kinds: ['text'], channels: ['mail'] });
    expect(() => parseChannelSelector('sms;rm')).toThrow(/"sms;rm"/);
  });
  it('validateContactRules names a bad zone', () => {
    expect(() => validateContactRules({ zone: 'Europe/Nowhere' })).toThrow(/Europe\/Nowhere/);
    expect(() => validateContactRules(nights('Europe/Madrid', 'hold'))).not.toThrow();
  });
});
