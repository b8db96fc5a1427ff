/** alertline oncall, schedules, overrides: who is on call, the rotations, and who covers for whom. */
import type { Command } from 'commander';

import { withStores, printJson, table, parseId, CliError, type GlobalOpts, printText } from './context.js';
import { act, isoTime, operator, showTime } from './oncall-common.js';
import {
  firstHandoff, formatHandoff, formatRotation, layerFromOptions, parseInstant, shifts, whoIsOnCall,
  type OnCall, type Override, type Shift,
} from '../core/oncall/index.js';
import type { OverrideRecord, ScheduleRecord } from '../store/oncall.js';
import type { Stores } from '../store/index.js';

const DAY = 86_400_000;

function zoneOf(s: ScheduleRecord): string {
  return s.layers[0]?.zone ?? 'UTC';
}

async function scheduleOrFail(stores: Stores, name: string): Promise<ScheduleRecord> {
  const s = await stores.oncall.getSchedule(name);
  if (!s) {
    const all = (await stores.oncall.listSchedules()).map((x) => x.name);
    throw new CliError(`no schedule ${name}${all.length ? ` (schedules: ${all.join(', ')})` : ' (add one with: alertline schedules add <name> --members ...)'}`, 1);
  }
  return s;
}

function overrideNote(o: Override | undefined, scheduled: string | null): string {
  if (!o) return '';
  return `override #${o.id}${scheduled ? ` instead of ${scheduled}` : ''}`;
}

function onCallJson(s: ScheduleRecord, at: number, list: OnCall[]) {
  const zone = zoneOf(s);
  return {
    schedule: s.name, zone, at: isoTime(at, zone), atMs: at,
    layers: list.map((o) => ({
      layer: o.layer, member: o.member, scheduled: o.scheduled,
      since: isoTime(o.shiftStart, zone), until: isoTime(o.shiftEnd, zone), sinceMs: o.shiftStart ?? null, untilMs: o.shiftEnd,
      override: o.override ? { id: o.override.id, member: o.override.member, replaces: o.override.replaces ?? null } : null,
    })),
  };
}

function shiftJson(x: Shift, zone: string) {
  return {
    layer: x.layer, member: x.member, scheduled: x.scheduled, start: isoTime(x.start, zone), end: isoTime(x.end, zone), startMs: x.start, endMs: x.end,
    override: x.override ? { id: x.override.id, member: x.override.member, replaces: x.override.replaces ?? null } : null,
  };
}

function layerJson(s: ScheduleRecord) {
  return s.layers.map((l) => ({ ...l, rotationText: formatRotation(l.rotation), handoffText: formatHandoff(l.handoff), firstHandoff: isoTime(firstHandoff(l), l.zone) }));
}

export function registerOncall(program: Command, g: () => GlobalOpts): void {
  program.command('oncall [schedule]').description('who is on call now (or at --at), per layer')
    .option('--at <time>', 'ISO time; without an offset it is local time in the schedule\'s (first layer\'s) zone, e.g. 2027-03-28T08:30')
    .option('--json', 'machine-readable output')
    .action(act(async (name: string | undefined, f: { at?: string; json?: boolean }) => {
      const now = Date.now();
      const out = await withStores(g(), async ({ stores }) => {
        const list = name !== undefined ? [await scheduleOrFail(stores, name)] : await stores.oncall.listSchedules();
        const res = [];
        for (const s of list) {
          const at = f.at !== undefined ? parseInstant(f.at, zoneOf(s), 'at') : now;
          res.push({ s, at, who: whoIsOnCall(s, await stores.oncall.overrides({ schedule: s.name }), at) });
        }
        return res;
      });
      if (f.json) return printJson(name !== undefined ? onCallJson(out[0]!.s, out[0]!.at, out[0]!.who) : out.map((x) => onCallJson(x.s, x.at, x.who)));
      if (!out.length) return printText('no schedules (add one with: alertline schedules add noc --members a@x,b@x --rotation weekly --handoff "mon 09:00" --tz Europe/Madrid)');
      out.forEach((x, i) => {
        const zone = zoneOf(x.s);
        if (i > 0) printText('');
        printText(`${x.s.name} at ${showTime(x.at, zone)} (${zone})`);
        printText(table(x.who.map((o) => [
          o.layer, o.member ?? '(nobody: rotation not started)', o.shiftStart !== undefined ? showTime(o.shiftStart, zone) : '', showTime(o.shiftEnd, zone), overrideNote(o.override, o.scheduled),
        ]), ['LAYER', 'ON CALL', 'SINCE', 'UNTIL', 'NOTE']));
      });
    }));
}

