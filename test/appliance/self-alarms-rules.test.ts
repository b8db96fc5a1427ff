/** The pure self-alarm rules: hold time, one open alarm per condition, re-page limit, auto-resolve. */
import { describe, expect, it } from 'vitest';
import {
  conditionsOf, emptyState, evaluate, raiseFailed, withOpen, type AlarmState, type Condition, type Observations,
} from '../../src/appliance/self-alarm-rules.js';
import { headerValue, selfAlarmRaw } from '../../src/appliance/self-alarm-message.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 3, 0, 0);
const opts = { repageMs: 15 * MIN };

function run(steps: { at: number; conds: Condition[] }[]): { raised: [number, string][]; cleared: [number, string][]; state: AlarmState } {
  let state = emptyState();
  const raised: [number, string][] = [];
  const cleared: [number, string][] = [];
  for (const s of steps) {
    const d = evaluate(state, s.conds, s.at, opts);
    state = d.state;
    for (const r of d.raise) raised.push([(s.at - T0) / 1000, r.key]);
    for (const c of d.clear) cleared.push([(s.at - T0) / 1000, c.key]);
  }
  return { raised, cleared, state };
}

const modem: Condition = { key: 'self:channel-down:gsm', summary: 'gsm down', detail: '', holdMs: 2 * MIN };
const disk: Condition = { key: 'self:disk-low', summary: 'disk', detail: '' };

describe('self-alarm rules', () => {
  it('raises a condition only after it held for its hold time, once, and resolves it when it clears', () => {
    const every5s = (from: number, to: number, conds: Condition[]) => {
      const out: { at: number; conds: Condition[] }[] = [];
      for (let t = from; t < to; t += 5000) out.push({ at: T0 + t, conds });
      return out;
    };
    const r = run([...every5s(0, 10 * MIN, [modem]), ...every5s(10 * MIN, 11 * MIN, [])]);
    expect(r.raised).toEqual([[120, 'self:channel-down:gsm']]);
    expect(r.cleared).toEqual([[600, 'self:channel-down:gsm']]);
    expect(r.state.open).toEqual({});
  });

  it('a condition that clears before its hold time never pages', () => {
    const r = run([{ at: T0, conds: [modem] }, { at: T0 + MIN, conds: [modem] }, { at: T0 + 90_000, conds: [] }, { at: T0 + 10 * MIN, conds: [] }]);
    expect(r.raised).toEqual([]);
    expect(r.cleared).toEqual([]);
  });

  it('the hold restarts after a gap: two short outages do not add up', () => {
    const r = run([{ at: T0, conds: [modem] }, { at: T0 + 100_000, conds: [] }, { at: T0 + 110_000, conds: [modem] }, { at: T0 + 200_000, conds: [modem] }, { at: T0 + 230_000, conds: [modem] }]);
    expect(r.raised).toEqual([[230, 'self:channel-down:gsm']]);
  });

  it('a flapping condition pages once per 15 minutes, and again only if it still holds then', () => {
    const steps: { at: number; conds: Condition[] }[] = [];
    // Up for a minute, down for a minute, for 40 minutes (disk has no hold time).
    for (let m = 0; m < 40; m++) steps.push({ at: T0 + m * MIN, conds: m % 2 === 0 ? [disk] : [] });
    const r = run(steps);
    expect(r.raised.map(([t]) => t / 60)).toEqual([0, 16, 32]);
    // Each raise is resolved once it clears; nothing is resolved that was not raised.
    expect(r.cleared.map(([t]) => t / 60)).toEqual([1, 17, 33]);
  });

  it('one open alarm per key, whatever the observers report meanwhile; different keys are independent', () => {
    const other: Condition = { key: 'self:waiting', summary: 'waiting', detail: '' };
    const r = run([
      { at: T0, conds: [disk, disk] },
      { at: T0 + 5000, conds: [disk, other] },
      { at: T0 + 10_000, conds: [other] },
    ]);
    expect(r.raised).toEqual([[0, 'self:disk-low'], [5, 'self:waiting']]);
    expect(r.cleared).toEqual([[10, 'self:disk-low']]);
    expect(Object.keys(r.state.open)).toEqual(['self:waiting']);
  });

  it('a condition that says when it began (a waiting delivery) is held from then', () => {
    const c: Condition = { ...modem, since: T0 - 5 * MIN };
    const d = evaluate(emptyState(), [c], T0, opts);
    expect(d.raise.map((x) => x.key)).toEqual([modem.key]);
  });

  it('a raise that could not be carried out is tried again at the next evaluation', () => {
    const d1 = evaluate(emptyState(), [disk], T0, opts);
    expect(d1.raise).toHaveLength(1);
    const back = raiseFailed(d1.state, disk.key, undefined);
    const d2 = evaluate(back, [disk], T0 + 5000, opts);
    expect(d2.raise.map((x) => x.key)).toEqual([disk.key]);
  });

  it('alarms left open by an earlier run are resolved when their condition is gone, and respect the re-page limit', () => {
    const s = withOpen(emptyState(), [{ key: disk.key, summary: 'disk', raisedAt: T0 - 5 * MIN }]);
    const still = evaluate(s, [disk], T0, opts);
    expect(still.raise).toEqual([]);
    const gone = evaluate(s, [], T0, opts);
    expect(gone.clear.map((c) => c.key)).toEqual([disk.key]);
    // Back within 15 min of the earlier run's page: not paged again yet.
    expect(evaluate(gone.state, [disk], T0 + MIN, opts).raise).toEqual([]);
    expect(evaluate(gone.state, [disk], T0 + 11 * MIN, opts).raise.map((x) => x.key)).toEqual([disk.key]);
  });
});

