/**
 * On-call rows: schedules and their layers, overrides, escalation policies, routes and silences.
 *
 * The store keeps values that the core's parsers (src/core/oncall) produced: rotation, hand-off,
 * step and pattern spellings are parsed and checked there; the shapes below match the core's
 * types structurally (the store imports nothing above it). What only the database can know is
 * checked here and reported as a ValidationError naming the thing: members and override people
 * must be existing users, names are unique, a layer or schedule a policy names must exist, a
 * schedule a policy uses or a policy a route uses cannot be removed.
 *
 * `routingTables(now)` reads in one go everything src/core/routing needs for an incoming alert.
 */
import type { Sql } from './sql/driver.js';
import { ValidationError, validateEmail, validateGroup } from './user-fields.js';

export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;
export type LevelName = 'info' | 'warning' | 'average' | 'high' | 'critical';
const LEVELS: readonly string[] = ['info', 'warning', 'average', 'high', 'critical'];

export type RotationRecord = { kind: 'daily' } | { kind: 'weekly' } | { kind: 'days'; days: number };

export interface LayerRecord {
  name: string;
  members: string[];
  rotation: RotationRecord;
  handoff: { weekday?: Weekday; minute: number };
  start: string;
  zone: string;
}

export interface ScheduleRecord {
  name: string;
  layers: LayerRecord[];
  createdAt: number;
  updatedAt: number;
}

export interface OverrideRecord {
  id: number;
  schedule: string;
  /** Absent: the schedule's first layer. */
  layer?: string;
  member: string;
  replaces?: string;
  from: number;
  to: number;
  createdBy: string | null;
  createdAt: number;
}

export type NewOverride = Omit<OverrideRecord, 'id' | 'createdAt' | 'createdBy'> & { createdBy?: string | null };

export type PolicyTargetRecord =
  | { type: 'schedule'; schedule: string; layer?: string }
  | { type: 'group'; group: string }
  | { type: 'user'; user: string };

export type PolicyStepRecord = { type: 'notify'; target: PolicyTargetRecord } | { type: 'wait'; ms: number };

export interface PolicyRecord {
  name: string;
  steps: PolicyStepRecord[];
  repeat: number;
  createdAt: number;
  updatedAt: number;
}

export type NewPolicy = Pick<PolicyRecord, 'name' | 'steps' | 'repeat'>;

export interface RouteRecord {
  id: number;
  /** Order among routes (the first matching one wins). */
  position: number;
  /** Recipient local part, lower case ("noc" for noc@anything). */
  address: string;
  policy: string;
  host?: string;
  subject?: string;
  /** The alert's level is this or above. */
  severity?: LevelName;
  createdAt: number;
}

export interface NewRoute {
  address: string;
  policy: string;
  host?: string;
  subject?: string;
  severity?: LevelName;
  /** 1-based place among the routes; absent: after the last. */
  position?: number;
}

export interface SilenceRecord {
  id: number;
  host?: string;
  subject?: string;
  /** The alert's level is this or below. */
  severity?: LevelName;
  from: number;
  until: number;
  comment: string;
  createdBy: string | null;
  createdAt: number;
}

export type NewSilence = Omit<SilenceRecord, 'id' | 'createdAt' | 'createdBy'> & { createdBy?: string | null };

/** Everything routing an incoming alert needs, read at one instant. */
export interface RoutingTables {
  routes: RouteRecord[];
  policies: PolicyRecord[];
  schedules: { schedule: ScheduleRecord; overrides: OverrideRecord[] }[];
  /** Silences not yet over at the instant read. */
  silences: SilenceRecord[];
  users: { email: string; group: string | null }[];
}

interface LayerRow { schedule: string; name: string; position: number; members: string; rotation: string; handoff: string; start: string; zone: string }
interface ScheduleRow { name: string; created_at: number; updated_at: number }
interface OverrideRow { id: number; schedule: string; layer: string | null; member: string; replaces: string | null; from_at: number; to_at: number; created_by: string | null; created_at: number }
interface PolicyRow { name: string; steps: string; repeat: number; created_at: number; updated_at: number }
interface RouteRow { id: number; position: number; address: string; policy: string; host: string | null; subject: string | null; severity: string | null; created_at: number }
interface SilenceRow { id: number; host: string | null; subject: string | null; severity: string | null; from_at: number; until_at: number; comment: string; created_by: string | null; created_at: number }

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_PATTERN = 200;
const MAX_COMMENT = 500;