export function registerSchedules(program: Command, g: () => GlobalOpts): void {
  const sc = program.command('schedules').description('on-call rotations: layers (primary, secondary, ...) of members handing off at a local time');
  sc.command('add <name>').description('add a schedule, or another layer to an existing one (--layer secondary)')
    .requiredOption('--members <a@x,b@x>', 'users in rotation order')
    .requiredOption('--rotation <daily|weekly|Nd>', 'shift length: daily, weekly or a number of days (3d)')
    .requiredOption('--handoff <"mon 09:00">', 'hand-off weekday and local time ("mon 09:00"), or just the time for daily rotations ("09:00")')
    .requiredOption('--tz <zone>', 'IANA time zone of the hand-off time, e.g. Europe/Madrid')
    .option('--layer <name>', 'layer name', 'primary')
    .option('--start <date>', 'first hand-off at or after this local date/time (default: the latest hand-off, so the first member is on call now)')
    .action(act(async (name: string, f: { members: string; rotation: string; handoff: string; tz: string; layer: string; start?: string }) => {
      const layer = layerFromOptions({ layer: f.layer, members: f.members, rotation: f.rotation, handoff: f.handoff, tz: f.tz, ...(f.start !== undefined ? { start: f.start } : {}) }, Date.now());
      const r = await withStores(g(), ({ stores }) => stores.oncall.addLayer(name, layer));
      const l = r.schedule.layers.find((x) => x.name.toLowerCase() === layer.name.toLowerCase())!;
      printText(`${r.created ? 'added schedule' : 'added to schedule'} ${r.schedule.name}, layer ${l.name}: ${l.members.join(', ')}, ${formatRotation(l.rotation)} hand-off ${formatHandoff(l.handoff)} ${l.zone}, first hand-off ${showTime(firstHandoff(l), l.zone)}`);
    }));

  sc.command('list').description('schedules, their layers and who is on call now').option('--json', 'machine-readable output')
    .action(act(async (f: { json?: boolean }) => {
      const now = Date.now();
      const rows = await withStores(g(), async ({ stores }) => {
        const out = [];
        for (const s of await stores.oncall.listSchedules()) out.push({ s, who: whoIsOnCall(s, await stores.oncall.overrides({ schedule: s.name, endingAfter: now }), now) });
        return out;
      });
      if (f.json) return printJson(rows.map(({ s, who }) => ({ name: s.name, layers: layerJson(s), onCall: onCallJson(s, now, who).layers })));
      if (!rows.length) return printText('no schedules (add one with: alertline schedules add noc --members a@x,b@x --rotation weekly --handoff "mon 09:00" --tz Europe/Madrid)');
      printText(table(rows.flatMap(({ s, who }) => s.layers.map((l, i) => [
        i === 0 ? s.name : '', l.name, l.members.join(','), formatRotation(l.rotation), formatHandoff(l.handoff), l.zone, who[i]?.member ?? '(nobody)',
      ])), ['SCHEDULE', 'LAYER', 'MEMBERS', 'ROTATION', 'HANDOFF', 'TZ', 'ON CALL NOW']));
    }));

  sc.command('show <name>').description('a schedule\'s layers and its shifts between --from and --to (default: the next 14 days)')
    .option('--from <date>', 'start (local date or time in the schedule\'s zone, or ISO with offset); default now')
    .option('--to <date>', 'end, exclusive; default 14 days after --from')
    .option('--json', 'machine-readable output')
    .action(act(async (name: string, f: { from?: string; to?: string; json?: boolean }) => {
      const now = Date.now();
      const r = await withStores(g(), async ({ stores }) => {
        const s = await scheduleOrFail(stores, name);
        return { s, overrides: await stores.oncall.overrides({ schedule: s.name }) };
      });
      const zone = zoneOf(r.s);
      const from = f.from !== undefined ? parseInstant(f.from, zone, 'from') : now;
      const to = f.to !== undefined ? parseInstant(f.to, zone, 'to') : from + 14 * DAY;
      if (!(from < to)) throw new CliError(`--to must be after --from`, 2);
      const list = shifts(r.s, r.overrides, from, to);
      if (f.json) return printJson({ name: r.s.name, zone, from: isoTime(from, zone), to: isoTime(to, zone), layers: layerJson(r.s), shifts: list.map((x) => shiftJson(x, zone)) });
      printText(`schedule ${r.s.name}`);
      for (const l of r.s.layers) printText(`  ${l.name}: ${l.members.join(', ')}; ${formatRotation(l.rotation)}, hand-off ${formatHandoff(l.handoff)} ${l.zone}, first ${showTime(firstHandoff(l), l.zone)}`);
      printText(`\nshifts from ${showTime(from, zone)} to ${showTime(to, zone)}:`);
      if (!list.length) return printText('  (nobody on call in this interval)');
      printText(table(list.map((x) => [x.layer, x.member, showTime(x.start, zone), showTime(x.end, zone), overrideNote(x.override, x.scheduled)]), ['LAYER', 'MEMBER', 'FROM', 'TO', 'NOTE']));
    }));

  sc.command('remove <name>').description('remove a schedule (or one layer of it, with its overrides)')
    .option('--layer <name>', 'only this layer')
    .action(act(async (name: string, f: { layer?: string }) => {
      const ok = await withStores(g(), ({ stores }) => stores.oncall.removeSchedule(name, f.layer));
      if (!ok) throw new CliError(f.layer !== undefined ? `no layer ${f.layer} in schedule ${name}` : `no schedule ${name}`, 1);
      printText(f.layer !== undefined ? `removed layer ${f.layer} of schedule ${name}` : `removed schedule ${name}`);
    }));
}

