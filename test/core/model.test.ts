/** The table of allowed alert state changes. */
import { describe, expect, it } from 'vitest';
import { ALERT_TRANSITIONS, canMove, statesMovableTo } from '../../src/core/model.js';
import type { AlertState } from '../../src/core/model.js';

const ALL = Object.keys(ALERT_TRANSITIONS) as AlertState[];

describe('alert state transitions', () => {
  it.each<[AlertState, AlertState, boolean]>([
    ['pending', 'notifying', true],
    ['notifying', 'acknowledged', true],
    ['unacknowledged', 'acknowledged', true],
    ['failed', 'acknowledged', true],
    ['delivered', 'resolved', true],
    ['acknowledged', 'resolved', true],
    ['acknowledged', 'notifying', false],
    ['resolved', 'acknowledged', false],
    ['resolved', 'pending', false],
    ['ignored', 'notifying', false],
    ['suppressed', 'acknowledged', false],
    ['cancelled', 'notifying', false],
    ['notifying', 'pending', false],
  ])('%s → %s: %s', (from, to, ok) => {
    expect(canMove(from, to)).toBe(ok);
  });

  it('end states lead nowhere; nothing moves back to pending except a silence ending', () => {
    for (const s of ['resolved', 'ignored', 'suppressed', 'cancelled'] as AlertState[]) expect(ALERT_TRANSITIONS[s]).toEqual([]);
    expect(statesMovableTo('pending')).toEqual(['silenced']);
  });

  it('every state named in the table is a known state', () => {
    for (const targets of Object.values(ALERT_TRANSITIONS)) for (const t of targets) expect(ALL).toContain(t);
  });

  it('acknowledgement is possible from every state where someone may still care', () => {
    expect(statesMovableTo('acknowledged').sort()).toEqual(['delivered', 'failed', 'notifying', 'pending', 'unacknowledged']);
  });
});
