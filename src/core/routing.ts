/**
 * Routing an incoming alert to an escalation policy, and who that policy notifies now. Pure: the
 * caller reads the tables (`stores.oncall.routingTables(now)`) and passes the clock's instant.
 *
 * For each envelope recipient (or HTTP `to` address):
 * 1. The routes, in their order: a route applies when its address is the recipient's local part
 *    (case-insensitive, any domain) and every pattern it has matches: `host` the WHOLE host name
 *    (an alert without a host does not match), `subject` anywhere in the subject, `severity` S
 *    the alert's level is S or ABOVE (an alert whose level is unknown counts as critical). The
 *    first route that applies gives the policy.
 * 2. Otherwise, as before policies existed: a user's own address is an implicit one-step policy
 *    (notify that user), else "<group>@…" the implicit one-step policy notifying the group's
 *    members. Nothing else: the recipient is unknown.
 * 3. A silence covering the alert now (silence.ts) makes it `silenced` until the silence (and
 *    any silence it runs into) ends; the decision still says which policy would apply, for the
 *    delivery when the silence is over.
 *
 * Patterns come from the database; one that does not compile (written by another tool) is
 * skipped and listed in `problems`, never thrown at the receiver.
 *
 * `whoToNotifyNow` replays the policy (policy.ts) and turns the notifications due now into
 * people: schedule targets are resolved at `now` (a step the dispatcher runs late reaches
 * whoever is on call when it runs), groups to their current members. Addresses that are not
 * users any more are dropped and reported.
 */
import type { SeverityLevel } from './model.js';
import type { NewAlert } from './admission.js';
import type { Logger } from '../util/log.js';
import type { OverrideRecord, PolicyRecord, RouteRecord, RoutingTables, ScheduleRecord } from '../store/oncall.js';
import {
  Pattern, SilenceMatcher, implicitPolicy, nextAction, policyPosition, resolveTarget, levelRank,
  type Firing, type Policy, type PolicyEvent, type PolicyOptions, type PolicyStatus, type PolicyTarget, type Silence, type TargetLookup,
} from './oncall/index.js';

export interface IncomingAlert {
  /** Envelope recipient or HTTP `to` ("noc@alerts.example", "noc"). */
  recipient: string;
  host?: string;
  subject: string;
  level?: SeverityLevel;
}

export type PolicyChoice =
  | { via: 'route'; policy: Policy; route: RouteRecord }
  | { via: 'user'; policy: Policy; user: string }
  | { via: 'group'; policy: Policy; group: string };

export type RouteDecision =
  | { decision: 'policy'; choice: PolicyChoice }
  | { decision: 'silenced'; choice: PolicyChoice; silence: Silence; until: number }
  | { decision: 'unknown'; reason: string };

/** The recipient's local part, lower case ("Noc@Alerts.example" → "noc"; "noc" → "noc"). */
export function localPart(address: string): string {
  const s = address.trim().toLowerCase();
  const at = s.lastIndexOf('@');
  return at >= 0 ? s.slice(0, at) : s;
}

interface CompiledRoute {
  route: RouteRecord;
  host?: Pattern;
  subject?: Pattern;
}

export interface NotifyNow {
  /** People to notify now (unique, in step order). */
  emails: string[];
  /** The notifications due now, each with the people it reaches. */
  notifications: { firing: Firing; emails: string[]; problem?: string }[];
  /** Ask again at this instant (through clampDelay). */
  due?: number;
  status: PolicyStatus;
}

export interface WhoOptions extends PolicyOptions {
  /** Keys of the notifications already made (Firing.key). */
  done?: Iterable<string>;
}

/**
 * The tables compiled once (patterns, indexes), asked per alert. Build a new one when the
 * tables change (they are read per alert or per dispatcher pass: cheap).
 */
export class Router {
  private readonly routes: CompiledRoute[] = [];
  private readonly policies = new Map<string, PolicyRecord>();
  private readonly schedules = new Map<string, { schedule: ScheduleRecord; overrides: OverrideRecord[] }>();
  private readonly users = new Map<string, string>();
  private readonly groups = new Map<string, string[]>();
  private readonly silences: SilenceMatcher;
  /** Stored rows this router could not use, with why. */
  readonly problems: string[] = [];

