/**
 * Schedules across DST changes. Expected instants are written by hand as ISO times with the
 * offset the zone's rules give (derived from the tz rules, not from the code under test):
 *   Europe/Madrid     CET +01:00 / CEST +02:00; 2027-03-28 02:00→03:00, 2027-10-31 03:00→02:00
 *   America/New_York  EST −05:00 / EDT −04:00;  2027-03-14 02:00→03:00, 2027-11-07 02:00→01:00
 *   Australia/Sydney  AEST +10:00 / AEDT +11:00; 2027-04-04 03:00→02:00, 2027-10-03 02:00→03:00
 */
import { describe, expect, it } from 'vitest';
import { Settings } from 'luxon';
import {
  firstHandoff, layerFromOptions, parseHandoff, parseMembers, parseRotation, shifts, validateOverride, validateSchedule,
  whoIsOnCall, type Layer, type Override, type Schedule,
} from '../../../src/core/oncall/schedule.js';
import { OncallInputError, parseInstant, parseZone } from '../../../src/core/oncall/time.js';

const t = (iso: string) => new Date(iso).getTime();
const HOUR = 3_600_000;
const [ana, beto, carla, dani] = ['ana@x.example', 'beto@x.example', 'carla@x.example', 'dani@x.example'];

function sched(layers: Partial<Layer>[], name = 'noc'): Schedule {
  return {
    name,
    layers: layers.map((l, i) => ({
      name: i === 0 ? 'primary' : 'secondary',
      members: [ana, beto, carla],
      rotation: { kind: 'weekly' },
      handoff: { weekday: 1, minute: 9 * 60 },
      zone: 'Europe/Madrid',
      start: '2027-03-22',
      ...l,
    })),
  };
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('hand-offs stay at local time across DST', () => {
  interface Row {
    name: string;
    layer: Partial<Layer>;
    /** An instant inside the shift, and the shift's expected bounds and member. */
    at: string;
    start: string;
    end: string;
    member: string;
    hours: number;
  }
  const rows: Row[] = [
    { name: 'Madrid weekly, spring week is 167 h', layer: {}, at: '2027-03-28T12:00+02:00', start: '2027-03-22T09:00+01:00', end: '2027-03-29T09:00+02:00', member: ana, hours: 167 },
    { name: 'Madrid weekly, the week after', layer: {}, at: '2027-03-29T09:00+02:00', start: '2027-03-29T09:00+02:00', end: '2027-04-05T09:00+02:00', member: beto, hours: 168 },
    { name: 'Madrid weekly, just before the spring hand-off', layer: {}, at: '2027-03-29T08:59:59+02:00', start: '2027-03-22T09:00+01:00', end: '2027-03-29T09:00+02:00', member: ana, hours: 167 },
    // 2027-03-22 + 31 weeks = 2027-10-25: shift 31, 31 mod 3 = 1
    { name: 'Madrid weekly, autumn week is 169 h', layer: {}, at: '2027-10-31T02:30+01:00', start: '2027-10-25T09:00+02:00', end: '2027-11-01T09:00+01:00', member: beto, hours: 169 },
    // 2027-03-22 + 5 days: shift 5, 5 mod 3 = 2
    { name: 'Madrid daily, 23 h day', layer: { rotation: { kind: 'daily' }, handoff: { minute: 540 } }, at: '2027-03-28T08:30+02:00', start: '2027-03-27T09:00+01:00', end: '2027-03-28T09:00+02:00', member: carla, hours: 23 },
    { name: 'Madrid daily, 25 h day', layer: { rotation: { kind: 'daily' }, handoff: { minute: 540 }, start: '2027-10-30' }, at: '2027-10-31T02:30+02:00', start: '2027-10-30T09:00+02:00', end: '2027-10-31T09:00+01:00', member: ana, hours: 25 },
    // second pass of 02:30 (CET) is still the same shift
    { name: 'Madrid daily, repeated hour second pass', layer: { rotation: { kind: 'daily' }, handoff: { minute: 540 }, start: '2027-10-30' }, at: '2027-10-31T02:30+01:00', start: '2027-10-30T09:00+02:00', end: '2027-10-31T09:00+01:00', member: ana, hours: 25 },
    { name: 'New York daily, 23 h day', layer: { zone: 'America/New_York', rotation: { kind: 'daily' }, handoff: { minute: 540 }, start: '2027-03-13', members: [ana, beto] }, at: '2027-03-14T03:30-04:00', start: '2027-03-13T09:00-05:00', end: '2027-03-14T09:00-04:00', member: ana, hours: 23 },
    { name: 'New York daily, 25 h day', layer: { zone: 'America/New_York', rotation: { kind: 'daily' }, handoff: { minute: 540 }, start: '2027-11-01', members: [ana, beto] }, at: '2027-11-07T01:30-05:00', start: '2027-11-06T09:00-04:00', end: '2027-11-07T09:00-05:00', member: beto, hours: 25 },
    { name: 'New York weekly sun 09:00 across spring', layer: { zone: 'America/New_York', handoff: { weekday: 7, minute: 540 }, start: '2027-03-07', members: [ana, beto] }, at: '2027-03-14T08:00-04:00', start: '2027-03-07T09:00-05:00', end: '2027-03-14T09:00-04:00', member: ana, hours: 167 },
    { name: 'New York weekly sun 09:00 across autumn', layer: { zone: 'America/New_York', handoff: { weekday: 7, minute: 540 }, start: '2027-10-31', members: [ana, beto] }, at: '2027-11-07T08:00-05:00', start: '2027-10-31T09:00-04:00', end: '2027-11-07T09:00-05:00', member: ana, hours: 169 },
    { name: 'Sydney 3-day across April (autumn) change, 73 h', layer: { zone: 'Australia/Sydney', rotation: { kind: 'days', days: 3 }, handoff: { minute: 540 }, start: '2027-04-02' }, at: '2027-04-04T02:30+10:00', start: '2027-04-02T09:00+11:00', end: '2027-04-05T09:00+10:00', member: ana, hours: 73 },
    { name: 'Sydney 3-day across October (spring) change, 71 h', layer: { zone: 'Australia/Sydney', rotation: { kind: 'days', days: 3 }, handoff: { minute: 540 }, start: '2027-09-28' }, at: '2027-10-03T12:00+11:00', start: '2027-10-01T09:00+10:00', end: '2027-10-04T09:00+11:00', member: beto, hours: 71 },
    { name: 'Sydney weekly mon 09:00 across October change', layer: { zone: 'Australia/Sydney', start: '2027-09-27' }, at: '2027-10-03T03:00+11:00', start: '2027-09-27T09:00+10:00', end: '2027-10-04T09:00+11:00', member: ana, hours: 167 },
    { name: 'Sydney 14-day starting on a Monday', layer: { zone: 'Australia/Sydney', rotation: { kind: 'days', days: 14 }, handoff: { weekday: 1, minute: 540 }, start: '2027-03-24' }, at: '2027-04-10T09:00+10:00', start: '2027-03-29T09:00+11:00', end: '2027-04-12T09:00+10:00', member: ana, hours: 14 * 24 + 1 },
  ];
  it.each(rows)('$name', (r) => {
    const s = sched([r.layer]);
    const [oc] = whoIsOnCall(s, [], t(r.at));
    expect(oc!.member).toBe(r.member);
    expect(iso(oc!.shiftStart)).toBe(iso(t(r.start)));
    expect(iso(oc!.shiftEnd)).toBe(iso(t(r.end)));
    expect((oc!.shiftEnd - oc!.shiftStart!) / HOUR).toBe(r.hours);
  });

  it('lists a month of weekly shifts over the spring change with the hand-off at 09:00 local each time', () => {
    const s = sched([{}]);
    const got = shifts(s, [], t('2027-03-22T09:00+01:00'), t('2027-04-19T09:00+02:00'));
    expect(got.map((x) => [x.member, iso(x.start), iso(x.end)])).toEqual([
      [ana, iso(t('2027-03-22T09:00+01:00')), iso(t('2027-03-29T09:00+02:00'))],
      [beto, iso(t('2027-03-29T09:00+02:00')), iso(t('2027-04-05T09:00+02:00'))],
      [carla, iso(t('2027-04-05T09:00+02:00')), iso(t('2027-04-12T09:00+02:00'))],
      [ana, iso(t('2027-04-12T09:00+02:00')), iso(t('2027-04-19T09:00+02:00'))],
    ]);
  });

  it('daily rotation over the New York autumn weekend: 24, 25, 24 hour days', () => {
    const s = sched([{ zone: 'America/New_York', rotation: { kind: 'daily' }, handoff: { minute: 540 }, start: '2027-11-05', members: [ana, beto] }]);
    const got = shifts(s, [], t('2027-11-05T09:00-04:00'), t('2027-11-08T09:00-05:00'));
    expect(got.map((x) => [x.member, (x.end - x.start) / HOUR])).toEqual([[ana, 24], [beto, 25], [ana, 24]]);
    expect(iso(got[2]!.start)).toBe(iso(t('2027-11-07T09:00-05:00')));
  });
});

describe('hand-offs inside the changed hour', () => {
  const layer = (zone: string, minute: number, start: string): Partial<Layer> => ({ zone, rotation: { kind: 'daily' }, handoff: { minute }, start, members: [ana, beto] });
  it.each([
    // skipped local time moves forward by the gap
    { name: 'Madrid 02:30 on the spring night does not exist: 03:30 CEST', l: layer('Europe/Madrid', 150, '2027-03-27'), at: '2027-03-28T12:00+02:00', start: '2027-03-28T03:30+02:00' },
    // repeated local time takes the first pass
    { name: 'Madrid 02:30 on the autumn night happens twice: the first (CEST)', l: layer('Europe/Madrid', 150, '2027-10-30'), at: '2027-10-31T12:00+01:00', start: '2027-10-31T02:30+02:00' },
    { name: 'New York 01:30 on 2027-11-07 happens twice: the first (EDT)', l: layer('America/New_York', 90, '2027-11-06'), at: '2027-11-07T12:00-05:00', start: '2027-11-07T01:30-04:00' },
    { name: 'New York 02:30 on 2027-03-14 does not exist: 03:30 EDT', l: layer('America/New_York', 150, '2027-03-13'), at: '2027-03-14T12:00-04:00', start: '2027-03-14T03:30-04:00' },
    { name: 'Sydney 02:30 on 2027-04-04 happens twice: the first (AEDT)', l: layer('Australia/Sydney', 150, '2027-04-03'), at: '2027-04-04T12:00+10:00', start: '2027-04-04T02:30+11:00' },
    { name: 'Sydney 02:30 on 2027-10-03 does not exist: 03:30 AEDT', l: layer('Australia/Sydney', 150, '2027-10-02'), at: '2027-10-03T12:00+11:00', start: '2027-10-03T03:30+11:00' },
  ])('$name', ({ l, at, start }) => {
    const [oc] = whoIsOnCall(sched([l]), [], t(at));
    expect(oc!.member).toBe(beto);
    expect(iso(oc!.shiftStart)).toBe(iso(t(start)));
  });

  it('does not depend on the date the code runs (luxon guesses offsets from "now")', () => {
    const s = sched([layer('America/New_York', 90, '2027-11-06')]);
    const at = t('2027-11-07T12:00-05:00');
    const saved = Settings.now;
    try {
      const results = [Date.UTC(2026, 0, 15), Date.UTC(2026, 6, 15)].map((now) => {
        Settings.now = () => now;
        return whoIsOnCall(s, [], at)[0]!.shiftStart;
      });
      expect(results[0]).toBe(t('2027-11-07T01:30-04:00'));
      expect(results[1]).toBe(t('2027-11-07T01:30-04:00'));
    } finally {
      Settings.now = saved;
    }
  });
});

describe('far future instants', () => {
  it('weekly Madrid rotation in July 2100: week 3825 after the start, 3825 mod 3 = 0', () => {
    const [oc] = whoIsOnCall(sched([{}]), [], t('2100-07-15T12:00+02:00'));
    expect(oc).toMatchObject({ member: ana, shiftStart: t('2100-07-12T09:00+02:00'), shiftEnd: t('2100-07-19T09:00+02:00') });
  });
  it('weekly Madrid rotation on New Year 2500 (CET): week of 2499-12-28, member 2', () => {
    const [oc] = whoIsOnCall(sched([{}]), [], t('2500-01-01T12:00+01:00'));
    expect(oc).toMatchObject({ member: carla, shiftStart: t('2499-12-28T09:00+01:00'), shiftEnd: t('2500-01-04T09:00+01:00') });
  });
  it('daily rotation in the year 9999 (about 2.9 million shifts after the start)', () => {
    // 2027-03-22 → 9999-12-30: days counted by plain UTC calendar dates (no zone involved).
    const days = (Date.UTC(9999, 11, 30) - Date.UTC(2027, 2, 22)) / 86_400_000;
    const s = sched([{ rotation: { kind: 'daily' }, handoff: { minute: 540 } }]);
    const [oc] = whoIsOnCall(s, [], t('9999-12-30T12:00+01:00'));
    expect(oc!.member).toBe([ana, beto, carla][days % 3]);
    expect(oc!.shiftStart).toBe(t('9999-12-30T09:00+01:00'));
  });
  it('the spring week of 2100 is still 167 hours (last Sunday of March 2100 is the 28th)', () => {
    const [oc] = whoIsOnCall(sched([{}]), [], t('2100-03-28T12:00+02:00'));
    expect(oc!.shiftStart).toBe(t('2100-03-22T09:00+01:00'));
    expect((oc!.shiftEnd - oc!.shiftStart!) / HOUR).toBe(167);
  });
});

describe('start of the rotation', () => {
  it('member 0 begins at the first hand-off at or after the start; before it nobody is on call', () => {
    const s = sched([{ start: '2027-03-24' }]); // a Wednesday; first Monday 09:00 is 03-29
    expect(firstHandoff(s.layers[0]!)).toBe(t('2027-03-29T09:00+02:00'));
    const [before] = whoIsOnCall(s, [], t('2027-03-25T12:00+01:00'));
    expect(before).toMatchObject({ member: null, shiftEnd: t('2027-03-29T09:00+02:00') });
    expect(before!.shiftStart).toBeUndefined();
    expect(whoIsOnCall(s, [], t('2027-03-29T09:00+02:00'))[0]!.member).toBe(ana);
  });
  it('a start with a time after the hand-off begins at the next one', () => {
    const s = sched([{ rotation: { kind: 'daily' }, handoff: { minute: 540 }, start: '2027-03-28T10:00' }]);
    expect(firstHandoff(s.layers[0]!)).toBe(t('2027-03-29T09:00+02:00'));
  });
  it('without --start, member 0 is on call now (start = the latest hand-off)', () => {
    const now = t('2027-03-24T12:00+01:00');
    const l = layerFromOptions({ members: `${ana},${beto}`, rotation: 'weekly', handoff: 'mon 09:00', tz: 'Europe/Madrid' }, now);
    expect(l.start).toBe('2027-03-22T09:00');
    expect(whoIsOnCall({ name: 'noc', layers: [l] }, [], now)[0]).toMatchObject({ member: ana, shiftStart: t('2027-03-22T09:00+01:00') });
    const l3 = layerFromOptions({ members: `${ana},${beto}`, rotation: '3d', handoff: 'mon 09:00', tz: 'Australia/Sydney', layer: 'secondary' }, now);
    // now is Wednesday 2027-03-24 22:00 in Sydney: the latest Monday 09:00 there is the 22nd
    expect(l3.start).toBe('2027-03-22T09:00');
    const oc = whoIsOnCall({ name: 'noc', layers: [l3] }, [], now)[0]!;
    expect(oc).toMatchObject({ layer: 'secondary', member: ana, shiftStart: t('2027-03-22T09:00+11:00'), shiftEnd: t('2027-03-25T09:00+11:00') });
    expect(whoIsOnCall({ name: 'noc', layers: [l3] }, [], t('2027-03-25T09:00+11:00'))[0]!.member).toBe(beto);
  });
  it('a new daily layer created at 08:00 started yesterday at 09:00', () => {
    const l = layerFromOptions({ members: ana, rotation: 'daily', handoff: '09:00', tz: 'America/New_York' }, t('2027-03-14T08:00-04:00'));
    expect(l.start).toBe('2027-03-13T09:00');
  });
});

describe('overrides', () => {
  const s = sched([{ members: [ana, beto] }, { members: [carla, dani], handoff: { weekday: 1, minute: 540 } }]);
  const across: Override = { id: 1, member: carla, from: t('2027-03-29T08:00+02:00'), to: t('2027-03-29T10:00+02:00') };

  it('an override across the spring hand-off splits both shifts', () => {
    const got = shifts(s, [across], t('2027-03-22T09:00+01:00'), t('2027-04-05T09:00+02:00'), { layers: ['primary'] });
    expect(got.map((x) => [x.member, x.scheduled, iso(x.start), iso(x.end), x.override?.id])).toEqual([
      [ana, ana, iso(t('2027-03-22T09:00+01:00')), iso(t('2027-03-29T08:00+02:00')), undefined],
      [carla, ana, iso(t('2027-03-29T08:00+02:00')), iso(t('2027-03-29T09:00+02:00')), 1],
      [carla, beto, iso(t('2027-03-29T09:00+02:00')), iso(t('2027-03-29T10:00+02:00')), 1],
      [beto, beto, iso(t('2027-03-29T10:00+02:00')), iso(t('2027-04-05T09:00+02:00')), undefined],
    ]);
  });

  it.each([
    { at: '2027-03-29T07:59:59+02:00', member: ana, end: '2027-03-29T08:00+02:00' },
    { at: '2027-03-29T08:30+02:00', member: carla, end: '2027-03-29T09:00+02:00' },
    { at: '2027-03-29T09:30+02:00', member: carla, end: '2027-03-29T10:00+02:00' },
    { at: '2027-03-29T10:00+02:00', member: beto, end: '2027-04-05T09:00+02:00' },
  ])('on call at $at: $member', ({ at, member, end }) => {
    const [primary, secondary] = whoIsOnCall(s, [across], t(at));
    expect(primary!.member).toBe(member);
    expect(primary!.shiftEnd).toBe(t(end));
    // an override without a layer applies to the first layer only
    expect(secondary!.override).toBeUndefined();
  });

  it('an override naming the member it replaces applies only during that member\'s shifts', () => {
    const o: Override = { id: 2, member: dani, replaces: beto, from: t('2027-03-25T00:00+01:00'), to: t('2027-04-01T00:00+02:00') };
    const got = shifts(s, [o], t('2027-03-22T09:00+01:00'), t('2027-04-05T09:00+02:00'), { layers: ['primary'] });
    expect(got.map((x) => [x.member, iso(x.start), iso(x.end)])).toEqual([
      [ana, iso(t('2027-03-22T09:00+01:00')), iso(t('2027-03-29T09:00+02:00'))],
      [dani, iso(t('2027-03-29T09:00+02:00')), iso(t('2027-04-01T00:00+02:00'))],
      [beto, iso(t('2027-04-01T00:00+02:00')), iso(t('2027-04-05T09:00+02:00'))],
    ]);
  });

  it('overlapping overrides: the later one wins where they overlap', () => {
    const a: Override = { id: 'a', member: carla, from: t('2027-03-23T00:00+01:00'), to: t('2027-03-24T00:00+01:00') };
    const b: Override = { id: 'b', member: dani, from: t('2027-03-23T12:00+01:00'), to: t('2027-03-23T18:00+01:00') };
    const got = shifts(s, [a, b], t('2027-03-22T12:00+01:00'), t('2027-03-25T00:00+01:00'), { layers: ['primary'] });
    expect(got.map((x) => [x.member, iso(x.start), iso(x.end)])).toEqual([
      [ana, iso(t('2027-03-22T09:00+01:00')), iso(t('2027-03-23T00:00+01:00'))],
      [carla, iso(t('2027-03-23T00:00+01:00')), iso(t('2027-03-23T12:00+01:00'))],
      [dani, iso(t('2027-03-23T12:00+01:00')), iso(t('2027-03-23T18:00+01:00'))],
      [carla, iso(t('2027-03-23T18:00+01:00')), iso(t('2027-03-24T00:00+01:00'))],
      [ana, iso(t('2027-03-24T00:00+01:00')), iso(t('2027-03-29T09:00+02:00'))],
    ]);
  });

  it('an override on the secondary layer, and one before the rotation starts', () => {
    const late = sched([{ start: '2027-03-29' }, { members: [carla, dani] }]);
    const o1: Override = { member: beto, layer: 'secondary', from: t('2027-03-26T00:00+01:00'), to: t('2027-03-27T00:00+01:00') };
    const o2: Override = { member: dani, from: t('2027-03-26T00:00+01:00'), to: t('2027-03-30T00:00+02:00') };
    const [p, sec] = whoIsOnCall(late, [o1, o2], t('2027-03-26T10:00+01:00'));
    expect(p).toMatchObject({ member: dani, scheduled: null, shiftStart: t('2027-03-26T00:00+01:00'), shiftEnd: t('2027-03-29T09:00+02:00') });
    expect(sec).toMatchObject({ member: beto, scheduled: carla, shiftEnd: t('2027-03-27T00:00+01:00') });
    const after = whoIsOnCall(late, [o1, o2], t('2027-03-29T10:00+02:00'))[0]!;
    expect(after).toMatchObject({ member: dani, scheduled: ana, shiftStart: t('2027-03-29T09:00+02:00'), shiftEnd: t('2027-03-30T00:00+02:00') });
  });

  it('shifts keep their real bounds beyond the window and leave out stretches with nobody', () => {
    const late = sched([{ start: '2027-03-29' }]);
    const got = shifts(late, [], t('2027-03-25T00:00+01:00'), t('2027-03-30T00:00+02:00'));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ member: ana, start: t('2027-03-29T09:00+02:00'), end: t('2027-04-05T09:00+02:00') });
  });

  it('refuses a window with too many shifts', () => {
    const daily = sched([{ rotation: { kind: 'daily' }, handoff: { minute: 540 } }]);
    expect(() => shifts(daily, [], t('2027-04-01T00:00Z'), t('2127-04-01T00:00Z'), { limit: 1000 })).toThrow(/shorter interval/);
  });

  it('validates overrides against the schedule', () => {
    expect(() => validateOverride(s, { member: carla, layer: 'tertiary', from: 1, to: 2 })).toThrow(/no layer "tertiary"/);
    expect(() => validateOverride(s, { member: carla, from: 2, to: 2 })).toThrow(/before/);
    expect(() => validateOverride(s, { member: 'carla', from: 1, to: 2 })).toThrow(/e-mail/);
    expect(() => validateOverride(s, { member: carla, layer: 'secondary', from: 1, to: 2 })).not.toThrow();
  });
});