function name(v: string, what: string): string {
  const s = v.trim();
  if (!NAME.test(s)) throw new ValidationError(`invalid ${what} name ${JSON.stringify(v)} (letters, digits, ".", "_" and "-", at most 64)`);
  return s;
}

function level(v: string | undefined, what: string): LevelName | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (!LEVELS.includes(s)) throw new ValidationError(`${what}: unknown severity ${JSON.stringify(v)} (one of ${LEVELS.join(', ')})`);
  return s as LevelName;
}

function pattern(v: string | undefined, what: string): string | null {
  if (v === undefined) return null;
  if (v.length > MAX_PATTERN) throw new ValidationError(`${what}: pattern longer than ${MAX_PATTERN} characters`);
  return v;
}

function interval(from: number, to: number, what: string): void {
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) throw new ValidationError(`${what}: it must end after it starts`);
}

/** A route's address: "noc", "noc@" or "noc@any.domain" all mean the local part "noc". */
export function routeAddress(v: string): string {
  let s = v.trim().toLowerCase();
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(0, at);
  if (!/^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/.test(s)) throw new ValidationError(`invalid route address ${JSON.stringify(v)}: give the recipient's local part (noc for noc@alerts.example)`);
  return s;
}

function layerFromRow(r: LayerRow): LayerRecord {
  return {
    name: r.name, members: JSON.parse(r.members) as string[], rotation: JSON.parse(r.rotation) as RotationRecord,
    handoff: JSON.parse(r.handoff) as LayerRecord['handoff'], start: r.start, zone: r.zone,
  };
}

function overrideFromRow(r: OverrideRow): OverrideRecord {
  const o: OverrideRecord = { id: r.id, schedule: r.schedule, member: r.member, from: r.from_at, to: r.to_at, createdBy: r.created_by, createdAt: r.created_at };
  if (r.layer !== null) o.layer = r.layer;
  if (r.replaces !== null) o.replaces = r.replaces;
  return o;
}

function policyFromRow(r: PolicyRow): PolicyRecord {
  return { name: r.name, steps: JSON.parse(r.steps) as PolicyStepRecord[], repeat: r.repeat, createdAt: r.created_at, updatedAt: r.updated_at };
}

function routeFromRow(r: RouteRow): RouteRecord {
  const o: RouteRecord = { id: r.id, position: r.position, address: r.address, policy: r.policy, createdAt: r.created_at };
  if (r.host !== null) o.host = r.host;
  if (r.subject !== null) o.subject = r.subject;
  if (r.severity !== null) o.severity = r.severity as LevelName;
  return o;
}

function silenceFromRow(r: SilenceRow): SilenceRecord {
  const o: SilenceRecord = { id: r.id, from: r.from_at, until: r.until_at, comment: r.comment, createdBy: r.created_by, createdAt: r.created_at };
  if (r.host !== null) o.host = r.host;
  if (r.subject !== null) o.subject = r.subject;
  if (r.severity !== null) o.severity = r.severity as LevelName;
  return o;
}

export class OncallStore {
  constructor(private readonly q: Sql, private readonly now: () => number = Date.now) {}

  // -------------------------------------------------------------------------------------------
  // Users (read only: the people schedules and policies name)

  /** The stored address of an existing user (lower case), or a ValidationError naming the unknown one. */
  private async user(email: string, what: string): Promise<string> {
    let e: string;
    try {
      e = validateEmail(email);
    } catch {
      throw new ValidationError(`${what}: invalid e-mail address ${JSON.stringify(email)}`);
    }
    const r = (await this.q.get('SELECT email FROM users WHERE email = ?', e)) as { email: string } | undefined;
    if (!r) throw new ValidationError(`${what}: no user ${e} (add them first: alertline users add ${e} --phone +E164)`);
    return r.email;
  }

