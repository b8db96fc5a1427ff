/**
 * Escalation policies replayed with an injected clock: step timing, repeat, acknowledgement
 * stopping every step, escalate skipping to the next step, snooze resuming, ack timeout. The
 * expected timelines are written out by hand in minutes after the alert started.
 */
import { describe, expect, it } from 'vitest';
import {
  implicitPolicy, nextAction, parseRepeat, parseStep, policyFromOptions, policyPosition, resolveTarget, formatStep,
  type Firing, type Policy, type PolicyEvent,
} from '../../../src/core/oncall/policy.js';
import type { Schedule } from '../../../src/core/oncall/schedule.js';
import { ManualClock } from '../../../src/util/clock.js';

const MIN = 60_000;
const T0 = Date.UTC(2027, 2, 28, 7, 0);
const m = (minutes: number) => T0 + minutes * MIN;

// noc primary, 10 min, noc secondary, 10 min, ops, 5 min; once more
const P = policyFromOptions('noc', ['schedule:noc', 'wait:10m', 'schedule:noc/secondary', 'wait:10', 'group:ops', 'wait:5m'], '1');
const PRIMARY = 'schedule:noc';
const SECONDARY = 'schedule:noc/secondary';
const OPS = 'group:ops';

/** The notifications as [minute, target, reason]. */
const timeline = (fired: Firing[]) => fired.map((f) => [(f.at - T0) / MIN, f.target.type === 'schedule' ? `schedule:${f.target.schedule}${f.target.layer ? `/${f.target.layer}` : ''}` : f.target.type === 'group' ? `group:${f.target.group}` : `user:${f.target.user}`, f.reason]);
const at = (minutes: number, events: PolicyEvent[] = [], opts = {}) => policyPosition(P, T0, m(minutes), events, opts);

describe('step timing and repeat', () => {
  it.each([
    { now: 0, state: 'running', step: 1, due: 10, n: 1 },
    { now: 9.99, state: 'running', step: 1, due: 10, n: 1 },
    { now: 10, state: 'running', step: 3, due: 20, n: 2 },
    { now: 20, state: 'running', step: 5, due: 25, n: 3 },
    { now: 25, state: 'running', step: 1, due: 35, n: 4 },
    { now: 45, state: 'running', step: 5, due: 50, n: 6 },
    { now: 50, state: 'exhausted', step: 6, due: undefined, n: 6 },
    { now: 600, state: 'exhausted', step: 6, due: undefined, n: 6 },
  ])('at minute $now: $state at step $step, next change at $due', ({ now, state, step, due, n }) => {
    const s = at(now);
    expect(s.state).toBe(state);
    expect(s.step).toBe(step);
    expect(s.due === undefined ? undefined : (s.due - T0) / MIN).toBe(due);
    expect(s.fired).toHaveLength(n);
  });

  it('the full run: two passes, then the last people stay responsible', () => {
    const s = at(120);
    expect(timeline(s.fired)).toEqual([
      [0, PRIMARY, 'step'], [10, SECONDARY, 'step'], [20, OPS, 'step'],
      [25, PRIMARY, 'repeat'], [35, SECONDARY, 'step'], [45, OPS, 'step'],
    ]);
    expect(s.fired.map((f) => f.key)).toEqual(['0.0.0', '0.2.0', '0.4.0', '1.0.0', '1.2.0', '1.4.0']);
    expect(s.current).toEqual([{ type: 'group', group: 'ops' }]);
  });

  it('consecutive notify steps notify together and form one stage', () => {
    const p = policyFromOptions('both', ['schedule:noc', 'user:boss@x.example', 'wait:15m', 'group:ops']);
    const s = policyPosition(p, T0, m(15), []);
    expect(timeline(s.fired)).toEqual([[0, PRIMARY, 'step'], [0, 'user:boss@x.example', 'step'], [15, OPS, 'step']]);
    expect(s.state).toBe('exhausted');
    const snoozed = policyPosition(p, T0, m(40), [{ type: 'snooze', at: m(5), ms: 30 * MIN }]);
    // the whole first stage again at 35, then ops 15 minutes later
    expect(timeline(snoozed.fired).slice(2)).toEqual([[35, PRIMARY, 'snooze-end'], [35, 'user:boss@x.example', 'snooze-end']]);
    expect(snoozed.due).toBe(m(50));
  });

  it('a user address is a one-step policy', () => {
    const s = policyPosition(implicitPolicy('ana@x.example'), T0, m(60), []);
    expect(timeline(s.fired)).toEqual([[0, 'user:ana@x.example', 'step']]);
    expect(s.state).toBe('exhausted');
    expect(s.due).toBeUndefined();
  });

  it('a policy that starts by waiting notifies nobody until the wait ends', () => {
    const p = policyFromOptions('late', ['wait:5m', 'schedule:noc', 'wait:10m'], 2);
    expect(policyPosition(p, T0, m(4), []).fired).toHaveLength(0);
    expect(timeline(policyPosition(p, T0, m(45), []).fired)).toEqual([[5, PRIMARY, 'step'], [20, PRIMARY, 'step'], [35, PRIMARY, 'step']]);
  });
});

