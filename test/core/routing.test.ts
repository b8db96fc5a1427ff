/**
 * Routing (pure): which policy an incoming alert gets (explicit routes, then the implicit one-step
 * policies of user and group addresses), silences, and who a policy notifies now.
 * Instants are written as ISO times with Madrid's offset (CET +01:00, CEST +02:00 from 2027-03-28 02:00).
 */
import { describe, expect, it } from 'vitest';
import { Router, localPart, routeAlert, whoToNotifyNow, type IncomingAlert } from '../../src/core/routing.js';
import { policyFromOptions, type PolicyEvent } from '../../src/core/oncall/index.js';
import type { PolicyRecord, RouteRecord, RoutingTables, SilenceRecord } from '../../src/store/oncall.js';

const t = (iso: string) => new Date(iso).getTime();
const MIN = 60_000;
const [ana, beto, carla, dani, eva] = ['ana@x.example', 'beto@x.example', 'carla@x.example', 'dani@x.example', 'eva@x.example'];

const policy = (name: string, steps: string[], repeat = 0): PolicyRecord => ({ ...policyFromOptions(name, steps, repeat), createdAt: 0, updatedAt: 0 });
let routeId = 0;
const route = (address: string, pol: string, over: Partial<RouteRecord> = {}): RouteRecord => ({ id: ++routeId, position: routeId, address, policy: pol, createdAt: 0, ...over });
const silence = (over: Partial<SilenceRecord>): SilenceRecord => ({ id: 1, from: t('2027-03-28T00:00+01:00'), until: t('2027-03-28T12:00+02:00'), comment: 'maintenance', createdBy: null, createdAt: 0, ...over });

function tables(over: Partial<RoutingTables> = {}): RoutingTables {
  return {
    routes: [],
    policies: [
      policy('noc', ['schedule:noc', 'wait:10m', 'schedule:noc/secondary', 'wait:10m', 'group:dba']),
      policy('dba', ['group:dba']),
      policy('boss', ['user:eva@x.example']),
    ],
    schedules: [{
      schedule: {
        name: 'noc', createdAt: 0, updatedAt: 0,
        layers: [
          { name: 'primary', members: [ana, beto], rotation: { kind: 'daily' }, handoff: { minute: 8 * 60 }, start: '2027-03-20', zone: 'Europe/Madrid' },
          { name: 'secondary', members: [carla], rotation: { kind: 'weekly' }, handoff: { weekday: 1, minute: 9 * 60 }, start: '2027-03-01', zone: 'Europe/Madrid' },
        ],
      },
      overrides: [],
    }],
    silences: [],
    users: [{ email: ana, group: null }, { email: beto, group: null }, { email: carla, group: 'dba' }, { email: dani, group: 'dba' }, { email: eva, group: null }],
    ...over,
  };
}

const NOW = t('2027-03-28T10:00+02:00');

