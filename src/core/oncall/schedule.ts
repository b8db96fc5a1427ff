/**
 * On-call schedules: who is on call at an instant, and the shifts over an interval. Pure.
 *
 * A schedule has layers (primary, secondary, …). A layer is a rotation of members handing off at
 * a LOCAL time of day (optionally on a weekday) in its IANA zone, every day, every week or every
 * N days. Hand-offs follow the wall clock across DST changes: a week that contains a change is
 * still one week from Monday 09:00 to Monday 09:00 (167 or 169 real hours).
 *
 * The rotation's first hand-off (member 0 starts) is the first hand-off time at or after the
 * layer's `start` (a local date means its midnight). Before it the layer has nobody, unless an
 * override covers it. `layerFromOptions` without a start picks the latest hand-off before now,
 * so a new layer has member 0 on call at once.
 *
 * Shift k starts on calendar day anchorDate + k·length at the hand-off time: finding the shift of
 * an instant is arithmetic (a year-2100 instant costs the same as tomorrow's).
 *
 * Overrides replace whoever is on call on a layer for [from, to), or, when `replaces` names a
 * member, only while that member would be on call. When overrides overlap, the later one in the
 * list wins (pass them in creation order). An override that spans a hand-off is reported as one
 * piece per shift it covers, each naming the member it replaces.
 */
import { DateTime } from 'luxon';
import {
  OncallInputError, addDays, bounded, daysBetween, formatTimeOfDay, localInstant, localParts, parseInstant,
  parseTimeOfDay, parseZone, weekdayOf, weekdayOfDate, WEEKDAY_NAMES, type LocalDate, type Weekday,
} from './time.js';

export type Rotation = { kind: 'daily' } | { kind: 'weekly' } | { kind: 'days'; days: number };

export interface Handoff {
  /** Weekday of the first hand-off (weekly and N-day rotations); absent: the start date's. */
  weekday?: Weekday;
  /** Local time of day, minutes after midnight. */
  minute: number;
}

export interface Layer {
  name: string;
  /** Members in rotation order (e-mail addresses). */
  members: string[];
  rotation: Rotation;
  handoff: Handoff;
  /** Local "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" in `zone` (or an ISO instant with offset). */
  start: string;
  /** IANA zone name. */
  zone: string;
}

export interface Schedule {
  name: string;
  layers: Layer[];
}

export interface Override {
  id?: string | number;
  /** Layer name; absent: the schedule's first layer. */
  layer?: string;
  /** Who is on call instead. */
  member: string;
  /** Only replace this member (while they would be on call); absent: whoever is on call. */
  replaces?: string;
  /** [from, to) in epoch ms. */
  from: number;
  to: number;
}

/** One stretch of one layer with one person on call. */
export interface Shift {
  layer: string;
  member: string;
  start: number;
  end: number;
  /** Who the rotation has on call here (differs from `member` under an override; null before the rotation starts). */
  scheduled: string | null;
  override?: Override;
}

export interface OnCall {
  layer: string;
  /** Null: nobody on this layer at that instant (before the rotation's first hand-off). */
  member: string | null;
  /** The stretch `member` is on call in (undefined start: open towards the past). */
  shiftStart?: number;
  shiftEnd: number;
  scheduled: string | null;
  override?: Override;
}

export const MAX_MEMBERS = 200;
export const MAX_LAYERS = 20;
export const MAX_ROTATION_DAYS = 3650;
/** Most base shifts one `shifts` call walks per layer (the CLI's --from/--to must stay sensible). */
export const DEFAULT_SHIFT_LIMIT = 20_000;

export function rotationDays(r: Rotation): number {
  return r.kind === 'daily' ? 1 : r.kind === 'weekly' ? 7 : r.days;
}

// ---------------------------------------------------------------------------------------------
// Parsing the CLI spellings

/** `--rotation daily|weekly|<N>d|<N>w`. */
export function parseRotation(input: string, field = 'rotation'): Rotation {
  const s = bounded(field, input, 16).toLowerCase();
  if (s === 'daily' || s === '1d') return { kind: 'daily' };
  if (s === 'weekly' || s === '7d' || s === '1w') return { kind: 'weekly' };
  const m = /^(\d{1,4})\s*(d|w)$/.exec(s);
  const days = m ? Number(m[1]) * (m[2] === 'w' ? 7 : 1) : NaN;
  if (!m || days < 1 || days > MAX_ROTATION_DAYS) {
    throw new OncallInputError(field, input, `${field}: bad rotation ${JSON.stringify(input)} (write daily, weekly or a number of days such as 3d or 2w, at most ${MAX_ROTATION_DAYS}d)`);
  }
  return { kind: 'days', days };
}

export function formatRotation(r: Rotation): string {
  return r.kind === 'days' ? `${r.days}d` : r.kind;
}