describe('acknowledge stops every step', () => {
  it.each([
    { ackAt: 0, fired: 1 },
    { ackAt: 5, fired: 1 },
    { ackAt: 10, fired: 1 }, // at the very end of the wait: the ack comes first
    { ackAt: 12, fired: 2 },
    { ackAt: 30, fired: 4 },
    { ackAt: 55, fired: 6 }, // after exhaustion it still records the ack
  ])('ack at minute $ackAt: $fired notifications, nothing after', ({ ackAt, fired }) => {
    const s = at(600, [{ type: 'ack', at: m(ackAt), by: 'ana@x.example' }]);
    expect(s.state).toBe('acknowledged');
    expect(s.fired).toHaveLength(fired);
    expect(s.due).toBeUndefined();
    expect(s.acknowledgedAt).toBe(m(ackAt));
    expect(s.acknowledgedBy).toBe('ana@x.example');
  });

  it('escalate and snooze after an ack change nothing; resolve stops for good', () => {
    const s = at(600, [{ type: 'ack', at: m(3) }, { type: 'escalate', at: m(4) }, { type: 'snooze', at: m(5), ms: 30 * MIN }]);
    expect(s.state).toBe('acknowledged');
    expect(s.fired).toHaveLength(1);
    const r = at(600, [{ type: 'resolve', at: m(15) }, { type: 'ack', at: m(16) }]);
    expect(r.state).toBe('resolved');
    expect(r.fired).toHaveLength(2);
    expect(r.due).toBeUndefined();
  });

  it('an ack during a snooze stops the snooze too', () => {
    const s = at(120, [{ type: 'snooze', at: m(2), ms: 30 * MIN }, { type: 'ack', at: m(20) }]);
    expect(s.state).toBe('acknowledged');
    expect(s.fired).toHaveLength(1);
  });

  it('events after now are not looked at; events before the start count at the start', () => {
    expect(at(5, [{ type: 'ack', at: m(6) }]).state).toBe('running');
    const early = at(5, [{ type: 'ack', at: m(-3) }]);
    expect(early).toMatchObject({ state: 'acknowledged', acknowledgedAt: T0 });
    expect(early.fired).toHaveLength(1);
  });
});