describe('which policy an alert gets', () => {
  routeId = 0;
  const routes = [
    route('noc', 'dba', { host: 'db-.*' }),
    route('noc', 'boss', { severity: 'critical', subject: 'datacenter' }),
    route('noc', 'noc'),
    route('ops', 'boss', { severity: 'high' }),
    route('ana', 'boss'),
  ];
  interface Row { name: string; alert: Partial<IncomingAlert>; via: 'route' | 'user' | 'group' | 'unknown'; policy?: string; route?: number }
  const rows: Row[] = [
    { name: 'user address: implicit one-step policy', alert: { recipient: 'beto@x.example' }, via: 'user', policy: beto },
    { name: 'user address in another case', alert: { recipient: 'Beto@X.Example' }, via: 'user', policy: beto },
    { name: 'group address, any domain', alert: { recipient: 'DBA@alerts.example' }, via: 'group', policy: 'group:dba' },
    { name: 'nobody', alert: { recipient: 'sales@x.example' }, via: 'unknown' },
    { name: 'a group with that name but no members is nobody', alert: { recipient: 'web@x.example' }, via: 'unknown' },
    { name: 'route by local part, any domain', alert: { recipient: 'noc@alerts.example', host: 'web-01' }, via: 'route', policy: 'noc', route: 3 },
    { name: 'route by local part without a domain (HTTP to)', alert: { recipient: 'NOC' }, via: 'route', policy: 'noc', route: 3 },
    { name: 'host pattern matches the whole host', alert: { recipient: 'noc@x', host: 'DB-01' }, via: 'route', policy: 'dba', route: 1 },
    { name: 'host pattern does not match a host containing it', alert: { recipient: 'noc@x', host: 'mydb-01' }, via: 'route', policy: 'noc', route: 3 },
    { name: 'host pattern does not match an alert without a host', alert: { recipient: 'noc@x' }, via: 'route', policy: 'noc', route: 3 },
    { name: 'subject anywhere and severity at or above', alert: { recipient: 'noc@x', subject: 'Problem: Datacenter power lost', level: 'critical' }, via: 'route', policy: 'boss', route: 2 },
    { name: 'subject matches but severity below', alert: { recipient: 'noc@x', subject: 'Problem: datacenter door open', level: 'high' }, via: 'route', policy: 'noc', route: 3 },
    { name: 'unknown level counts as critical', alert: { recipient: 'noc@x', subject: 'datacenter ???' }, via: 'route', policy: 'boss', route: 2 },
    { name: 'severity route: high matches', alert: { recipient: 'ops@x', level: 'high' }, via: 'route', policy: 'boss', route: 4 },
    { name: 'severity route: warning falls through to nobody', alert: { recipient: 'ops@x', level: 'warning' }, via: 'unknown' },
    { name: 'an explicit route wins over the user with that address', alert: { recipient: 'ana@x.example' }, via: 'route', policy: 'boss', route: 5 },
  ];
  const router = new Router(tables({ routes }));
  for (const row of rows) {
    it(row.name, () => {
      const d = router.route({ recipient: '', subject: 'Problem: something', ...row.alert }, NOW);
      if (row.via === 'unknown') {
        expect(d).toMatchObject({ decision: 'unknown' });
        return;
      }
      expect(d.decision).toBe('policy');
      if (d.decision !== 'policy') return;
      expect(d.choice.via).toBe(row.via);
      expect(d.choice.policy.name).toBe(row.policy);
      if (row.route !== undefined) expect(d.choice.via === 'route' && d.choice.route.id).toBe(row.route);
    });
  }

  it('routes are tried by position, not by id', () => {
    const r = routeAlert({ recipient: 'noc@x', subject: 's', host: 'db-1' }, tables({
      routes: [route('noc', 'noc', { id: 1, position: 2 }), route('noc', 'dba', { id: 2, position: 1, host: 'db-.*' })],
    }), NOW);
    expect(r.decision === 'policy' && r.choice.policy.name).toBe('dba');
  });

  it('a stored route whose pattern does not compile is skipped and reported, not thrown', () => {
    const router = new Router(tables({ routes: [route('noc', 'dba', { id: 7, host: '(a' }), route('noc', 'noc', { id: 8 })] }));
    expect(router.problems).toEqual([expect.stringMatching(/^route 7 skipped: host: bad regular expression/)]);
    const d = router.route({ recipient: 'noc@x', subject: 's', host: 'a' }, NOW);
    expect(d.decision === 'policy' && d.choice.via === 'route' && d.choice.route.id).toBe(8);
  });

  it('knows: route addresses, users and groups with members (the RCPT check)', () => {
    const router = new Router(tables({ routes: [route('ops', 'boss', { severity: 'critical' })] }));
    expect(['ops@x', 'ana@x.example', 'dba@y', 'sales@x', 'ana@other.example'].map((a) => router.knows(a))).toEqual([true, true, true, false, false]);
    expect(localPart(' Noc@Alerts.Example ')).toBe('noc');
  });
});

describe('silences', () => {
  interface Row { name: string; silences: Partial<SilenceRecord>[]; alert: Partial<IncomingAlert>; at?: string; silenced: number | null; until?: string }
  const rows: Row[] = [
    { name: 'host silence covers the host', silences: [{ host: 'db-.*' }], alert: { host: 'db-01' }, silenced: 1, until: '2027-03-28T12:00+02:00' },
    { name: 'host silence: other host', silences: [{ host: 'db-.*' }], alert: { host: 'web-01' }, silenced: null },
    { name: 'not yet started', silences: [{ host: 'db-.*', from: t('2027-03-28T11:00+02:00') }], alert: { host: 'db-01' }, silenced: null },
    { name: 'over (until is exclusive)', silences: [{ host: 'db-.*' }], alert: { host: 'db-01' }, at: '2027-03-28T12:00+02:00', silenced: null },
    { name: 'severity warning covers info', silences: [{ severity: 'warning' }], alert: { level: 'info' }, silenced: 1 },
    { name: 'severity warning does not cover high', silences: [{ severity: 'warning' }], alert: { level: 'high' }, silenced: null },
    { name: 'subject anywhere, case-insensitive', silences: [{ subject: 'backup' }], alert: { subject: 'Problem: BACKUP late' }, silenced: 1 },
    {
      name: 'silences that touch run into each other', alert: { host: 'db-01' }, silenced: 1, until: '2027-03-28T18:00+02:00',
      silences: [{ id: 1, host: 'db-.*' }, { id: 2, subject: '.*', from: t('2027-03-28T12:00+02:00'), until: t('2027-03-28T18:00+02:00') }],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const tb = tables({ silences: row.silences.map((s) => silence(s)) });
      const d = routeAlert({ recipient: 'ana@x.example', subject: 'Problem: something', ...row.alert }, tb, row.at ? t(row.at) : NOW);
      if (row.silenced === null) {
        expect(d.decision).toBe('policy');
        return;
      }
      expect(d.decision).toBe('silenced');
      if (d.decision !== 'silenced') return;
      expect(d.silence.id).toBe(row.silenced);
      expect(d.choice).toMatchObject({ via: 'user', user: ana }); // delivered to the same policy when it ends
      if (row.until) expect(d.until).toBe(t(row.until));
    });
  }

  it('an unknown recipient stays unknown under a silence', () => {
    expect(routeAlert({ recipient: 'sales@x', subject: 'x' }, tables({ silences: [silence({ subject: '.*' })] }), NOW).decision).toBe('unknown');
  });
});