describe('CLI spellings', () => {
  it.each([
    ['daily', { kind: 'daily' }],
    ['weekly', { kind: 'weekly' }],
    ['3d', { kind: 'days', days: 3 }],
    ['2w', { kind: 'days', days: 14 }],
    ['WEEKLY', { kind: 'weekly' }],
  ])('--rotation %s', (s, r) => expect(parseRotation(s)).toEqual(r));

  it.each(['0d', 'fortnightly', '3', '-1d', '99999d', ''])('--rotation %j is an error naming it', (s) => {
    expect(() => parseRotation(s)).toThrow(OncallInputError);
    expect(() => parseRotation(s)).toThrow(JSON.stringify(s));
  });

  it.each([
    ['mon 09:00', { weekday: 1, minute: 540 }],
    ['Sunday 9:30', { weekday: 7, minute: 570 }],
    ['09:00', { minute: 540 }],
    ['  fri   23:59 ', { weekday: 5, minute: 1439 }],
  ])('--handoff %j', (s, h) => expect(parseHandoff(s)).toEqual(h));

  it.each(['mon 25:00', 'funday 09:00', '9', 'mon tue 09:00', '09:60', 'mon'])('--handoff %j is an error naming it', (s) => {
    expect(() => parseHandoff(s)).toThrow(JSON.stringify(s));
  });

  it('--tz: IANA names, case-insensitive, unknown zones named in the error', () => {
    expect(parseZone('europe/madrid')).toBe('Europe/Madrid');
    expect(parseZone('Australia/Sydney')).toBe('Australia/Sydney');
    expect(() => parseZone('Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => parseZone('')).toThrow(/unknown time zone/);
  });

  it('--members', () => {
    expect(parseMembers(`${ana}, ${beto}`)).toEqual([ana, beto]);
    expect(() => parseMembers('ana')).toThrow(/"ana" is not an e-mail/);
    expect(() => parseMembers(' , ')).toThrow(/no members/);
  });

  it('--at: local time in the schedule zone unless an offset is given', () => {
    expect(parseInstant('2027-03-28T08:30', 'Europe/Madrid')).toBe(t('2027-03-28T08:30+02:00'));
    expect(parseInstant('2027-03-28T01:30', 'Europe/Madrid')).toBe(t('2027-03-28T01:30+01:00'));
    expect(parseInstant('2027-03-28T08:30Z', 'Europe/Madrid')).toBe(t('2027-03-28T08:30Z'));
    expect(parseInstant('2027-03-28T08:30-05:00', 'Europe/Madrid')).toBe(t('2027-03-28T13:30Z'));
    expect(parseInstant('2027-03-28', 'America/New_York')).toBe(t('2027-03-28T00:00-04:00'));
    expect(() => parseInstant('2027-02-30T08:30', 'Europe/Madrid')).toThrow(/"2027-02-30T08:30"/);
    expect(() => parseInstant('tomorrow', 'Europe/Madrid')).toThrow(/"tomorrow"/);
  });

  it('layerFromOptions: errors name the flag and the input', () => {
    const base = { members: ana, rotation: 'weekly', handoff: 'mon 09:00', tz: 'Europe/Madrid', start: '2027-03-22' };
    expect(() => layerFromOptions({ ...base, tz: 'Europe/Madird' }, 0)).toThrow(/tz: unknown time zone "Europe\/Madird"/);
    expect(() => layerFromOptions({ ...base, handoff: 'mon 9h' }, 0)).toThrow(/handoff: bad hand-off "mon 9h"/);
    expect(() => layerFromOptions({ ...base, rotation: 'daily' }, 0)).toThrow(/daily rotation/);
    expect(() => layerFromOptions({ ...base, start: '2027-13-01' }, 0)).toThrow(/start: bad date "2027-13-01"/);
    expect(() => layerFromOptions({ ...base, layer: 'pri mary' }, 0)).toThrow(/layer: bad name "pri mary"/);
    expect(layerFromOptions(base, 0)).toEqual({ name: 'primary', members: [ana], rotation: { kind: 'weekly' }, handoff: { weekday: 1, minute: 540 }, zone: 'Europe/Madrid', start: '2027-03-22' });
  });

  it('validateSchedule refuses duplicate layers and empty member lists', () => {
    const one = sched([{}]).layers[0]!;
    expect(() => validateSchedule({ name: 'noc', layers: [one, { ...one }] })).toThrow(/layer primary appears twice/);
    expect(() => validateSchedule(sched([{}, { members: [dani] }]))).not.toThrow();
    expect(() => validateSchedule(sched([{ members: [] }]))).toThrow(/no members/);
    expect(() => validateSchedule(sched([{ zone: 'Nowhere/Town' }]))).toThrow(/Nowhere\/Town/);
  });
});