describe('escalate skips to the next notify step now', () => {
  it('during the first wait: secondary now, and its wait runs from now', () => {
    const s = at(13, [{ type: 'escalate', at: m(3) }]);
    expect(timeline(s.fired)).toEqual([[0, PRIMARY, 'step'], [3, SECONDARY, 'escalate'], [13, OPS, 'step']]);
    expect(s.due).toBe(m(18));
  });
  it('twice in a row', () => {
    const s = at(4, [{ type: 'escalate', at: m(1) }, { type: 'escalate', at: m(2) }]);
    expect(timeline(s.fired)).toEqual([[0, PRIMARY, 'step'], [1, SECONDARY, 'escalate'], [2, OPS, 'escalate']]);
    expect(s).toMatchObject({ state: 'running', step: 5, due: m(7) });
  });
  it('in the last wait of a pass: into the next pass', () => {
    const s = at(22, [{ type: 'escalate', at: m(22) }]);
    expect(timeline(s.fired).slice(3)).toEqual([[22, PRIMARY, 'escalate']]);
    expect(s).toMatchObject({ pass: 1, step: 1, due: m(32) });
  });
  it('in the last wait of the last pass: nothing further, the policy is exhausted', () => {
    const s = at(47, [{ type: 'escalate', at: m(47) }]);
    expect(s.state).toBe('exhausted');
    expect(s.fired).toHaveLength(6);
    expect(s.due).toBeUndefined();
    expect(at(47, [{ type: 'escalate', at: m(47) }, { type: 'escalate', at: m(47) }]).fired).toHaveLength(6);
  });
  it('during a snooze: the snooze ends and the next step fires', () => {
    const s = at(40, [{ type: 'snooze', at: m(2), ms: 30 * MIN }, { type: 'escalate', at: m(8) }]);
    expect(timeline(s.fired)).toEqual([[0, PRIMARY, 'step'], [8, SECONDARY, 'escalate'], [18, OPS, 'step'], [23, PRIMARY, 'repeat'], [33, SECONDARY, 'step']]);
    expect(s.snoozedUntil).toBeUndefined();
  });
});

describe('snooze pauses, then the same step starts over', () => {
  it('snooze 30 min during the first wait: primary again at 34, secondary at 44', () => {
    const ev: PolicyEvent[] = [{ type: 'snooze', at: m(4), ms: 30 * MIN, by: 'ana@x.example' }];
    const during = at(20, ev);
    expect(during).toMatchObject({ state: 'snoozed', step: 1, snoozedUntil: m(34), due: m(34) });
    expect(during.fired).toHaveLength(1);
    const s = at(44, ev);
    expect(timeline(s.fired)).toEqual([[0, PRIMARY, 'step'], [34, PRIMARY, 'snooze-end'], [44, SECONDARY, 'step']]);
    expect(s.fired.map((f) => f.key)).toEqual(['0.0.0', '0.0.1', '0.2.0']);
  });
  it('snooze during the secondary stage resumes at the secondary, not the primary', () => {
    const s = at(50, [{ type: 'snooze', at: m(15), ms: 30 * MIN }]);
    expect(timeline(s.fired)).toEqual([[0, PRIMARY, 'step'], [10, SECONDARY, 'step'], [45, SECONDARY, 'snooze-end']]);
    expect(s.due).toBe(m(55));
  });
  it('a second snooze replaces the first', () => {
    const s = at(60, [{ type: 'snooze', at: m(4), ms: 30 * MIN }, { type: 'snooze', at: m(20), ms: 30 * MIN }]);
    expect(timeline(s.fired)).toEqual([[0, PRIMARY, 'step'], [50, PRIMARY, 'snooze-end'], [60, SECONDARY, 'step']]);
  });
  it('snoozing an exhausted policy calls its last stage again', () => {
    const s = at(200, [{ type: 'snooze', at: m(100), ms: 30 * MIN }]);
    expect(timeline(s.fired).slice(6)).toEqual([[130, OPS, 'snooze-end']]);
    expect(s.state).toBe('exhausted');
  });
});

