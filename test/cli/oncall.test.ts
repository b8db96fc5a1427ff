/**
 * The on-call commands as a user runs them (the built CLI as a subprocess, a temp data dir):
 * oncall, schedules, overrides, policies, routes, silences, with their error paths and exit codes.
 * Madrid: CET +01:00, CEST +02:00 from 2027-03-28 02:00 local.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';

// Each case runs the CLI a dozen times or more; on a loaded machine that can pass the default 30 s.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const tmp = tempDir();
const conf = join(tmp.dir, 'alertline.yaml');
/** The CLI as a child process, awaited (the test worker's event loop stays free meanwhile). */
function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--config', conf, ...args], { env: { ...process.env, ALERTLINE_CONFIG: '', TZ: 'Europe/Madrid' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}
const json = async (...args: string[]) => {
  const r = await run(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};
const [ana, beto, carla, dani] = ['ana@x.example', 'beto@x.example', 'carla@x.example', 'dani@x.example'];

beforeAll(async () => {
  writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\naudioCacheDir: ${join(tmp.dir, 'audio')}\nsmtp: { port: 0 }\n`);
  for (const u of [ana, beto, carla]) expect((await run('users', 'add', u)).code).toBe(0);
  expect((await run('users', 'add', dani, '--group', 'dba')).code).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('schedules and oncall', () => {
  it('adds a daily layer and answers across the Madrid DST change', async () => {
    const add = await run('schedules', 'add', 'noc', '--members', `${ana},${beto}`, '--rotation', 'daily', '--handoff', '08:00', '--tz', 'Europe/Madrid', '--start', '2027-03-20');
    expect(add).toMatchObject({ code: 0, stderr: '' });
    expect(add.stdout).toContain('added schedule noc, layer primary');
    // 2027-03-20 ana, 21 beto, … 27 beto, 28 ana: hand-off at 08:00 CEST on the short night
    const at = await json('oncall', 'noc', '--at', '2027-03-28T08:30');
    expect(at).toMatchObject({ schedule: 'noc', zone: 'Europe/Madrid', at: '2027-03-28T08:30:00+02:00' });
    expect(at.layers).toEqual([expect.objectContaining({ layer: 'primary', member: ana, since: '2027-03-28T08:00:00+02:00', until: '2027-03-29T08:00:00+02:00', override: null })]);
    expect((await json('oncall', 'noc', '--at', '2027-03-28T07:59')).layers[0]).toMatchObject({ member: beto, since: '2027-03-27T08:00:00+01:00' });
    expect((await json('oncall', 'noc', '--at', '2027-03-28T06:30:00Z')).layers[0].member).toBe(ana);
    const text = await run('oncall', 'noc', '--at', '2027-03-28T08:30');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/primary\s+ana@x\.example\s+Sun 2027-03-28 08:00 \+02:00\s+Mon 2027-03-29 08:00 \+02:00/);
  });

  it('a second --layer adds a layer to the same schedule', async () => {
    expect((await run('schedules', 'add', 'noc', '--layer', 'secondary', '--members', `${carla},${beto}`, '--rotation', 'weekly', '--handoff', 'mon 09:00', '--tz', 'Europe/Madrid', '--start', '2027-03-01')).code).toBe(0);
    const list = await json('schedules', 'list');
    expect(list).toHaveLength(1);
    expect(list[0].layers.map((l: { name: string; rotationText: string; handoffText: string }) => [l.name, l.rotationText, l.handoffText])).toEqual([['primary', 'daily', '08:00'], ['secondary', 'weekly', 'mon 09:00']]);
    // weeks from Mon 2027-03-01: carla, beto, carla, beto (22–29 March: beto)
    expect((await json('oncall', 'noc', '--at', '2027-03-28T08:30')).layers.map((l: { member: string }) => l.member)).toEqual([ana, beto]);
    expect((await run('schedules', 'list')).stdout).toMatch(/noc\s+primary\s+ana@x\.example,beto@x\.example\s+daily\s+08:00\s+Europe\/Madrid/);
  });

  it('bad input exits 2 with a message naming it, and stores nothing', async () => {
    const base = ['schedules', 'add', 'web', '--members', ana, '--rotation', 'weekly', '--handoff', 'mon 09:00', '--tz', 'Europe/Madrid'];
    const withFlag = (flag: string, value: string) => { const a = [...base]; a[a.indexOf(flag) + 1] = value; return a; };
    const cases: [string[], string][] = [
      [withFlag('--tz', 'Europe/Madird'), 'unknown time zone "Europe/Madird"'],
      [withFlag('--handoff', 'monday 9am'), 'bad hand-off "monday 9am"'],
      [withFlag('--handoff', 'mon 24:30'), 'bad hand-off "mon 24:30"'],
      [withFlag('--rotation', 'fortnightly'), 'bad rotation "fortnightly"'],
      [withFlag('--members', `${ana},zoe@x.example`), 'no user zoe@x.example'],
      [withFlag('--members', 'not-an-address'), '"not-an-address" is not an e-mail address'],
      [['schedules', 'add', 'noc', '--members', ana, '--rotation', 'daily', '--handoff', '08:00', '--tz', 'UTC'], 'already has a layer primary'],
      [['schedules', 'add', 'web', '--members', ana, '--rotation', 'daily', '--handoff', 'mon 08:00', '--tz', 'UTC'], 'a daily rotation hands off every day'],
      [[...base, '--start', '2027-02-30'], 'start: bad date "2027-02-30"'],
    ];
    for (const [args, message] of cases) {
      expect({ args, ...(await run(...args)) }).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
    }
    expect((await run('schedules', 'add', 'web', '--members', ana)).code).toBe(2); // required flags missing
    expect((await json('schedules', 'list')).map((s: { name: string }) => s.name)).toEqual(['noc']);
  });

  it('show prints the shifts between --from and --to with their real bounds (the 23-hour day)', async () => {
    const r = await json('schedules', 'show', 'noc', '--from', '2027-03-27', '--to', '2027-03-29');
    const primary = r.shifts.filter((x: { layer: string }) => x.layer === 'primary');
    expect(primary.map((x: { member: string; start: string; end: string }) => [x.member, x.start, x.end])).toEqual([
      [ana, '2027-03-26T08:00:00+01:00', '2027-03-27T08:00:00+01:00'],
      [beto, '2027-03-27T08:00:00+01:00', '2027-03-28T08:00:00+02:00'],
      [ana, '2027-03-28T08:00:00+02:00', '2027-03-29T08:00:00+02:00'],
    ]);
    expect((primary[1].endMs - primary[1].startMs) / 3_600_000).toBe(23);
    expect(r.shifts.filter((x: { layer: string }) => x.layer === 'secondary').map((x: { member: string }) => x.member)).toEqual([beto]);
    expect((await run('schedules', 'show', 'noc', '--from', '2027-03-27', '--to', '2027-03-29')).stdout).toMatch(/primary\s+beto@x\.example\s+Sat 2027-03-27 08:00 \+01:00\s+Sun 2027-03-28 08:00 \+02:00/);
    expect(await run('schedules', 'show', 'noc', '--from', '2027-03-29', '--to', '2027-03-27')).toMatchObject({ code: 2, stderr: expect.stringContaining('--to must be after --from') });
    expect((await run('schedules', 'show', 'noc', '--from', '2027-03-29', '--to', '2127-03-27')).code).toBe(2); // too many shifts
    expect(await run('schedules', 'show', 'ghost')).toMatchObject({ code: 1, stderr: expect.stringContaining('no schedule ghost (schedules: noc)') });
    expect((await run('oncall', 'ghost')).code).toBe(1);
    expect(await run('oncall', 'noc', '--at', 'tomorrow')).toMatchObject({ code: 2, stderr: expect.stringContaining('bad time "tomorrow"') });
  });
});

describe('overrides', () => {
  it('an override across a hand-off shows as one piece per shift; overlapping ones are marked, the later wins', async () => {
    const a = await run('overrides', 'add', 'noc', carla, '--from', '2027-03-27T20:00', '--to', '2027-03-28T10:00');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/added override 1: carla@x\.example on call on noc\/primary from Sat 2027-03-27 20:00 \+01:00 to Sun 2027-03-28 10:00 \+02:00 \(instead of beto@x\.example, ana@x\.example\)/);
    expect((await run('overrides', 'add', 'noc', beto, '--from', '2027-03-28T09:00', '--to', '2027-03-28T12:00')).code).toBe(0);
    expect((await run('overrides', 'add', 'noc', ana, '--layer', 'secondary', '--from', '2027-04-01', '--to', '2027-04-02')).code).toBe(0);

    const list = await json('overrides', 'list', '--all');
    expect(list.map((o: { id: number; layer: string; member: string; overlaps: number[] }) => [o.id, o.layer, o.member, o.overlaps])).toEqual([
      [1, 'primary', carla, [2]], [2, 'primary', beto, [1]], [3, 'secondary', ana, []],
    ]);
    expect(list[0]).toMatchObject({ fromIso: '2027-03-27T20:00:00+01:00', toIso: '2027-03-28T10:00:00+02:00' });
    const text = (await run('overrides', 'list', 'noc', '--all')).stdout;
    expect(text).toMatch(/^1\s+noc\s+primary\s+carla@x\.example.*overlaps #2: #2 wins where they overlap$/m);
    expect(text).toMatch(/^2\s+noc\s+primary\s+beto@x\.example.*overlaps #1: this one wins where they overlap$/m);

    const pieces = (await json('schedules', 'show', 'noc', '--from', '2027-03-27T12:00', '--to', '2027-03-28T18:00')).shifts
      .filter((x: { layer: string }) => x.layer === 'primary')
      .map((x: { member: string; start: string; end: string; scheduled: string; override: { id: number } | null }) => [x.member, x.start, x.end, x.scheduled, x.override?.id ?? null]);
    expect(pieces).toEqual([
      [beto, '2027-03-27T08:00:00+01:00', '2027-03-27T20:00:00+01:00', beto, null],
      [carla, '2027-03-27T20:00:00+01:00', '2027-03-28T08:00:00+02:00', beto, 1],
      [carla, '2027-03-28T08:00:00+02:00', '2027-03-28T09:00:00+02:00', ana, 1],
      [beto, '2027-03-28T09:00:00+02:00', '2027-03-28T12:00:00+02:00', ana, 2],
      [ana, '2027-03-28T12:00:00+02:00', '2027-03-29T08:00:00+02:00', ana, null],
    ]);
    const at = (await json('oncall', 'noc', '--at', '2027-03-28T08:30')).layers[0];
    expect(at).toMatchObject({ member: carla, scheduled: ana, override: { id: 1, member: carla }, since: '2027-03-28T08:00:00+02:00', until: '2027-03-28T09:00:00+02:00' });
    expect((await run('oncall', 'noc', '--at', '2027-03-28T08:30')).stdout).toMatch(/primary\s+carla@x\.example.*override #1 instead of ana@x\.example/);
  });

  it('errors: unknown user or layer and a bad interval exit 2, an unknown schedule or id exit 1', async () => {
    expect(await run('overrides', 'add', 'noc', 'zoe@x.example', '--from', '2027-04-01', '--to', '2027-04-02')).toMatchObject({ code: 2, stderr: expect.stringContaining('no user zoe@x.example') });
    expect(await run('overrides', 'add', 'noc', ana, '--layer', 'tertiary', '--from', '2027-04-01', '--to', '2027-04-02')).toMatchObject({ code: 2, stderr: expect.stringContaining('has no layer tertiary (it has primary, secondary)') });
    expect(await run('overrides', 'add', 'noc', ana, '--from', '2027-04-02', '--to', '2027-04-01')).toMatchObject({ code: 2, stderr: expect.stringContaining('--to must be after --from') });
    expect(await run('overrides', 'add', 'noc', ana, '--from', 'soon', '--to', '2027-04-01')).toMatchObject({ code: 2, stderr: expect.stringContaining('bad time "soon"') });
    expect(await run('overrides', 'add', 'noc', ana, '--replaces', dani, '--from', '2027-04-01', '--to', '2027-04-02')).toMatchObject({ code: 2, stderr: expect.stringContaining('dani@x.example is not a member of layer primary') });
    expect((await run('overrides', 'add', 'web', ana, '--from', '2027-04-01', '--to', '2027-04-02')).code).toBe(1);
    expect(await run('overrides', 'remove', '99')).toMatchObject({ code: 1, stderr: expect.stringContaining('no override 99') });
    expect((await run('overrides', 'remove', 'x')).code).toBe(2);
    expect(await json('overrides', 'list', '--all')).toHaveLength(3);
    expect((await run('overrides', 'remove', '3')).code).toBe(0);
    expect(await json('overrides', 'list', '--all')).toHaveLength(2);
    // past overrides are listed with --all only
    expect((await run('overrides', 'add', 'noc', ana, '--from', '2020-01-01', '--to', '2020-01-02')).code).toBe(0);
    expect((await json('overrides', 'list')).map((o: { id: number }) => o.id)).toEqual([1, 2]);
    expect((await json('overrides', 'list', '--all')).map((o: { id: number }) => o.id)).toEqual([1, 2, 4]);
  });
});

describe('policies and routes', () => {
  it('adds, lists and removes policies; bad steps and unknown names exit 2', async () => {
    const add = await run('policies', 'add', 'noc', '--step', 'schedule:noc', '--step', 'wait:10m', '--step', 'schedule:noc/secondary', '--step', 'wait:10m', '--step', 'group:dba', '--step', 'wait:15m', '--repeat', '2');
    expect(add).toMatchObject({ code: 0, stdout: 'added policy noc: schedule:noc → wait:10m → schedule:noc/secondary → wait:10m → group:dba → wait:15m, repeat 2\n' });
    expect((await run('policies', 'add', 'dba', '--step', 'group:dba')).code).toBe(0);
    const list = await json('policies', 'list');
    expect(list.map((p: { name: string; stepsText: string[]; repeat: number }) => [p.name, p.stepsText, p.repeat])).toEqual([
      ['dba', ['group:dba'], 0], ['noc', ['schedule:noc', 'wait:10m', 'schedule:noc/secondary', 'wait:10m', 'group:dba', 'wait:15m'], 2],
    ]);
    const cases: [string[], string][] = [
      [['x', '--step', 'page:noc'], 'unknown kind "page"'],
      [['x', '--step', 'wait:10 minutes'], 'is not a duration'],
      [['x', '--step', 'schedule:noc', '--repeat', '2'], 'a repeating policy must end with a wait step'],
      [['x', '--step', 'schedule:web'], 'no schedule web'],
      [['x', '--step', 'schedule:noc/tertiary'], 'schedule noc has no layer tertiary'],
      [['x', '--step', 'group:web'], 'no group web'],
      [['x', '--step', 'user:zoe@x.example'], 'no user zoe@x.example'],
      [['x', '--step', 'wait:5m'], 'no step notifies anyone'],
      [['x'], 'give its steps'],
      [['noc', '--step', 'group:dba'], 'policy noc already exists'],
    ];
    for (const [args, message] of cases) {
      expect({ args, ...(await run('policies', 'add', ...args)) }).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
    }
    expect(await run('policies', 'remove', 'ghost')).toMatchObject({ code: 1, stderr: expect.stringContaining('no policy ghost') });
    expect(await run('schedules', 'remove', 'noc')).toMatchObject({ code: 2, stderr: expect.stringContaining('schedule noc is used by policy noc') });
  });

  it('routes: added in order or at a position, listed, explained, removed', async () => {
    expect((await run('routes', 'add', 'noc', '--policy', 'noc')).stdout).toBe('added route 1 (position 1): noc@… → policy noc\n');
    expect((await run('routes', 'add', 'noc@alerts.example', '--policy', 'dba', '--host', 'db-.*', '--position', '1')).stdout).toBe('added route 2 (position 1): noc@… → policy dba for host db-.*\n');
    expect((await json('routes', 'list')).map((r: { id: number; position: number; address: string; policy: string }) => [r.id, r.position, r.address, r.policy])).toEqual([[2, 1, 'noc', 'dba'], [1, 2, 'noc', 'noc']]);
    expect((await run('routes', 'list')).stdout).toMatch(/^1\s+2\s+noc@\s+dba\s+db-\.\*$/m);

    const db = await json('routes', 'explain', 'noc@alerts.example', '--host', 'db-01');
    expect(db).toMatchObject({ decision: 'policy', via: 'route', route: 2, policy: 'dba', firstNotified: [dani] });
    const web = await json('routes', 'explain', 'NOC@alerts.example', '--host', 'mydb-01', '--at', '2027-03-28T08:30');
    expect(web).toMatchObject({ decision: 'policy', route: 1, policy: 'noc', firstNotified: [carla], repeat: 2 }); // carla's override
    expect(await json('routes', 'explain', 'ana@x.example')).toMatchObject({ via: 'user', policy: ana, firstNotified: [ana] });
    expect(await json('routes', 'explain', 'dba@x.example')).toMatchObject({ via: 'group', firstNotified: [dani] });
    expect(await run('routes', 'explain', 'sales@x.example')).toMatchObject({ code: 1, stdout: 'no route, user or group for sales@x.example\n' });

    expect(await run('routes', 'add', 'noc', '--policy', 'ghost')).toMatchObject({ code: 2, stderr: expect.stringContaining('no policy ghost') });
    expect(await run('routes', 'add', 'noc', '--policy', 'noc', '--host', '(db')).toMatchObject({ code: 2, stderr: expect.stringContaining('host: bad regular expression "(db"') });
    expect(await run('routes', 'add', 'noc', '--policy', 'noc', '--subject', '(a)\\1')).toMatchObject({ code: 2, stderr: expect.stringContaining('subject: bad regular expression') });
    expect(await run('routes', 'add', 'noc', '--policy', 'noc', '--severity', 'urgent')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown severity "urgent"') });
    expect(await run('routes', 'add', 'no c', '--policy', 'noc')).toMatchObject({ code: 2, stderr: expect.stringContaining('invalid route address') });
    expect(await run('policies', 'remove', 'dba')).toMatchObject({ code: 2, stderr: expect.stringContaining('policy dba is used by route 2') });
    expect((await run('routes', 'remove', '2')).code).toBe(0);
    expect(await run('routes', 'remove', '2')).toMatchObject({ code: 1, stderr: expect.stringContaining('no route 2') });
    expect((await run('policies', 'remove', 'dba')).code).toBe(0);
    expect((await json('policies', 'list')).map((p: { name: string; routes: number[] }) => [p.name, p.routes])).toEqual([['noc', [1]]]);
  });
});

describe('silences', () => {
  it('adds with --for or --until, lists, explains a silenced alert, ends it', async () => {
    const before = Date.now();
    const add = await run('silences', 'add', '--host', 'db-.*', '--for', '2h', '--comment', 'kernel upgrade');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^added silence 1: host db-\.\* from .* until .* \(kernel upgrade\)$/m);
    expect((await run('silences', 'add', '--subject', 'backup', '--severity', 'warning', '--from', '2099-01-01T00:00', '--until', '2099-01-01T06:00', '--tz', 'America/New_York', '--comment', 'nightly')).code).toBe(0);
    const list = await json('silences', 'list');
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ id: 1, host: 'db-.*', state: 'active', comment: 'kernel upgrade' });
    expect(list[0].until - list[0].from).toBe(2 * 3_600_000);
    expect(list[0].from).toBeGreaterThanOrEqual(before);
    expect(list[1]).toMatchObject({ id: 2, subject: 'backup', severity: 'warning', state: 'scheduled', from: Date.parse('2099-01-01T05:00:00Z'), until: Date.parse('2099-01-01T11:00:00Z') });
    expect((await run('silences', 'list')).stdout).toMatch(/^1\s+active\s+.*db-\.\*.*kernel upgrade$/m);

    expect((await run('routes', 'add', 'noc', '--policy', 'noc', '--host', 'db-.*', '--position', '1')).code).toBe(0);
    const ex = await json('routes', 'explain', 'noc@alerts.example', '--host', 'db-01');
    expect(ex).toMatchObject({ decision: 'silenced', policy: 'noc', silence: { id: 1, comment: 'kernel upgrade', untilMs: list[0].until } });
    expect((await run('routes', 'explain', 'noc@alerts.example', '--host', 'db-01')).stdout).toMatch(/^silenced by silence 1 \(kernel upgrade\) until /);

    expect((await run('silences', 'remove', '1')).stdout).toBe('ended silence 1 now\n');
    expect((await json('routes', 'explain', 'noc@alerts.example', '--host', 'db-01')).decision).toBe('policy');
    expect((await run('silences', 'remove', '2')).stdout).toBe('removed silence 2 (it had not started)\n');
    expect(await json('silences', 'list')).toEqual([]);
    expect((await json('silences', 'list', '--all')).map((s: { id: number; state: string }) => [s.id, s.state])).toEqual([[1, 'over']]);
    expect(await run('silences', 'remove', '7')).toMatchObject({ code: 1, stderr: expect.stringContaining('no silence 7') });
  });

  it('bad input exits 2 naming the flag', async () => {
    const cases: [string[], string][] = [
      [['--host', 'db', '--comment', 'x'], 'give exactly one of --for DURATION or --until TIME'],
      [['--host', 'db', '--for', '2h', '--until', '2099-01-01', '--comment', 'x'], 'give exactly one of --for'],
      [['--for', '2h', '--comment', 'x'], 'give --host, --subject or --severity'],
      [['--host', 'db', '--for', '2 hours', '--comment', 'x'], 'for: bad duration "2 hours"'],
      [['--host', 'db', '--until', '2001-01-01T00:00', '--comment', 'x'], 'is not after the start'],
      [['--host', '(db', '--for', '2h', '--comment', 'x'], 'host: bad regular expression "(db"'],
      [['--severity', 'loud', '--for', '2h', '--comment', 'x'], 'unknown severity "loud"'],
      [['--host', 'db', '--for', '2h', '--comment', 'x', '--tz', 'Nowhere/City'], 'unknown time zone "Nowhere/City"'],
      [['--host', 'db', '--for', '2h', '--comment', ' '], 'comment: say why'],
    ];
    for (const [args, message] of cases) {
      expect({ args, ...(await run('silences', 'add', ...args)) }).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
    }
    expect((await run('silences', 'add', '--host', 'db', '--for', '2h')).code).toBe(2); // --comment is required
    expect(await json('silences', 'list', '--all')).toHaveLength(1);
  });
});

describe('removing', () => {
  it('a layer, then the schedule once no policy uses it', async () => {
    expect(await run('schedules', 'remove', 'noc', '--layer', 'tertiary')).toMatchObject({ code: 1, stderr: expect.stringContaining('no layer tertiary in schedule noc') });
    expect(await run('schedules', 'remove', 'noc', '--layer', 'secondary')).toMatchObject({ code: 2, stderr: expect.stringContaining('layer secondary is used by policy noc') });
    for (const id of (await json('routes', 'list')).map((r: { id: number }) => String(r.id))) expect((await run('routes', 'remove', id)).code).toBe(0);
    expect((await run('policies', 'remove', 'noc')).code).toBe(0);
    expect((await run('schedules', 'remove', 'noc', '--layer', 'secondary')).stdout).toBe('removed layer secondary of schedule noc\n');
    expect((await json('schedules', 'list'))[0].layers.map((l: { name: string }) => l.name)).toEqual(['primary']);
    expect((await run('schedules', 'remove', 'noc')).stdout).toBe('removed schedule noc\n');
    expect(await run('schedules', 'remove', 'noc')).toMatchObject({ code: 1, stderr: expect.stringContaining('no schedule noc') });
    expect(await json('oncall')).toEqual([]);
    expect((await run('oncall')).stdout).toContain('no schedules');
    expect(await json('overrides', 'list', '--all')).toEqual([]);
  });
});