describe('conditions from observations', () => {
  const base: Observations = { now: T0, channels: [], waiting: { count: 0, since: null }, oldestDue: null, exhausted: [], diskFree: 10 ** 10, ttsError: null, clockSynced: null };
  const t = { channelDownAfterMs: 2 * MIN, queueAgeMaxMs: 10 * MIN, minFreeDisk: 100 * 1024 ** 2 };

  it('a healthy appliance has no condition; unknown disk and clock raise nothing', () => {
    expect(conditionsOf({ ...base, channels: [{ name: 'mail', healthy: true, detail: 'relay x:25' }] }, t)).toEqual([]);
    expect(conditionsOf({ ...base, diskFree: null, clockSynced: null }, t)).toEqual([]);
  });

  it('gsm and sms on one dead modem make one alarm, with the modem\'s words', () => {
    const detail = 'modem disconnected: cannot open /dev/ttyUSB0';
    const c = conditionsOf({ ...base, channels: [{ name: 'gsm', healthy: false, detail }, { name: 'sms', healthy: false, detail }, { name: 'voip', healthy: false, detail: 'failed at pbx:5060: 403 Forbidden' }] }, t);
    expect(c.map((x) => [x.key, x.summary, x.holdMs])).toEqual([
      ['self:channel-down:gsm', `Alertline: channels gsm and sms down: ${detail}`, 2 * MIN],
      ['self:channel-down:voip', 'Alertline: channel voip down: failed at pbx:5060: 403 Forbidden', 2 * MIN],
    ]);
  });

  it('a relay failing every delivery is a condition held from its first failure', () => {
    const c = conditionsOf({ ...base, channels: [{ name: 'mail', healthy: true, detail: 'relay x:25', failingSince: T0 - MIN, lastFailure: 'DATA: 451 4.3.0 try later' }] }, t);
    expect(c).toMatchObject([{ key: 'self:channel-failing:mail', since: T0 - MIN, summary: 'Alertline: channel mail failing: DATA: 451 4.3.0 try later' }]);
  });

  it('queue age, waiting deliveries, undelivered alerts, disk, speech and clock', () => {
    const c = conditionsOf({
      ...base,
      waiting: { count: 2, since: T0 - MIN },
      oldestDue: T0 - 11 * MIN,
      exhausted: [{ id: 9, state: 'failed', subject: 'Problem: B' }, { id: 7, state: 'failed', subject: 'Problem: A' }, { id: 8, state: 'unacknowledged', subject: 'Problem: C' }],
      diskFree: 50 * 1024 ** 2,
      ttsError: 'unknown voice xx',
      clockSynced: false,
    }, t);
    expect(c.map((x) => x.key)).toEqual(['self:waiting', 'self:queue-age', 'self:failed', 'self:unacknowledged', 'self:disk-low', 'self:tts', 'self:clock']);
    expect(c.find((x) => x.key === 'self:failed')!.summary).toBe('Alertline: 2 alerts reached nobody (first: 7 Problem: A)');
    expect(c.find((x) => x.key === 'self:unacknowledged')!.summary).toBe('Alertline: alert 8 was acknowledged by nobody: Problem: C');
    expect(c.find((x) => x.key === 'self:disk-low')!.summary).toBe('Alertline: disk almost full, 50 MB free');
    expect(conditionsOf({ ...base, oldestDue: T0 - 9 * MIN }, t)).toEqual([]);
  });

  it('database errors: one alarm with the fault, held for databaseErrorsAfter, so a single busy moment does not page', () => {
    const err = 'SQLITE_IOERR_WRITE in store probe: disk I/O error';
    const c = conditionsOf({ ...base, databaseError: err }, { ...t, databaseErrorsAfterMs: 10_000 });
    expect(c).toMatchObject([{ key: 'self:database', summary: `Alertline: database errors: ${err}`, holdMs: 10_000 }]);
    expect(conditionsOf({ ...base, databaseError: null }, t)).toEqual([]);
    const db = c[0]!;
    // Seen at one evaluation only (a lock held past the busy timeout once): nothing.
    expect(run([{ at: T0, conds: [db] }, { at: T0 + 5000, conds: [] }, { at: T0 + 15_000, conds: [] }]).raised).toEqual([]);
    // Going on: raised after 10 s, resolved when the store works again.
    const r = run([0, 5, 10, 15].map((s) => ({ at: T0 + s * 1000, conds: [db] })).concat([{ at: T0 + 20_000, conds: [] }]));
    expect(r.raised).toEqual([[10, 'self:database']]);
    expect(r.cleared).toEqual([[20, 'self:database']]);
  });
});

describe('the alarm message', () => {
  it('a channel\'s words cannot add a header; non-ASCII is RFC 2047-encoded', () => {
    expect(headerValue('modem: x\r\nBcc: evil@example.com')).toBe('modem: x Bcc: evil@example.com');
    expect(headerValue('señal baja')).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    const raw = selfAlarmRaw({ kind: 'problem', key: 'self:disk-low', summary: 'Alertline: x\nBcc: y', detail: 'line1\nline2', hostname: 'pi-1', to: ['a@example.com'], at: T0 }).toString();
    const [head, body] = raw.split('\r\n\r\n');
    expect(head!.split('\r\n').filter((l) => /^Bcc:/i.test(l))).toEqual([]);
    expect(head).toMatch(/^Subject: Alertline: x Bcc: y$/m);
    expect(head).toMatch(/^Message-ID: <problem\.self\.disk-low\.\d+@pi-1>$/m);
    expect(body).toBe('line1\r\nline2\r\n');
  });
});