/** `--handoff "mon 09:00"` (weekday and time) or `--handoff 09:00`. */
export function parseHandoff(input: string, field = 'handoff'): Handoff {
  const s = bounded(field, input, 32);
  const bad = (why: string) => new OncallInputError(field, input, `${field}: bad hand-off ${JSON.stringify(input)}: ${why} (write "mon 09:00" or "09:00")`);
  const parts = s.split(/\s+/);
  if (parts.length > 2 || parts[0] === '') throw bad('expected a weekday and a time, or a time');
  let weekday: Weekday | undefined;
  if (parts.length === 2) {
    weekday = weekdayOf(parts[0]!);
    if (weekday === undefined) throw bad(`${JSON.stringify(parts[0])} is not a weekday`);
  }
  const time = parts[parts.length - 1]!;
  let minute: number;
  try {
    minute = parseTimeOfDay(time, field);
  } catch {
    throw bad(`${JSON.stringify(time)} is not a time of day HH:MM`);
  }
  return weekday === undefined ? { minute } : { weekday, minute };
}

export function formatHandoff(h: Handoff): string {
  const t = formatTimeOfDay(h.minute);
  return h.weekday ? `${WEEKDAY_NAMES[h.weekday - 1]} ${t}` : t;
}

const EMAIL_RE = /^[^\s@,]{1,64}@[^\s@,]{1,190}$/;