describe('ack timeout', () => {
  const H = 60;
  it('reminds the acknowledger every timeout while unresolved; only the latest reminder is listed', () => {
    const ev: PolicyEvent[] = [{ type: 'ack', at: m(12), by: 'ana@x.example' }];
    const opts = { ackTimeoutMs: H * MIN };
    expect(at(71, ev, opts).fired).toHaveLength(2);
    expect(at(71, ev, opts).due).toBe(m(72));
    const one = at(72, ev, opts);
    expect(timeline(one.fired).slice(2)).toEqual([[72, 'user:ana@x.example', 'ack-timeout']]);
    expect(one.fired[2]!.key).toBe('ack.1.1');
    const later = at(200, ev, opts);
    expect(timeline(later.fired).slice(2)).toEqual([[192, 'user:ana@x.example', 'ack-timeout']]);
    expect(later.fired[2]!.key).toBe('ack.1.3');
    expect(later.due).toBe(m(252));
  });
  it('a new ack restarts it; resolve ends it', () => {
    const ev: PolicyEvent[] = [{ type: 'ack', at: m(12), by: 'ana@x.example' }, { type: 'ack', at: m(80), by: 'beto@x.example' }, { type: 'resolve', at: m(170) }];
    const s = at(300, ev, { ackTimeoutMs: H * MIN });
    expect(timeline(s.fired).slice(2)).toEqual([[72, 'user:ana@x.example', 'ack-timeout'], [140, 'user:beto@x.example', 'ack-timeout']]);
    expect(s.fired.slice(2).map((f) => f.key)).toEqual(['ack.1.1', 'ack.2.1']);
    expect(s.state).toBe('resolved');
    expect(s.due).toBeUndefined();
  });
  it('an ack without a name reminds the current stage', () => {
    const s = at(75, [{ type: 'ack', at: m(12) }], { ackTimeoutMs: H * MIN });
    expect(timeline(s.fired).slice(2)).toEqual([[72, SECONDARY, 'ack-timeout']]);
  });
  it('no reminders without an ack timeout', () => {
    expect(at(600, [{ type: 'ack', at: m(12) }]).fired).toHaveLength(2);
  });
});