describe('who a policy notifies now', () => {
  const tb = tables();
  const noc = tb.policies[0]!;
  const start = t('2027-03-28T10:00+02:00');
  interface Row { name: string; now: number; events?: PolicyEvent[]; done?: string[]; emails: string[]; due?: number }
  const rows: Row[] = [
    { name: 'at the start: the primary on call (ana since 08:00 CEST)', now: start, emails: [ana], due: start + 10 * MIN },
    { name: 'after 10 minutes: the secondary', now: start + 10 * MIN, done: ['0.0.0'], emails: [carla], due: start + 20 * MIN },
    { name: 'after 20 minutes: the group', now: start + 20 * MIN, done: ['0.0.0', '0.2.0'], emails: [carla, dani] },
    { name: 'a late dispatcher gets every step due, each person once', now: start + 25 * MIN, emails: [ana, carla, dani] },
    { name: 'ack after 5 minutes stops the next steps', now: start + 30 * MIN, events: [{ type: 'ack', at: start + 5 * MIN, by: ana }], done: ['0.0.0'], emails: [] },
    { name: 'escalate goes to the next step at once', now: start + 2 * MIN, events: [{ type: 'escalate', at: start + MIN }], done: ['0.0.0'], emails: [carla], due: start + 11 * MIN },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = whoToNotifyNow(noc, start, row.now, row.events ?? [], tb, { done: row.done ?? [] });
      expect(r.emails).toEqual(row.emails);
      expect(r.due).toBe(row.due);
    });
  }

  it('a schedule step is resolved when it runs: across the DST night the 08:00 CEST hand-off gives beto→ana', () => {
    const s = t('2027-03-28T07:55+02:00');
    expect(whoToNotifyNow(noc, s, s, [], tb).emails).toEqual([beto]);
    // the same step first run at 08:02 local (06:02 UTC: a naive 24 h after Saturday 08:00 CET would still be beto's)
    expect(whoToNotifyNow(noc, s, t('2027-03-28T08:02+02:00'), [], tb).emails).toEqual([ana]);
  });

  it('an override decides who the schedule step reaches', () => {
    const withOverride = tables();
    withOverride.schedules[0]!.overrides.push({ id: 4, schedule: 'noc', member: dani, from: start - 60 * MIN, to: start + 60 * MIN, createdBy: null, createdAt: 0 });
    expect(whoToNotifyNow(noc, start, start, [], withOverride).emails).toEqual([dani]);
  });

  it('a member who is no longer a user is dropped and reported; an unknown schedule is reported', () => {
    const gone = tables({ users: [{ email: beto, group: null }] });
    const r = whoToNotifyNow(noc, start, start, [], gone);
    expect(r.emails).toEqual([]);
    expect(r.notifications[0]!.problem).toBe('not a user: ana@x.example');
    const noSchedule = whoToNotifyNow(policy('p', ['schedule:web']), start, start, [], tb);
    expect(noSchedule.notifications[0]).toMatchObject({ emails: [], problem: 'no schedule web' });
  });

  it('paged: everyone notified so far, as of when each step fired (whom the "acknowledged by" notice goes to)', () => {
    const router = new Router(tb);
    const ackAt = start + 12 * MIN;
    expect(router.paged(noc, start, start + 60 * MIN, [{ type: 'ack', at: ackAt, by: carla }])).toEqual([ana, carla]);
    expect(router.paged(noc, start, start + 60 * MIN, [])).toEqual([ana, carla, dani]);
  });
});
