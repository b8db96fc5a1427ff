/** Admission as a pure function: the facts the store read → what becomes of each recipient. */
import { describe, expect, it } from 'vitest';
import { admit, type AdmissionSettings } from '../../src/core/admission.js';
import type { AdmitFacts, AdmitInput, AlertKind } from '../../src/store/rows.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 22, 3, 0);
const settings: AdmissionSettings = { ignore: [/^test:/i], dedupeWindowMs: 30 * MIN, notifyResolved: true };

function input(kind: AlertKind, subject = 'Problem: Disk full', recipients = ['a@x', 'b@x'], over: Partial<AdmitInput['alert']> = {}): AdmitInput {
  return {
    alert: {
      receivedAt: NOW, kind, subject, host: 'db1', severity: 'High', level: 'high', sentence: null, monitor: 'zabbix', eventId: '77',
      problemKey: 'event:77', text: '', mailFrom: null, rcpt: recipients, messageId: null, client: null, raw: Buffer.alloc(0), ...over,
    },
    recipients, dedupeKey: `${kind}:event:77`, plan: null,
  };
}
const facts = (over: Partial<AdmitFacts> = {}): AdmitFacts => ({ problems: [], lastSent: new Map(), ...over });
const problem = (id: number, state: AdmitFacts['problems'][number]['state'], informed: string[] = [], over: Partial<AdmitFacts['problems'][number]> = {}) =>
  ({ id, state, receivedAt: NOW - 60 * MIN, resolvedAt: null, level: 'high', informed, ...over });
const states = (p: ReturnType<typeof admit>) => p.deliveries.map((d) => `${d.email}:${d.state}`);

describe('admit: problems', () => {
  it('a new problem is queued for everyone', () => {
    const p = admit(input('problem'), facts(), settings);
    expect(p.alertState).toBe('pending');
    expect(states(p)).toEqual(['a@x:queued', 'b@x:queued']);
    expect(p.resolve).toEqual([]);
  });

  it('sent to a person inside the window: suppressed for them only', () => {
    const p = admit(input('problem'), facts({ lastSent: new Map([['a@x', { at: NOW - 10 * MIN, level: 'high' }]]) }), settings);
    expect(states(p)).toEqual(['a@x:suppressed', 'b@x:queued']);
    expect(p.alertState).toBe('pending');
  });

  it('sent before the window: delivered again', () => {
    const p = admit(input('problem'), facts({ lastSent: new Map([['a@x', { at: NOW - 31 * MIN, level: 'high' }]]) }), settings);
    expect(states(p)).toEqual(['a@x:queued', 'b@x:queued']);
  });

  it('everyone suppressed: the alert is suppressed, with the story', () => {
    const sent = { at: NOW - MIN, level: 'high' };
    const p = admit(input('problem'), facts({ lastSent: new Map([['a@x', sent], ['b@x', sent]]) }), settings);
    expect(p.alertState).toBe('suppressed');
    expect(p.note).toBe('a@x: suppress, b@x: suppress');
  });

  it('an ignored subject is stored as ignored', () => {
    const p = admit(input('problem', 'TEST: ping'), facts(), settings);
    expect(p.alertState).toBe('ignored');
    expect(states(p)).toEqual(['a@x:ignored', 'b@x:ignored']);
  });

  it('a zero dedupe window never suppresses', () => {
    const p = admit(input('problem'), facts({ lastSent: new Map([['a@x', { at: NOW, level: 'high' }]]) }), { ...settings, dedupeWindowMs: 0 });
    expect(states(p)).toEqual(['a@x:queued', 'b@x:queued']);
  });
});

describe('admit: resolved', () => {
  it('resolves the open problems of the identity and tells only the people who were told, on text channels', () => {
    const f = facts({ problems: [problem(5, 'notifying', ['a@x']), problem(3, 'acknowledged', ['a@x'])] });
    const p = admit(input('resolved', 'Resolved: Disk full'), f, settings);
    expect(p.resolve).toEqual([5]);
    expect(p.deliveries).toEqual([
      { email: 'a@x', state: 'queued', note: null, textOnly: true },
      { email: 'b@x', state: 'cancelled', note: 'was not notified of the problem', textOnly: true },
    ]);
  });

  it('notifyResolved off: stored, nothing sent', () => {
    const p = admit(input('resolved', 'Resolved: Disk full'), facts({ problems: [problem(5, 'notifying', ['a@x'])] }), { ...settings, notifyResolved: false });
    expect(p.alertState).toBe('cancelled');
    expect(p.resolve).toEqual([5]);
  });
});