/** Overrides whose time and layer overlap, each with the ids it overlaps (the later one wins). */
function overlaps(list: OverrideRecord[], schedules: Map<string, ScheduleRecord>): Map<number, number[]> {
  const layerOf = (o: OverrideRecord) => (o.layer ?? schedules.get(o.schedule)?.layers[0]?.name ?? '').toLowerCase();
  const out = new Map<number, number[]>();
  for (const a of list) {
    out.set(a.id, list.filter((b) => b.id !== a.id && b.schedule === a.schedule && layerOf(b) === layerOf(a) && b.from < a.to && a.from < b.to).map((b) => b.id));
  }
  return out;
}

export function registerOverrides(program: Command, g: () => GlobalOpts): void {
  const ov = program.command('overrides').description('someone else on call for a while (swaps, cover)');
  ov.command('add <schedule> <email>').description('put <email> on call on the schedule from --from to --to')
    .requiredOption('--from <time>', 'start: ISO time, local in the layer\'s zone without an offset (2027-03-30T18:00)')
    .requiredOption('--to <time>', 'end (exclusive)')
    .option('--layer <name>', 'layer (default: the first)')
    .option('--replaces <email>', 'only while this member would be on call')
    .action(act(async (schedule: string, email: string, f: { from: string; to: string; layer?: string; replaces?: string }) => {
      const r = await withStores(g(), async ({ stores }) => {
        const s = await scheduleOrFail(stores, schedule);
        const layer = f.layer !== undefined ? s.layers.find((l) => l.name.toLowerCase() === f.layer!.toLowerCase()) : s.layers[0];
        if (!layer) throw new CliError(`schedule ${s.name} has no layer ${f.layer} (it has ${s.layers.map((l) => l.name).join(', ')})`, 2);
        const from = parseInstant(f.from, layer.zone, 'from');
        const to = parseInstant(f.to, layer.zone, 'to');
        if (!(from < to)) throw new CliError('--to must be after --from', 2);
        const before = shifts(s, await stores.oncall.overrides({ schedule: s.name }), from, to, { layers: [layer.name] });
        const o = await stores.oncall.addOverride({
          schedule: s.name, member: email, from, to, createdBy: operator(),
          ...(f.layer !== undefined ? { layer: layer.name } : {}), ...(f.replaces !== undefined ? { replaces: f.replaces } : {}),
        });
        return { o, s, layer, before };
      });
      const covered = [...new Set(r.before.filter((x) => f.replaces === undefined || x.member === r.o.replaces).map((x) => x.member))].filter((m) => m !== r.o.member);
      printText(`added override ${r.o.id}: ${r.o.member} on call on ${r.s.name}/${r.layer.name} from ${showTime(r.o.from, r.layer.zone)} to ${showTime(r.o.to, r.layer.zone)}${covered.length ? ` (instead of ${covered.join(', ')})` : ''}`);
    }));

  ov.command('list [schedule]').description('overrides not over yet (--all: also past ones); overlapping ones are marked').option('--all', 'include past overrides').option('--json', 'machine-readable output')
    .action(act(async (schedule: string | undefined, f: { all?: boolean; json?: boolean }) => {
      const now = Date.now();
      const r = await withStores(g(), async ({ stores }) => {
        const schedules = new Map((await stores.oncall.listSchedules()).map((s) => [s.name, s]));
        const name = schedule !== undefined ? (await scheduleOrFail(stores, schedule)).name : undefined;
        const list = await stores.oncall.overrides({ ...(name !== undefined ? { schedule: name } : {}), ...(f.all ? {} : { endingAfter: now }) });
        return { schedules, list };
      });
      const over = overlaps(r.list, r.schedules);
      const zoneFor = (o: OverrideRecord) => {
        const s = r.schedules.get(o.schedule);
        return (o.layer !== undefined ? s?.layers.find((l) => l.name === o.layer)?.zone : undefined) ?? s?.layers[0]?.zone ?? 'UTC';
      };
      const note = (o: OverrideRecord) => {
        const ids = over.get(o.id) ?? [];
        if (!ids.length) return '';
        const later = ids.filter((i) => i > o.id);
        return `overlaps ${ids.map((i) => `#${i}`).join(', ')}: ${later.length ? `#${Math.max(...later)} wins where they overlap` : 'this one wins where they overlap'}`;
      };
      if (f.json) {
        return printJson(r.list.map((o) => ({
          ...o, layer: o.layer ?? r.schedules.get(o.schedule)?.layers[0]?.name ?? null, fromIso: isoTime(o.from, zoneFor(o)), toIso: isoTime(o.to, zoneFor(o)),
          overlaps: over.get(o.id) ?? [], active: o.from <= now && now < o.to,
        })));
      }
      if (!r.list.length) return printText('no overrides (add one with: alertline overrides add <schedule> <email> --from ISO --to ISO)');
      printText(table(r.list.map((o) => [
        o.id, o.schedule, o.layer ?? r.schedules.get(o.schedule)?.layers[0]?.name, o.member, o.replaces ?? '(whoever is on call)',
        showTime(o.from, zoneFor(o)), showTime(o.to, zoneFor(o)), note(o),
      ]), ['ID', 'SCHEDULE', 'LAYER', 'MEMBER', 'REPLACES', 'FROM', 'TO', 'NOTE']));
    }));

  ov.command('remove <id>').description('remove an override').action(act(async (idText: string) => {
    const id = parseId(idText);
    const ok = await withStores(g(), ({ stores }) => stores.oncall.removeOverride(id));
    if (!ok) throw new CliError(`no override ${id}`, 1);
    printText(`removed override ${id}`);
  }));
}