describe('a dispatcher loop on a manual clock', () => {
  it('notifies each step once, at its time, and follows escalate, snooze and ack', () => {
    const clock = new ManualClock(T0);
    const events: PolicyEvent[] = [];
    const done: string[] = [];
    const sent: [number, string][] = [];
    let cancel: (() => void) | undefined;
    const wake = () => {
      const a = nextAction(P, T0, clock.now(), events, done);
      for (const f of a.notify) {
        done.push(f.key);
        sent.push([(clock.now() - T0) / MIN, formatStep({ type: 'notify', target: f.target })]);
      }
      cancel?.();
      cancel = a.due === undefined ? undefined : clock.setTimer(wake, a.due - clock.now());
    };
    const act = (e: PolicyEvent extends infer E ? (E extends PolicyEvent ? Omit<E, 'at'> : never) : never) => {
      events.push({ ...e, at: clock.now() } as PolicyEvent);
      wake();
    };
    wake();
    clock.advance(12 * MIN); // secondary at 10
    act({ type: 'escalate' }); // ops at 12
    clock.advance(2 * MIN);
    act({ type: 'snooze', ms: 30 * MIN }); // at 14 until 44: ops again at 44
    clock.advance(35 * MIN); // 49: next pass primary at 49 (44 + 5)
    clock.advance(3 * MIN);
    act({ type: 'ack' });
    clock.advance(120 * MIN);
    expect(sent).toEqual([[0, PRIMARY], [10, SECONDARY], [12, OPS], [44, OPS], [49, PRIMARY]]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('spellings', () => {
  it.each([
    ['schedule:noc', { type: 'notify', target: { type: 'schedule', schedule: 'noc' } }],
    ['schedule:noc/secondary', { type: 'notify', target: { type: 'schedule', schedule: 'noc', layer: 'secondary' } }],
    ['schedule:noc:secondary', { type: 'notify', target: { type: 'schedule', schedule: 'noc', layer: 'secondary' } }],
    ['group:ops', { type: 'notify', target: { type: 'group', group: 'ops' } }],
    ['user:ana@x.example', { type: 'notify', target: { type: 'user', user: 'ana@x.example' } }],
    ['wait:10m', { type: 'wait', ms: 10 * MIN }],
    ['wait:10', { type: 'wait', ms: 10 * MIN }],
    ['WAIT: 90s', { type: 'wait', ms: 90_000 }],
    ['wait:2h', { type: 'wait', ms: 120 * MIN }],
  ])('--step %j', (s, step) => {
    expect(parseStep(s)).toEqual(step);
  });
  it('formats back to the same spelling', () => {
    expect(P.steps.map(formatStep)).toEqual(['schedule:noc', 'wait:10m', 'schedule:noc/secondary', 'wait:10m', 'group:ops', 'wait:5m']);
  });
  it.each([
    ['noc', /no "kind:" prefix/],
    ['team:ops', /unknown kind "team"/],
    ['group:', /nothing after/],
    ['group:o ps', /"o ps" is not a group name/],
    ['user:ana', /"ana" is not an e-mail/],
    ['wait:soon', /"soon" is not a duration/],
    ['wait:0m', /"0m" is not a duration/],
    ['wait:8d', /at most 7d/],
    ['schedule:a/b/c', /schedule:NAME\/LAYER/],
  ])('--step %j is an error naming it', (s, why) => {
    expect(() => parseStep(s)).toThrow(why);
    expect(() => parseStep(s)).toThrow(`step: bad step ${JSON.stringify(s)}`);
  });
  it('--repeat and whole policies', () => {
    expect(parseRepeat('3')).toBe(3);
    expect(() => parseRepeat('-1')).toThrow(/"-1" is not a whole number/);
    expect(() => parseRepeat('101')).toThrow(/0 to 100/);
    expect(() => policyFromOptions('p', ['schedule:noc', 'wait:5m', 'group:ops'], 2)).toThrow(/must end with a wait/);
    expect(() => policyFromOptions('p', ['wait:5m'])).toThrow(/no step notifies/);
    expect(() => policyFromOptions('p', [])).toThrow(/no steps/);
    expect(policyFromOptions('p', ['schedule:noc', 'wait:5m', 'group:ops']).repeat).toBe(0);
  });
});

describe('targets to people', () => {
  const schedule: Schedule = {
    name: 'noc',
    layers: [
      { name: 'primary', members: ['ana@x.example', 'beto@x.example'], rotation: { kind: 'weekly' }, handoff: { weekday: 1, minute: 540 }, zone: 'Europe/Madrid', start: '2027-03-22' },
      { name: 'secondary', members: ['carla@x.example'], rotation: { kind: 'weekly' }, handoff: { weekday: 1, minute: 540 }, zone: 'Europe/Madrid', start: '2027-04-05' },
    ],
  };
  const lookup = {
    schedule: (n: string) => (n === 'noc' ? { schedule, overrides: [] } : undefined),
    group: (n: string) => (n === 'ops' ? ['dani@x.example', 'eva@x.example'] : n === 'empty' ? [] : undefined),
  };
  const when = new Date('2027-03-29T09:30+02:00').getTime(); // second week: beto; secondary not started
  it.each([
    [parseStep('schedule:noc'), ['beto@x.example'], undefined],
    [parseStep('schedule:noc/secondary'), [], 'nobody on call on noc/secondary'],
    [parseStep('schedule:noc/tertiary'), [], 'schedule noc has no layer tertiary'],
    [parseStep('schedule:db'), [], 'no schedule db'],
    [parseStep('group:ops'), ['dani@x.example', 'eva@x.example'], undefined],
    [parseStep('group:empty'), [], 'group empty has no members'],
    [parseStep('group:none'), [], 'no group none'],
    [parseStep('user:fer@x.example'), ['fer@x.example'], undefined],
  ])('%j', (step, emails, problem) => {
    if (step.type !== 'notify') throw new Error('not a notify step');
    const r = resolveTarget(step.target, lookup, when);
    expect(r.emails).toEqual(emails);
    expect(r.problem).toBe(problem);
  });
});