/** `--members a@x,b@x` → ["a@x", "b@x"]. */
export function parseMembers(input: string, field = 'members'): string[] {
  const s = bounded(field, input, 64 * 256);
  const members = s.split(',').map((m) => m.trim()).filter((m) => m !== '');
  if (members.length === 0) throw new OncallInputError(field, input, `${field}: no members given (write a@example.com,b@example.com)`);
  if (members.length > MAX_MEMBERS) throw new OncallInputError(field, input, `${field}: more than ${MAX_MEMBERS} members`);
  for (const m of members) {
    if (!EMAIL_RE.test(m)) throw new OncallInputError(field, input, `${field}: ${JSON.stringify(m)} is not an e-mail address`);
  }
  return members;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Schedule and layer names: letters, digits, ".", "_", "-" (they appear in step spellings). */
export function parseName(input: string, field: string): string {
  const s = bounded(field, input, 64);
  if (!NAME_RE.test(s)) throw new OncallInputError(field, input, `${field}: bad name ${JSON.stringify(input)} (letters, digits, ".", "_" and "-", at most 64)`);
  return s;
}

export interface LayerOptions {
  layer?: string;
  members: string;
  rotation: string;
  handoff: string;
  tz: string;
  start?: string;
}

/**
 * A layer from the CLI's flags (`schedules add`). Without `start`, the start is the latest
 * hand-off time (on the hand-off weekday, if given) at or before `now`, so member 0 is on call now
 * (for N-day rotations with a weekday: member 0 began on that weekday).
 */
export function layerFromOptions(o: LayerOptions, now: number): Layer {
  const name = parseName(o.layer ?? 'primary', 'layer');
  const members = parseMembers(o.members);
  const rotation = parseRotation(o.rotation);
  const handoff = parseHandoff(o.handoff);
  const zone = parseZone(o.tz);
  if (rotation.kind === 'daily' && handoff.weekday !== undefined) {
    throw new OncallInputError('handoff', o.handoff, `handoff: a daily rotation hands off every day; give the time only (e.g. "${formatTimeOfDay(handoff.minute)}"), not ${JSON.stringify(o.handoff)}`);
  }
  let start: string;
  if (o.start !== undefined) {
    const s = bounded('start', o.start, 40);
    parseInstant(s, zone, 'start');
    start = s;
  } else {
    // The latest instant at or before now that can be a first hand-off (hand-off time, on the
    // hand-off weekday when one is given): member 0's shift then contains now (for weekly and
    // daily rotations, and N-day ones without a weekday).
    let { date } = localParts(now, zone);
    const wd = handoff.weekday;
    if (wd !== undefined) date = addDays(date, -((weekdayOfDate(date) - wd + 7) % 7));
    if (localInstant(date, handoff.minute, zone) > now) date = addDays(date, wd !== undefined ? -7 : -1);
    start = DateTime.fromMillis(localInstant(date, handoff.minute, zone), { zone }).toFormat("yyyy-LL-dd'T'HH:mm");
  }
  const layer: Layer = { name, members, rotation, handoff, zone, start };
  validateLayer(layer);
  return layer;
}

// ---------------------------------------------------------------------------------------------
// Validation

export function validateLayer(l: Layer): void {
  parseName(l.name, 'layer');
  if (!Array.isArray(l.members) || l.members.length === 0) throw new OncallInputError('members', '', `layer ${l.name}: no members`);
  if (l.members.length > MAX_MEMBERS) throw new OncallInputError('members', '', `layer ${l.name}: more than ${MAX_MEMBERS} members`);
  const days = rotationDays(l.rotation);
  if (!Number.isInteger(days) || days < 1 || days > MAX_ROTATION_DAYS) throw new OncallInputError('rotation', String(days), `layer ${l.name}: rotation length ${days} days is not 1 … ${MAX_ROTATION_DAYS}`);
  if (!Number.isInteger(l.handoff.minute) || l.handoff.minute < 0 || l.handoff.minute >= 1440) throw new OncallInputError('handoff', String(l.handoff.minute), `layer ${l.name}: bad hand-off time`);
  if (l.handoff.weekday !== undefined && !(Number.isInteger(l.handoff.weekday) && l.handoff.weekday >= 1 && l.handoff.weekday <= 7)) {
    throw new OncallInputError('handoff', String(l.handoff.weekday), `layer ${l.name}: bad hand-off weekday`);
  }
  if (l.rotation.kind === 'daily' && l.handoff.weekday !== undefined) throw new OncallInputError('handoff', formatHandoff(l.handoff), `layer ${l.name}: a daily rotation takes no hand-off weekday`);
  parseZone(l.zone);
  parseInstant(l.start, l.zone, 'start');
}

export function validateSchedule(s: Schedule): void {
  parseName(s.name, 'schedule');
  if (s.layers.length === 0) throw new OncallInputError('layer', '', `schedule ${s.name}: no layers`);
  if (s.layers.length > MAX_LAYERS) throw new OncallInputError('layer', '', `schedule ${s.name}: more than ${MAX_LAYERS} layers`);
  const seen = new Set<string>();
  for (const l of s.layers) {
    validateLayer(l);
    if (seen.has(l.name)) throw new OncallInputError('layer', l.name, `schedule ${s.name}: layer ${l.name} appears twice`);
    seen.add(l.name);
  }
}

/** Checks an override against its schedule (the layer must exist, from before to). */
export function validateOverride(s: Schedule, o: Override): void {
  if (!Number.isFinite(o.from) || !Number.isFinite(o.to) || o.from >= o.to) {
    throw new OncallInputError('to', String(o.to), `override: --from must be before --to`);
  }
  if (!EMAIL_RE.test(o.member)) throw new OncallInputError('member', o.member, `override: ${JSON.stringify(o.member)} is not an e-mail address`);
  if (o.replaces !== undefined && !EMAIL_RE.test(o.replaces)) throw new OncallInputError('replaces', o.replaces, `override: ${JSON.stringify(o.replaces)} is not an e-mail address`);
  if (o.layer !== undefined && !s.layers.some((l) => l.name === o.layer)) {
    throw new OncallInputError('layer', o.layer, `override: schedule ${s.name} has no layer ${JSON.stringify(o.layer)} (it has ${s.layers.map((l) => l.name).join(', ')})`);
  }
}

// ---------------------------------------------------------------------------------------------
// The rotation as arithmetic

interface CompiledLayer {
  layer: Layer;
  zone: string;
  lenDays: number;
  minute: number;
  /** Calendar date of shift 0's hand-off. */
  anchorDate: LocalDate;
  /** Instant of shift 0's hand-off. */
  anchorMs: number;
}

function compileLayer(l: Layer): CompiledLayer {
  const startMs = parseInstant(l.start, l.zone, 'start');
  const lenDays = rotationDays(l.rotation);
  const minute = l.handoff.minute;
  let date = localParts(startMs, l.zone).date;
  const weekday = l.handoff.weekday;
  if (weekday !== undefined) date = addDays(date, (weekday - weekdayOfDate(date) + 7) % 7);
  if (localInstant(date, minute, l.zone) < startMs) date = addDays(date, weekday !== undefined ? 7 : 1);
  return { layer: l, zone: l.zone, lenDays, minute, anchorDate: date, anchorMs: localInstant(date, minute, l.zone) };
}

/** Instant shift k begins (k ≥ 0). */
function shiftStartAt(c: CompiledLayer, k: number): number {
  return localInstant(addDays(c.anchorDate, k * c.lenDays), c.minute, c.zone);
}

/** Index of the shift containing `at`; −1 before the first hand-off. */
function shiftIndex(c: CompiledLayer, at: number): number {
  if (at < c.anchorMs) return -1;
  const days = daysBetween(c.anchorDate, localParts(at, c.zone).date);
  let k = Math.max(0, Math.floor(days / c.lenDays));
  while (k > 0 && shiftStartAt(c, k) > at) k--;
  while (shiftStartAt(c, k + 1) <= at) k++;
  return k;
}

function memberAt(c: CompiledLayer, k: number): string | null {
  return k < 0 ? null : c.layer.members[k % c.layer.members.length]!;
}

function sameMember(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

interface Piece {
  member: string | null;
  start: number;
  end: number;
  scheduled: string | null;
  override?: Override;
}

/** One base shift [start, end) split by the overrides that apply to it. */
function splitShift(start: number, end: number, scheduled: string | null, overrides: readonly Override[]): Piece[] {
  const apply = overrides.filter((o) => o.from < end && o.to > start && (o.replaces === undefined || (scheduled !== null && sameMember(o.replaces, scheduled))));
  if (apply.length === 0) return [{ member: scheduled, start, end, scheduled }];
  const cuts = new Set<number>([start, end]);
  for (const o of apply) {
    if (o.from > start) cuts.add(o.from);
    if (o.to < end) cuts.add(o.to);
  }
  const bounds = [...cuts].sort((a, b) => a - b);
  const out: Piece[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const a = bounds[i]!;
    const b = bounds[i + 1]!;
    let win: Override | undefined;
    for (const o of apply) if (o.from <= a && o.to >= b) win = o; // the later one wins
    const last = out[out.length - 1];
    if (last && last.override === win) {
      last.end = b;
      continue;
    }
    out.push(win ? { member: win.member, start: a, end: b, scheduled, override: win } : { member: scheduled, start: a, end: b, scheduled });
  }
  return out;
}

function overridesFor(s: Schedule, layerName: string, overrides: readonly Override[]): Override[] {
  const first = s.layers[0]?.name;
  return overrides.filter((o) => (o.layer ?? first) === layerName && o.from < o.to);
}

function basePieces(c: CompiledLayer, k: number, ovs: readonly Override[]): Piece[] {
  if (k < 0) return splitShift(-Infinity, c.anchorMs, null, ovs);
  return splitShift(shiftStartAt(c, k), shiftStartAt(c, k + 1), memberAt(c, k), ovs);
}

/** Who is on call on each layer at `at`. */
export function whoIsOnCall(schedule: Schedule, overrides: readonly Override[], at: number): OnCall[] {
  return schedule.layers.map((layer) => {
    const c = compileLayer(layer);
    const ovs = overridesFor(schedule, layer.name, overrides);
    const piece = basePieces(c, shiftIndex(c, at), ovs).find((p) => p.start <= at && at < p.end)!;
    const r: OnCall = { layer: layer.name, member: piece.member, shiftEnd: piece.end, scheduled: piece.scheduled };
    if (Number.isFinite(piece.start)) r.shiftStart = piece.start;
    if (piece.override) r.override = piece.override;
    return r;
  });
}

/** The on-call person of one layer (default: the first) at `at`, or null. */
export function onCallMember(schedule: Schedule, overrides: readonly Override[], at: number, layer?: string): string | null {
  const all = whoIsOnCall(schedule, overrides, at);
  const hit = layer === undefined ? all[0] : all.find((o) => o.layer === layer);
  return hit?.member ?? null;
}

export interface ShiftOptions {
  /** Only these layers. */
  layers?: string[];
  /** Most base shifts walked per layer; more throws a RangeError (default DEFAULT_SHIFT_LIMIT). */
  limit?: number;
}

/**
 * Every shift that overlaps [from, to), with its real bounds (not clipped to the window), ordered
 * by start, then layer order. Stretches with nobody on call are left out.
 */
export function shifts(schedule: Schedule, overrides: readonly Override[], from: number, to: number, opts: ShiftOptions = {}): Shift[] {
  if (!(from < to)) return [];
  const limit = opts.limit ?? DEFAULT_SHIFT_LIMIT;
  const out: { s: Shift; order: number }[] = [];
  schedule.layers.forEach((layer, order) => {
    if (opts.layers && !opts.layers.includes(layer.name)) return;
    const c = compileLayer(layer);
    const ovs = overridesFor(schedule, layer.name, overrides).filter((o) => o.from < to && o.to > from);
    const k0 = shiftIndex(c, from);
    const k1 = shiftIndex(c, to - 1);
    if (k1 - k0 + 1 > limit) throw new RangeError(`layer ${layer.name}: ${k1 - k0 + 1} shifts between the two times, more than ${limit}; ask for a shorter interval`);
    for (let k = k0; k <= k1; k++) {
      for (const p of basePieces(c, k, ovs)) {
        if (p.member === null || p.end <= from || p.start >= to) continue;
        const s: Shift = { layer: layer.name, member: p.member, start: p.start, end: p.end, scheduled: p.scheduled };
        if (p.override) s.override = p.override;
        out.push({ s, order });
      }
    }
  });
  out.sort((a, b) => a.s.start - b.s.start || a.order - b.order);
  return out.map((x) => x.s);
}

/** The instant of the layer's first hand-off (member 0 starts). */
export function firstHandoff(layer: Layer): number {
  return compileLayer(layer).anchorMs;
}