  constructor(readonly tables: RoutingTables) {
    for (const p of tables.policies) this.policies.set(p.name.toLowerCase(), p);
    for (const s of tables.schedules) this.schedules.set(s.schedule.name.toLowerCase(), s);
    for (const u of tables.users) {
      this.users.set(u.email.toLowerCase(), u.email);
      if (u.group) {
        const g = u.group.toLowerCase();
        this.groups.set(g, [...(this.groups.get(g) ?? []), u.email]);
      }
    }
    for (const route of [...tables.routes].sort((a, b) => a.position - b.position || a.id - b.id)) {
      try {
        const c: CompiledRoute = { route };
        if (route.host !== undefined) c.host = Pattern.compile(route.host, 'host', true);
        if (route.subject !== undefined) c.subject = Pattern.compile(route.subject, 'subject', false);
        if (!this.policies.has(route.policy.toLowerCase())) throw new Error(`no policy ${route.policy}`);
        this.routes.push(c);
      } catch (e) {
        this.problems.push(`route ${route.id} skipped: ${(e as Error).message}`);
      }
    }
    this.silences = new SilenceMatcher(tables.silences);
    for (const r of this.silences.rejected) this.problems.push(`silence ${r.silence.id} skipped: ${r.error}`);
  }

  /** The policy for one recipient, ignoring silences; null when the recipient is nobody. */
  policyFor(alert: IncomingAlert): PolicyChoice | null {
    const local = localPart(alert.recipient);
    const rank = levelRank(alert.level ?? 'critical');
    for (const c of this.routes) {
      const r = c.route;
      if (r.address.toLowerCase() !== local) continue;
      if (c.host && (alert.host === undefined || !c.host.test(alert.host))) continue;
      if (c.subject && !c.subject.test(alert.subject)) continue;
      if (r.severity !== undefined && rank < levelRank(r.severity)) continue;
      return { via: 'route', policy: this.policies.get(r.policy.toLowerCase())!, route: r };
    }
    const user = this.users.get(alert.recipient.trim().toLowerCase());
    if (user) return { via: 'user', policy: implicitPolicy(user), user };
    const members = this.groups.get(local);
    if (members && members.length > 0) return { via: 'group', policy: groupPolicy(local), group: local };
    return null;
  }

  /** Routing plus silences at `now`. */
  route(alert: IncomingAlert, now: number): RouteDecision {
    const choice = this.policyFor(alert);
    if (!choice) return { decision: 'unknown', reason: `no route, user or group for ${alert.recipient.trim()}` };
    const subject = { subject: alert.subject, ...(alert.host !== undefined ? { host: alert.host } : {}), ...(alert.level !== undefined ? { level: alert.level } : {}) };
    const silence = this.silences.activeFor(subject, now);
    if (!silence) return { decision: 'policy', choice };
    return { decision: 'silenced', choice, silence, until: this.silences.silencedUntil(subject, now)! };
  }

  /** Whether mail to this address reaches anyone (an RCPT check): a route's address, a user, a group with members. */
  knows(address: string): boolean {
    const local = localPart(address);
    return this.routes.some((c) => c.route.address.toLowerCase() === local)
      || this.users.has(address.trim().toLowerCase()) || (this.groups.get(local)?.length ?? 0) > 0;
  }

  /** Schedules and groups as the core's policy targets need them. */
  get lookup(): TargetLookup {
    return {
      schedule: (n) => this.schedules.get(n.toLowerCase()),
      group: (n) => this.groups.get(n.toLowerCase()),
    };
  }

  /** A stored policy by name (case-insensitive). */
  policy(name: string): Policy | undefined {
    return this.policies.get(name.toLowerCase());
  }

  /** The people a target reaches at `at`, keeping only current users. */
  people(target: PolicyTarget, at: number): { emails: string[]; problem?: string } {
    const r = resolveTarget(target, this.lookup, at);
    const emails: string[] = [];
    const gone: string[] = [];
    for (const e of r.emails) {
      const u = this.users.get(e.toLowerCase());
      if (u) emails.push(u);
      else gone.push(e);
    }
    const problems = [r.problem, gone.length ? `not a user: ${gone.join(', ')}` : undefined].filter((x): x is string => x !== undefined);
    return problems.length ? { emails, problem: problems.join('; ') } : { emails };
  }

