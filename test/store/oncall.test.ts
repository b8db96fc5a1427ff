/** On-call rows: round trips through a real SQLite file and a real PostgreSQL, the checks only the database can make, reopening. */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stores } from '../../src/store/index.js';
import { ValidationError } from '../../src/store/user-fields.js';
import { ManualClock } from '../../src/util/clock.js';
import { layerFromOptions, policyFromOptions, whoIsOnCall } from '../../src/core/oncall/index.js';
import type { LayerRecord } from '../../src/store/oncall.js';
import { engines, stopEngines, type EngineStores } from '../helpers/pg.js';

let s: Stores;
let h: EngineStores;
const clock = new ManualClock(Date.parse('2027-03-25T12:00:00Z'));
const HOUR = 3_600_000;

const layer = (over: Partial<LayerRecord> = {}): LayerRecord => ({
  name: 'primary', members: ['ana@x.example', 'beto@x.example'], rotation: { kind: 'weekly' }, handoff: { weekday: 1, minute: 540 },
  start: '2027-03-22', zone: 'Europe/Madrid', ...over,
});

afterAll(stopEngines);

describe.each(engines())('on $name', (engine) => {
beforeEach(async () => {
  h = await engine.fresh(() => clock.now());
  s = h.stores;
  await s.users.add('ana@x.example');
  await s.users.add('beto@x.example');
  await s.users.add('carla@x.example', { group: 'dba' });
});
afterEach(async () => {
  await h.cleanup();
});

describe('schedules', () => {
  it('a layer round trips; a second layer joins the same schedule in order; reopening keeps both', async () => {
    const first = await s.oncall.addLayer('noc', layerFromOptions({ members: 'Ana@X.example,beto@x.example', rotation: 'weekly', handoff: 'mon 09:00', tz: 'europe/madrid', start: '2027-03-22' }, clock.now()));
    expect(first.created).toBe(true);
    expect(first.schedule.layers).toEqual([{ name: 'primary', members: ['ana@x.example', 'beto@x.example'], rotation: { kind: 'weekly' }, handoff: { weekday: 1, minute: 540 }, start: '2027-03-22', zone: 'Europe/Madrid' }]);
    const second = await s.oncall.addLayer('NOC', layer({ name: 'secondary', members: ['carla@x.example'], rotation: { kind: 'days', days: 3 }, handoff: { minute: 480 } }));
    expect(second.created).toBe(false);
    expect(second.schedule.name).toBe('noc');
    expect(second.schedule.layers.map((l) => l.name)).toEqual(['primary', 'secondary']);
    s = await h.reopen();
    const again = await s.oncall.getSchedule('noc');
    expect(again?.layers[1]).toEqual({ name: 'secondary', members: ['carla@x.example'], rotation: { kind: 'days', days: 3 }, handoff: { minute: 480 }, start: '2027-03-22', zone: 'Europe/Madrid' });
    // what the store returns is what the core computes with
    expect(whoIsOnCall(again!, [], Date.parse('2027-03-29T07:30:00Z')).map((o) => o.member)).toEqual(['beto@x.example', 'carla@x.example']);
  });

  it('unknown members, a repeated member and a repeated layer are refused, naming them', async () => {
    await expect(s.oncall.addLayer('noc', layer({ members: ['ana@x.example', 'ghost@x.example'] }))).rejects.toThrow(/no user ghost@x\.example/);
    await expect(s.oncall.addLayer('noc', layer({ members: ['ana@x.example', 'ANA@x.example'] }))).rejects.toThrow(/ana@x\.example is listed twice/);
    expect(await s.oncall.getSchedule('noc')).toBeNull();
    await s.oncall.addLayer('noc', layer());
    const dup = s.oncall.addLayer('noc', layer({ members: ['carla@x.example'] }));
    await expect(dup).rejects.toBeInstanceOf(ValidationError);
    await expect(dup).rejects.toThrow(/already has a layer primary/);
    await expect(s.oncall.addLayer('bad name', layer())).rejects.toThrow(/invalid schedule name/);
  });

  it('removing a layer keeps the schedule; removing the last layer or the schedule removes its overrides', async () => {
    await s.oncall.addLayer('noc', layer());
    await s.oncall.addLayer('noc', layer({ name: 'secondary', members: ['carla@x.example'] }));
    await s.oncall.addOverride({ schedule: 'noc', layer: 'secondary', member: 'ana@x.example', from: clock.now(), to: clock.now() + HOUR });
    await s.oncall.addOverride({ schedule: 'noc', member: 'carla@x.example', from: clock.now(), to: clock.now() + HOUR });
    expect(await s.oncall.removeSchedule('noc', 'secondary')).toBe(true);
    expect((await s.oncall.getSchedule('noc'))!.layers.map((l) => l.name)).toEqual(['primary']);
    expect((await s.oncall.overrides({ schedule: 'noc' })).map((o) => o.member)).toEqual(['carla@x.example']);
    expect(await s.oncall.removeSchedule('noc', 'tertiary')).toBe(false);
    expect(await s.oncall.removeSchedule('noc')).toBe(true);
    expect(await s.oncall.getSchedule('noc')).toBeNull();
    expect(await s.oncall.overrides()).toEqual([]);
    expect(await s.oncall.removeSchedule('noc')).toBe(false);
  });
});

describe('overrides', () => {
  beforeEach(async () => {
    await s.oncall.addLayer('noc', layer());
    await s.oncall.addLayer('noc', layer({ name: 'secondary', members: ['carla@x.example'] }));
  });

  it('round trip in creation order, with layer, replaces, who made it; filtered by end', async () => {
    const a = await s.oncall.addOverride({ schedule: 'NOC', member: 'Carla@x.example', from: clock.now(), to: clock.now() + 2 * HOUR, createdBy: 'ops' });
    const b = await s.oncall.addOverride({ schedule: 'noc', layer: 'SECONDARY', member: 'ana@x.example', replaces: 'carla@x.example', from: clock.now() - 3 * HOUR, to: clock.now() - HOUR });
    expect(a).toEqual({ id: a.id, schedule: 'noc', member: 'carla@x.example', from: clock.now(), to: clock.now() + 2 * HOUR, createdBy: 'ops', createdAt: clock.now() });
    expect(b).toMatchObject({ layer: 'secondary', replaces: 'carla@x.example', createdBy: null });
    expect((await s.oncall.overrides()).map((o) => o.id)).toEqual([a.id, b.id]);
    expect((await s.oncall.overrides({ schedule: 'noc', endingAfter: clock.now() })).map((o) => o.id)).toEqual([a.id]);
    expect(await s.oncall.removeOverride(b.id)).toBe(true);
    expect(await s.oncall.removeOverride(b.id)).toBe(false);
    expect(await s.oncall.getOverride(b.id)).toBeNull();
  });

  it('refuses unknown schedule, layer, user, a replaced person not on the layer, and an empty interval', async () => {
    const base = { schedule: 'noc', member: 'carla@x.example', from: clock.now(), to: clock.now() + HOUR };
    await expect(s.oncall.addOverride({ ...base, schedule: 'web' })).rejects.toThrow(/no schedule web/);
    await expect(s.oncall.addOverride({ ...base, layer: 'tertiary' })).rejects.toThrow(/has no layer "tertiary" \(it has primary, secondary\)/);
    await expect(s.oncall.addOverride({ ...base, member: 'dani@x.example' })).rejects.toThrow(/no user dani@x\.example/);
    await expect(s.oncall.addOverride({ ...base, replaces: 'carla@x.example' })).rejects.toThrow(/carla@x\.example is not a member of layer primary/);
    await expect(s.oncall.addOverride({ ...base, to: base.from })).rejects.toThrow(/must end after it starts/);
    expect(await s.oncall.overrides()).toEqual([]);
  });
});

describe('policies and routes', () => {
  beforeEach(async () => {
    await s.oncall.addLayer('noc', layer());
  });

  it('a policy round trips with its steps; names it uses must exist', async () => {
    const p = policyFromOptions('noc', ['schedule:noc', 'wait:10m', 'group:DBA', 'user:Ana@x.example', 'wait:5m'], '2');
    const saved = await s.oncall.addPolicy(p);
    expect(saved).toEqual({
      name: 'noc', repeat: 2, createdAt: clock.now(), updatedAt: clock.now(),
      steps: [
        { type: 'notify', target: { type: 'schedule', schedule: 'noc' } }, { type: 'wait', ms: 600_000 },
        { type: 'notify', target: { type: 'group', group: 'dba' } }, { type: 'notify', target: { type: 'user', user: 'ana@x.example' } }, { type: 'wait', ms: 300_000 },
      ],
    });
    await expect(s.oncall.addPolicy(p)).rejects.toThrow(/policy noc already exists/);
    await expect(s.oncall.addPolicy(policyFromOptions('x', ['schedule:web']))).rejects.toThrow(/no schedule web/);
    await expect(s.oncall.addPolicy(policyFromOptions('x', ['schedule:noc/secondary']))).rejects.toThrow(/schedule noc has no layer secondary/);
    await expect(s.oncall.addPolicy(policyFromOptions('x', ['group:web']))).rejects.toThrow(/no group web/);
    await expect(s.oncall.addPolicy(policyFromOptions('x', ['user:ghost@x.example']))).rejects.toThrow(/no user ghost@x\.example/);
    expect((await s.oncall.listPolicies()).map((x) => x.name)).toEqual(['noc']);
  });

  it('a schedule a policy uses, and a policy a route uses, cannot be removed', async () => {
    await s.oncall.addPolicy(policyFromOptions('noc', ['schedule:noc']));
    await expect(s.oncall.removeSchedule('noc')).rejects.toThrow(/schedule noc is used by policy noc/);
    const r = await s.oncall.addRoute({ address: 'noc', policy: 'noc' });
    await expect(s.oncall.removePolicy('noc')).rejects.toThrow(new RegExp(`policy noc is used by route ${r.id}`));
    expect(await s.oncall.removeRoute(r.id)).toBe(true);
    expect(await s.oncall.removePolicy('noc')).toBe(true);
    expect(await s.oncall.removePolicy('noc')).toBe(false);
    expect(await s.oncall.removeSchedule('noc')).toBe(true);
  });

  it('routes keep their order; --position inserts; the address is the local part', async () => {
    await s.oncall.addPolicy(policyFromOptions('noc', ['schedule:noc']));
    await s.oncall.addPolicy(policyFromOptions('dba', ['group:dba']));
    const a = await s.oncall.addRoute({ address: 'NOC@alerts.example', policy: 'noc' });
    const b = await s.oncall.addRoute({ address: 'noc@', policy: 'dba', host: 'db-.*', severity: 'high' });
    const c = await s.oncall.addRoute({ address: 'noc', policy: 'DBA', subject: 'mysql', position: 1 });
    const list = await s.oncall.listRoutes();
    expect(list.map((r) => [r.id, r.position])).toEqual([[c.id, 1], [a.id, 2], [b.id, 3]]);
    expect(list[0]).toEqual({ id: c.id, position: 1, address: 'noc', policy: 'dba', subject: 'mysql', createdAt: clock.now() });
    expect(list[2]).toMatchObject({ host: 'db-.*', severity: 'high' });
    await expect(s.oncall.addRoute({ address: 'noc', policy: 'web' })).rejects.toThrow(/no policy web/);
    await expect(s.oncall.addRoute({ address: 'noc', policy: 'noc', severity: 'urgent' as 'high' })).rejects.toThrow(/unknown severity "urgent"/);
    await expect(s.oncall.addRoute({ address: 'no c', policy: 'noc' })).rejects.toThrow(/invalid route address/);
  });
});

describe('silences', () => {
  it('round trip; listing leaves out those over; remove ends a started one now and deletes a future one', async () => {
    const now = clock.now();
    const a = await s.oncall.addSilence({ host: 'db-.*', from: now, until: now + 2 * HOUR, comment: ' kernel upgrade ', createdBy: 'ops' });
    expect(a).toEqual({ id: a.id, host: 'db-.*', from: now, until: now + 2 * HOUR, comment: 'kernel upgrade', createdBy: 'ops', createdAt: now });
    const b = await s.oncall.addSilence({ subject: 'backup', severity: 'warning', from: now + 5 * HOUR, until: now + 6 * HOUR, comment: 'nightly' });
    const c = await s.oncall.addSilence({ subject: '.*', from: now - 3 * HOUR, until: now - HOUR, comment: 'old' });
    expect((await s.oncall.listSilences()).map((x) => x.id)).toEqual([c.id, a.id, b.id]);
    expect((await s.oncall.listSilences({ endingAfter: now })).map((x) => x.id)).toEqual([a.id, b.id]);
    clock.advance(HOUR);
    expect(await s.oncall.removeSilence(a.id)).toEqual({ ended: true, deleted: false });
    expect((await s.oncall.getSilence(a.id))!.until).toBe(clock.now());
    expect(await s.oncall.removeSilence(b.id)).toEqual({ ended: false, deleted: true });
    expect(await s.oncall.getSilence(b.id)).toBeNull();
    expect(await s.oncall.removeSilence(c.id)).toEqual({ ended: false, deleted: false });
    expect(await s.oncall.removeSilence(999)).toBeNull();
  });

  it('needs a criterion, a comment and an end after the start', async () => {
    const now = clock.now();
    await expect(s.oncall.addSilence({ from: now, until: now + HOUR, comment: 'x' })).rejects.toThrow(/give --host, --subject or --severity/);
    await expect(s.oncall.addSilence({ host: 'a', from: now, until: now + HOUR, comment: '  ' })).rejects.toThrow(/say why/);
    await expect(s.oncall.addSilence({ host: 'a', from: now, until: now, comment: 'x' })).rejects.toThrow(/must end after it starts/);
  });
});

describe('a user\'s address in on-call rows', () => {
  it('referencesTo lists layers, live overrides and policies; renameUser moves them all', async () => {
    const now = clock.now();
    await s.oncall.addLayer('noc', layer());
    await s.oncall.addLayer('noc', layer({ name: 'secondary', members: ['beto@x.example'] }));
    const live = await s.oncall.addOverride({ schedule: 'noc', member: 'ana@x.example', replaces: 'beto@x.example', from: now, to: now + HOUR });
    await s.oncall.addOverride({ schedule: 'noc', member: 'beto@x.example', from: now - 3 * HOUR, to: now - 2 * HOUR });
    await s.oncall.addPolicy(policyFromOptions('boss', ['user:beto@x.example', 'wait:5m', 'user:ana@x.example']));
    expect(await s.oncall.referencesTo('Beto@x.example')).toEqual({ layers: ['noc/primary', 'noc/secondary'], overrides: [live.id], policies: ['boss'] });
    expect(await s.oncall.referencesTo('carla@x.example')).toEqual({ layers: [], overrides: [], policies: [] });
    await s.oncall.renameUser('beto@x.example', 'Bob@x.example');
    expect((await s.oncall.getSchedule('noc'))!.layers.map((l) => l.members)).toEqual([['ana@x.example', 'bob@x.example'], ['bob@x.example']]);
    expect((await s.oncall.getOverride(live.id))!.replaces).toBe('bob@x.example');
    expect((await s.oncall.getPolicy('boss'))!.steps[0]).toEqual({ type: 'notify', target: { type: 'user', user: 'bob@x.example' } });
    expect(await s.oncall.referencesTo('beto@x.example')).toEqual({ layers: [], overrides: [], policies: [] });
  });
});

describe('routingTables', () => {
  it('reads routes, policies, schedules with overrides not over, silences not over, users with groups', async () => {
    const now = clock.now();
    await s.oncall.addLayer('noc', layer());
    await s.oncall.addPolicy(policyFromOptions('noc', ['schedule:noc']));
    await s.oncall.addRoute({ address: 'noc', policy: 'noc' });
    await s.oncall.addOverride({ schedule: 'noc', member: 'carla@x.example', from: now - 2 * HOUR, to: now - HOUR });
    const live = await s.oncall.addOverride({ schedule: 'noc', member: 'carla@x.example', from: now, to: now + HOUR });
    await s.oncall.addSilence({ host: 'x', from: now - 2 * HOUR, until: now - HOUR, comment: 'over' });
    const sil = await s.oncall.addSilence({ host: 'y', from: now, until: now + HOUR, comment: 'on' });
    const t = await s.oncall.routingTables(now);
    expect(t.routes.map((r) => r.address)).toEqual(['noc']);
    expect(t.policies.map((p) => p.name)).toEqual(['noc']);
    expect(t.schedules.map((x) => [x.schedule.name, x.overrides.map((o) => o.id)])).toEqual([['noc', [live.id]]]);
    expect(t.silences.map((x) => x.id)).toEqual([sil.id]);
    expect(t.users).toEqual([{ email: 'ana@x.example', group: null }, { email: 'beto@x.example', group: null }, { email: 'carla@x.example', group: 'dba' }]);
  });
});
});