  private async groupExists(g: string): Promise<boolean> {
    return (await this.q.get('SELECT 1 FROM users WHERE grp = ? UNION SELECT 1 FROM groups WHERE name = ?', g, g)) !== undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Schedules

  /**
   * Adds a layer, creating the schedule when it does not exist yet. Members must be existing
   * users (stored as their user address); a layer name may appear once per schedule.
   */
  async addLayer(schedule: string, layer: LayerRecord): Promise<{ schedule: ScheduleRecord; created: boolean }> {
    const s = name(schedule, 'schedule');
    const l = name(layer.name, 'layer');
    if (layer.members.length === 0) throw new ValidationError(`schedule ${s}: a layer needs members (--members a@x,b@x)`);
    const members: string[] = [];
    for (const m of layer.members) members.push(await this.user(m, `schedule ${s}`));
    const dup = members.find((m, i) => members.indexOf(m) !== i);
    if (dup) throw new ValidationError(`schedule ${s}: ${dup} is listed twice in --members`);
    const at = this.now();
    let created = false;
    await this.q.tx(async (t) => {
      const existing = (await t.get('SELECT name FROM schedules WHERE name = ?', s)) as { name: string } | undefined;
      if (!existing) {
        (await t.run('INSERT INTO schedules (name, created_at, updated_at) VALUES (?, ?, ?)', s, at, at));
        created = true;
      } else if ((await t.get('SELECT 1 FROM schedule_layers WHERE schedule = ? AND name = ?', existing.name, l))) {
        throw new ValidationError(`schedule ${existing.name} already has a layer ${l} (remove it first: alertline schedules remove ${existing.name} --layer ${l}, or add another with --layer secondary)`);
      }
      const sched = existing?.name ?? s;
      const pos = ((await t.get('SELECT coalesce(max(position), 0) + 1 AS p FROM schedule_layers WHERE schedule = ?', sched)) as { p: number }).p;
      (await t.run(`INSERT INTO schedule_layers (schedule, name, position, members, rotation, handoff, start, zone, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sched, l, pos, JSON.stringify(members), JSON.stringify(layer.rotation), JSON.stringify(layer.handoff), layer.start, layer.zone, at));
      (await t.run('UPDATE schedules SET updated_at = ? WHERE name = ?', at, sched));
    });
    return { schedule: (await this.getSchedule(s))!, created };
  }

  async getSchedule(schedule: string): Promise<ScheduleRecord | null> {
    const r = (await this.q.get('SELECT * FROM schedules WHERE name = ?', schedule.trim())) as ScheduleRow | undefined;
    return r ? await this.scheduleFromRow(r) : null;
  }

  private async scheduleFromRow(r: ScheduleRow, q: Sql = this.q): Promise<ScheduleRecord> {
    const layers = ((await q.all('SELECT * FROM schedule_layers WHERE schedule = ? ORDER BY position', r.name)) as LayerRow[]).map(layerFromRow);
    return { name: r.name, layers, createdAt: r.created_at, updatedAt: r.updated_at };
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = [];
    for (const r of (await this.q.all('SELECT * FROM schedules ORDER BY name')) as ScheduleRow[]) out.push(await this.scheduleFromRow(r));
    return out;
  }

  /** Policies whose steps name the schedule (optionally one layer of it). */
  private async policiesUsingSchedule(schedule: string, layer?: string): Promise<string[]> {
    return ((await this.q.all('SELECT * FROM policies ORDER BY name')) as PolicyRow[]).map(policyFromRow).filter((p) => p.steps.some((st) =>
      st.type === 'notify' && st.target.type === 'schedule' && st.target.schedule.toLowerCase() === schedule.toLowerCase()
      && (layer === undefined || (st.target.layer ?? '').toLowerCase() === layer.toLowerCase()))).map((p) => p.name);
  }

  /**
   * Removes a schedule (with its overrides), or one layer of it (the schedule goes when its last
   * layer does). False when there is no such schedule/layer; refused while a policy names it.
   */
  async removeSchedule(schedule: string, layer?: string): Promise<boolean> {
    const s = await this.getSchedule(schedule);
    if (!s) return false;
    if (layer !== undefined) {
      const l = s.layers.find((x) => x.name.toLowerCase() === layer.trim().toLowerCase());
      if (!l) return false;
      if (s.layers.length > 1) {
        const first = s.layers[0]!.name;
        const users = await this.policiesUsingSchedule(s.name, l.name);
        if (l.name === first) users.push(...(await this.policiesUsingSchedule(s.name)).filter((p) => !users.includes(p)));
        if (users.length) throw new ValidationError(`schedule ${s.name}: layer ${l.name} is used by polic${users.length > 1 ? 'ies' : 'y'} ${users.join(', ')}; change ${users.length > 1 ? 'them' : 'it'} first`);
        await this.q.tx(async (t) => {
          (await t.run('DELETE FROM schedule_layers WHERE schedule = ? AND name = ?', s.name, l.name));
          (await t.run('DELETE FROM schedule_overrides WHERE schedule = ? AND (layer = ? OR (layer IS NULL AND ? = ?))', s.name, l.name, l.name, first));
          (await t.run('UPDATE schedules SET updated_at = ? WHERE name = ?', this.now(), s.name));
        });
        return true;
      }
    }
    const users = await this.policiesUsingSchedule(s.name);
    if (users.length) throw new ValidationError(`schedule ${s.name} is used by polic${users.length > 1 ? 'ies' : 'y'} ${users.join(', ')}; change or remove ${users.length > 1 ? 'them' : 'it'} first`);
    await this.q.tx(async (t) => {
      (await t.run('DELETE FROM schedule_overrides WHERE schedule = ?', s.name));
      (await t.run('DELETE FROM schedule_layers WHERE schedule = ?', s.name));
      (await t.run('DELETE FROM schedules WHERE name = ?', s.name));
    });
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Overrides

  /** Adds an override: the member must be a user, the layer must exist, `replaces` must be one of the layer's members. */
  async addOverride(o: NewOverride): Promise<OverrideRecord> {
    const s = await this.getSchedule(o.schedule);
    if (!s) throw new ValidationError(`no schedule ${o.schedule.trim()} (add it with: alertline schedules add ${o.schedule.trim()} --members ...)`);
    let layer: LayerRecord = s.layers[0]!;
    if (o.layer !== undefined) {
      const l = s.layers.find((x) => x.name.toLowerCase() === o.layer!.trim().toLowerCase());
      if (!l) throw new ValidationError(`schedule ${s.name} has no layer ${JSON.stringify(o.layer)} (it has ${s.layers.map((x) => x.name).join(', ')})`);
      layer = l;
    }
    const member = await this.user(o.member, `override on ${s.name}`);
    let replaces: string | null = null;
    if (o.replaces !== undefined) {
      const r = o.replaces.trim().toLowerCase();
      if (!layer.members.includes(r)) throw new ValidationError(`override on ${s.name}: ${r} is not a member of layer ${layer.name} (${layer.members.join(', ')})`);
      replaces = r;
    }
    interval(o.from, o.to, `override on ${s.name}`);
    const at = this.now();
    const id = Number((await this.q.insert(`INSERT INTO schedule_overrides (schedule, layer, member, replaces, from_at, to_at, created_by, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.name, o.layer === undefined ? null : layer.name, member, replaces, o.from, o.to, o.createdBy ?? null, at)));
    return (await this.getOverride(id))!;
  }

  async getOverride(id: number): Promise<OverrideRecord | null> {
    const r = (await this.q.get('SELECT * FROM schedule_overrides WHERE id = ?', id)) as OverrideRow | undefined;
    return r ? overrideFromRow(r) : null;
  }

  /**
   * Overrides in creation order (the order the core wants: a later one wins where they overlap),
   * of one schedule or all; `endingAfter` leaves out those over by then.
   */
  async overrides(opts: { schedule?: string; endingAfter?: number } = {}): Promise<OverrideRecord[]> {
    const after = opts.endingAfter ?? -Number.MAX_SAFE_INTEGER;
    const rows = (opts.schedule === undefined
      ? await this.q.all('SELECT * FROM schedule_overrides WHERE to_at > ? ORDER BY id', after)
      : await this.q.all('SELECT * FROM schedule_overrides WHERE schedule = ? AND to_at > ? ORDER BY id', opts.schedule.trim(), after)) as OverrideRow[];
    return rows.map(overrideFromRow);
  }

  async removeOverride(id: number): Promise<boolean> {
    return (await this.q.run('DELETE FROM schedule_overrides WHERE id = ?', id)) > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Policies

  /** Adds a policy; schedules (and layers), users and groups its steps name must exist. */
  async addPolicy(p: NewPolicy): Promise<PolicyRecord> {
    const n = name(p.name, 'policy');
    if (await this.getPolicy(n)) throw new ValidationError(`policy ${n} already exists (remove it first: alertline policies remove ${n})`);
    if (!p.steps.some((s) => s.type === 'notify')) throw new ValidationError(`policy ${n}: no step notifies anyone`);
    if (!Number.isInteger(p.repeat) || p.repeat < 0) throw new ValidationError(`policy ${n}: repeat must be a whole number ≥ 0`);
    const steps: PolicyStepRecord[] = [];
    for (const st of p.steps) {
      if (st.type === 'wait') {
        if (!(Number.isFinite(st.ms) && st.ms > 0)) throw new ValidationError(`policy ${n}: a wait must be longer than zero`);
        steps.push({ type: 'wait', ms: st.ms });
        continue;
      }
      const t = st.target;
      if (t.type === 'user') {
        steps.push({ type: 'notify', target: { type: 'user', user: await this.user(t.user, `policy ${n}`) } });
      } else if (t.type === 'group') {
        const g = validateGroup(t.group);
        if (!(await this.groupExists(g))) throw new ValidationError(`policy ${n}: no group ${g} (put users in it: alertline users update <email> --group ${g})`);
        steps.push({ type: 'notify', target: { type: 'group', group: g } });
      } else {
        const s = await this.getSchedule(t.schedule);
        if (!s) throw new ValidationError(`policy ${n}: no schedule ${t.schedule} (add it first: alertline schedules add ${t.schedule} --members ...)`);
        const target: PolicyTargetRecord = { type: 'schedule', schedule: s.name };
        if (t.layer !== undefined) {
          const l = s.layers.find((x) => x.name.toLowerCase() === t.layer!.toLowerCase());
          if (!l) throw new ValidationError(`policy ${n}: schedule ${s.name} has no layer ${t.layer} (it has ${s.layers.map((x) => x.name).join(', ')})`);
          target.layer = l.name;
        }
        steps.push({ type: 'notify', target });
      }
    }
    const at = this.now();
    (await this.q.run('INSERT INTO policies (name, steps, repeat, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', n, JSON.stringify(steps), p.repeat, at, at));
    return (await this.getPolicy(n))!;
  }

  async getPolicy(policy: string): Promise<PolicyRecord | null> {
    const r = (await this.q.get('SELECT * FROM policies WHERE name = ?', policy.trim())) as PolicyRow | undefined;
    return r ? policyFromRow(r) : null;
  }

  async listPolicies(): Promise<PolicyRecord[]> {
    return ((await this.q.all('SELECT * FROM policies ORDER BY name')) as PolicyRow[]).map(policyFromRow);
  }

  /** False when there is no such policy; refused while a route uses it. */
  async removePolicy(policy: string): Promise<boolean> {
    const p = await this.getPolicy(policy);
    if (!p) return false;
    const routes = ((await this.q.all('SELECT id FROM routes WHERE policy = ? ORDER BY position, id', p.name)) as { id: number }[]).map((r) => r.id);
    if (routes.length) throw new ValidationError(`policy ${p.name} is used by route${routes.length > 1 ? 's' : ''} ${routes.join(', ')}; remove ${routes.length > 1 ? 'them' : 'it'} first (alertline routes remove <id>)`);
    return (await this.q.run('DELETE FROM policies WHERE name = ?', p.name)) > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Routes

  async addRoute(r: NewRoute): Promise<RouteRecord> {
    const address = routeAddress(r.address);
    const p = await this.getPolicy(r.policy);
    if (!p) throw new ValidationError(`no policy ${r.policy.trim()} (add it first: alertline policies add ${r.policy.trim()} --step ...)`);
    const host = pattern(r.host, 'host');
    const subject = pattern(r.subject, 'subject');
    const severity = level(r.severity, 'severity') ?? null;
    if (r.position !== undefined && !(Number.isInteger(r.position) && r.position >= 1)) throw new ValidationError(`position: expected a whole number from 1`);
    const at = this.now();
    let id = 0;
    await this.q.tx(async (t) => {
      const ordered = (await t.all('SELECT id FROM routes ORDER BY position, id')) as { id: number }[];
      const place = r.position === undefined ? ordered.length : Math.min(r.position - 1, ordered.length);
      id = Number((await t.insert('INSERT INTO routes (position, address, policy, host, subject, severity, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', 0, address, p.name, host, subject, severity, at)));
      ordered.splice(place, 0, { id });
      for (const [i, x] of ordered.entries()) await t.run('UPDATE routes SET position = ? WHERE id = ?', i + 1, x.id);
    });
    return (await this.listRoutes()).find((x) => x.id === id)!;
  }

  /** Routes in the order they are tried. */
  async listRoutes(): Promise<RouteRecord[]> {
    return ((await this.q.all('SELECT * FROM routes ORDER BY position, id')) as RouteRow[]).map(routeFromRow);
  }

  async removeRoute(id: number): Promise<boolean> {
    return (await this.q.run('DELETE FROM routes WHERE id = ?', id)) > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Silences

  async addSilence(s: NewSilence): Promise<SilenceRecord> {
    if (s.host === undefined && s.subject === undefined && s.severity === undefined) {
      throw new ValidationError(`silence: give --host, --subject or --severity (--subject '.*' silences everything)`);
    }
    interval(s.from, s.until, 'silence');
    const comment = s.comment.trim();
    if (comment === '') throw new ValidationError('silence: say why (--comment "kernel upgrade")');
    if (comment.length > MAX_COMMENT) throw new ValidationError(`silence: comment longer than ${MAX_COMMENT} characters`);
    const id = Number((await this.q.insert(`INSERT INTO silences (host, subject, severity, from_at, until_at, comment, created_by, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, pattern(s.host, 'host'), pattern(s.subject, 'subject'), level(s.severity, 'severity') ?? null,
      s.from, s.until, comment, s.createdBy ?? null, this.now())));
    return (await this.getSilence(id))!;
  }

  async getSilence(id: number): Promise<SilenceRecord | null> {
    const r = (await this.q.get('SELECT * FROM silences WHERE id = ?', id)) as SilenceRow | undefined;
    return r ? silenceFromRow(r) : null;
  }

  /** Silences by start; `endingAfter` leaves out those over by then (default: all). */
  async listSilences(opts: { endingAfter?: number } = {}): Promise<SilenceRecord[]> {
    return ((await this.q.all('SELECT * FROM silences WHERE until_at > ? ORDER BY from_at, id', opts.endingAfter ?? -Number.MAX_SAFE_INTEGER)) as SilenceRow[]).map(silenceFromRow);
  }

  /**
   * Ends a silence: one that has started ends now (kept in the history, so the alerts it held
   * are delivered as when it runs out), one that has not started yet is deleted.
   * Null when there is no such silence.
   */
  async removeSilence(id: number): Promise<{ ended: boolean; deleted: boolean } | null> {
    const s = await this.getSilence(id);
    if (!s) return null;
    const now = this.now();
    if (s.from > now) {
      (await this.q.run('DELETE FROM silences WHERE id = ?', id));
      return { ended: false, deleted: true };
    }
    if (s.until > now) (await this.q.run('UPDATE silences SET until_at = ? WHERE id = ?', now, id));
    return { ended: s.until > now, deleted: false };
  }

  // -------------------------------------------------------------------------------------------
  // A user's address in on-call rows (for `users remove` / `users update --email`)

  /** Where a user's address appears: schedule layers, overrides not over at `now`, policies. */
  async referencesTo(email: string, now: number = this.now()): Promise<{ layers: string[]; overrides: number[]; policies: string[] }> {
    const e = email.trim().toLowerCase();
    const layers = ((await this.q.all('SELECT * FROM schedule_layers ORDER BY schedule, position')) as LayerRow[])
      .filter((r) => (JSON.parse(r.members) as string[]).includes(e)).map((r) => `${r.schedule}/${r.name}`);
    const overrides = ((await this.q.all('SELECT id FROM schedule_overrides WHERE (member = ? OR replaces = ?) AND to_at > ? ORDER BY id', e, e, now)) as { id: number }[]).map((r) => r.id);
    const policies = ((await this.q.all('SELECT * FROM policies ORDER BY name')) as PolicyRow[]).map(policyFromRow)
      .filter((p) => p.steps.some((s) => s.type === 'notify' && s.target.type === 'user' && s.target.user === e)).map((p) => p.name);
    return { layers, overrides, policies };
  }

  /** A user's address changed: schedule members, overrides and user steps follow it (one transaction). */
  async renameUser(from: string, to: string): Promise<void> {
    const a = from.trim().toLowerCase();
    const b = validateEmail(to);
    if (a === b) return;
    await this.q.tx(async (t) => {
      for (const r of (await t.all('SELECT * FROM schedule_layers')) as LayerRow[]) {
        const members = JSON.parse(r.members) as string[];
        if (members.includes(a)) (await t.run('UPDATE schedule_layers SET members = ? WHERE schedule = ? AND name = ?', JSON.stringify(members.map((m) => (m === a ? b : m))), r.schedule, r.name));
      }
      (await t.run('UPDATE schedule_overrides SET member = ? WHERE member = ?', b, a));
      (await t.run('UPDATE schedule_overrides SET replaces = ? WHERE replaces = ?', b, a));
      for (const p of ((await t.all('SELECT * FROM policies')) as PolicyRow[]).map(policyFromRow)) {
        if (!p.steps.some((s) => s.type === 'notify' && s.target.type === 'user' && s.target.user === a)) continue;
        const steps = p.steps.map((s) => (s.type === 'notify' && s.target.type === 'user' && s.target.user === a ? { type: 'notify' as const, target: { type: 'user' as const, user: b } } : s));
        (await t.run('UPDATE policies SET steps = ?, updated_at = ? WHERE name = ?', JSON.stringify(steps), this.now(), p.name));
      }
    });
  }

  // -------------------------------------------------------------------------------------------

  /** What src/core/routing needs at `now`: routes, policies, schedules with overrides not over, silences not over, users. */
  async routingTables(now: number): Promise<RoutingTables> {
    return this.q.tx(async (t) => {
      const overrides = ((await t.all('SELECT * FROM schedule_overrides WHERE to_at > ? ORDER BY id', now)) as OverrideRow[]).map(overrideFromRow);
      const schedules: { schedule: ScheduleRecord; overrides: OverrideRecord[] }[] = [];
      for (const r of (await t.all('SELECT * FROM schedules ORDER BY name')) as ScheduleRow[]) {
        const schedule = await this.scheduleFromRow(r, t);
        schedules.push({ schedule, overrides: overrides.filter((o) => o.schedule === schedule.name) });
      }
      return {
        routes: ((await t.all('SELECT * FROM routes ORDER BY position, id')) as RouteRow[]).map(routeFromRow),
        policies: ((await t.all('SELECT * FROM policies ORDER BY name')) as PolicyRow[]).map(policyFromRow),
        schedules,
        silences: ((await t.all('SELECT * FROM silences WHERE until_at > ? ORDER BY from_at, id', now)) as SilenceRow[]).map(silenceFromRow),
        users: (await t.all('SELECT email, grp AS "group" FROM users ORDER BY email')) as { email: string; group: string | null }[],
      };
    });
  }
}