  whoToNotifyNow(policy: Policy, startedAt: number, now: number, events: readonly PolicyEvent[], opts: WhoOptions = {}): NotifyNow {
    const { done, ...policyOpts } = opts;
    const next = nextAction(policy, startedAt, now, events, done ?? [], policyOpts);
    const emails: string[] = [];
    const notifications = next.notify.map((firing) => {
      const p = this.people(firing.target, now);
      for (const e of p.emails) if (!emails.includes(e)) emails.push(e);
      return p.problem !== undefined ? { firing, emails: p.emails, problem: p.problem } : { firing, emails: p.emails };
    });
    const r: NotifyNow = { emails, notifications, status: next.status };
    if (next.due !== undefined) r.due = next.due;
    return r;
  }

  /**
   * Everyone the policy has notified up to `now` (each step's people as of when it fired):
   * whom an "acknowledged by Ana" or Resolved notice goes to.
   */
  paged(policy: Policy, startedAt: number, now: number, events: readonly PolicyEvent[], opts: PolicyOptions = {}): string[] {
    const out: string[] = [];
    for (const f of policyPosition(policy, startedAt, now, events, opts).fired) {
      for (const e of this.people(f.target, f.at).emails) if (!out.includes(e)) out.push(e);
    }
    return out;
  }
}

/** The implicit policy of a group address: notify every member once. */
export function groupPolicy(group: string): Policy {
  return { name: `group:${group}`, steps: [{ type: 'notify', target: { type: 'group', group } }], repeat: 0 };
}

/** One-shot form of `new Router(tables).route(alert, now)`. */
export function routeAlert(alert: IncomingAlert, tables: RoutingTables, now: number): RouteDecision {
  return new Router(tables).route(alert, now);
}

/** One-shot form of `Router.whoToNotifyNow`, with the tables' schedules, groups and users. */
export function whoToNotifyNow(policy: Policy, startedAt: number, now: number, events: readonly PolicyEvent[], tables: RoutingTables, opts: WhoOptions = {}): NotifyNow {
  return new Router(tables).whoToNotifyNow(policy, startedAt, now, events, opts);
}

/**
 * Routing before admission: an address with a route gets its escalation policy (the first step's
 * people are notified now, the later steps by the dispatcher's policy runner); a silence over the
 * alert stores it silenced. Users and groups keep their implicit one-step policy (their people are
 * already the item's recipients).
 */
export function routeNewAlert(item: NewAlert, router: Router, logger?: Logger): NewAlert {
  const now = item.receivedAt;
  const p = item.parsed;
  const people = new Map(item.recipients.map((u) => [u.email.toLowerCase(), u]));
  const policies: NonNullable<NewAlert['policies']> = [];
  let silence: NewAlert['silence'];
  let routed = false;
  for (const address of item.rcpt) {
    const decision = router.route({ recipient: address, subject: p.subject, ...(p.host ? { host: p.host } : {}), ...(p.level ? { level: p.level } : {}) }, now);
    if (decision.decision === 'unknown') continue;
    if (decision.decision === 'silenced') silence = { id: decision.silence.id, until: decision.until, comment: decision.silence.comment };
    const choice = decision.choice;
    if (choice.via !== 'route') continue;
    routed = true;
    // A recovery or acknowledgement reaches whoever was paged for the problem (admission finds them).
    if (p.kind === 'resolved' || p.kind === 'ack') continue;
    if (policies.some((x) => x.name === choice.policy.name)) continue;
    const first = router.whoToNotifyNow(choice.policy, now, now, []);
    for (const email of first.emails) if (!people.has(email.toLowerCase())) people.set(email.toLowerCase(), { email });
    for (const n of first.notifications) if (n.problem) logger?.warn('policy.target_problem', { policy: choice.policy.name, problem: n.problem });
    policies.push({ name: choice.policy.name, definition: JSON.stringify(choice.policy), startedAt: now, done: first.notifications.map((n) => n.firing.key), nextAt: first.due ?? null });
  }
  return { ...item, recipients: [...people.values()], ...(policies.length ? { policies } : {}), ...(silence ? { silence } : {}), ...(routed ? { routed } : {}) };
}
