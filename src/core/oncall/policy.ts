/**
 * Escalation policies: ordered steps (notify a schedule layer, a group or a user; wait), the
 * whole list repeated up to N more times, driven by the clock and by what people do (acknowledge,
 * escalate, snooze, resolve). Pure: `policyPosition` replays the events from the alert's start and
 * says where the policy is at `now`, everything it has notified so far (with stable keys, so the
 * dispatcher can tell what it has already done) and when the next change is due.
 *
 * Semantics
 * - Notify steps take no time; consecutive notify steps notify together. Steps are grouped in
 *   STAGES: the notify steps and the wait steps that follow them ("schedule:noc, group:ops,
 *   wait:10m" is one stage).
 * - After the last step, the policy starts again from step 0 while passes remain: `repeat` N
 *   means 1 + N passes. A repeating policy must end with a wait (else it would page again at
 *   once). After the last pass the policy is `exhausted` (the people notified last are still the
 *   ones responsible: `current`).
 * - escalate: the wait under way ends now and the next notify step fires now (into the next pass
 *   if this one has none left; exhausted if there is no further pass).
 * - snooze for D: nothing happens until now + D; then the current stage starts over: its notify
 *   steps fire again (the snoozer is called again) and its wait runs in full. A snooze during a
 *   snooze replaces it; escalate during a snooze ends it. Snoozing an exhausted policy re-notifies
 *   its last stage at the end of the snooze.
 * - ack stops every step for everyone. With `ackTimeoutMs`, the acknowledger (or, when unknown,
 *   the current stage's targets) is notified again each ackTimeout after the latest ack until
 *   resolved (only the latest reminder is listed: a dispatcher that was down sends one, not many).
 *   escalate and snooze after an ack are ignored; another ack restarts the ack timeout.
 * - resolve stops everything.
 * - Events at the same instant as a timed change come first (an ack exactly at the end of a wait
 *   stops the next step). Events before the start count as at the start; events after `now` are
 *   not looked at.
 */
import { onCallMember, parseName, type Override, type Schedule } from './schedule.js';
import { OncallInputError, bounded, parseDurationMs } from './time.js';

export type PolicyTarget =
  | { type: 'schedule'; schedule: string; layer?: string }
  | { type: 'group'; group: string }
  | { type: 'user'; user: string };

export type PolicyStep = { type: 'notify'; target: PolicyTarget } | { type: 'wait'; ms: number };

export interface Policy {
  name: string;
  steps: PolicyStep[];
  /** Extra passes after the first (0: run once). */
  repeat: number;
}

export type PolicyEvent =
  | { type: 'ack'; at: number; by?: string }
  | { type: 'resolve'; at: number; by?: string }
  | { type: 'escalate'; at: number; by?: string }
  | { type: 'snooze'; at: number; ms: number; by?: string };

export type FiringReason = 'step' | 'repeat' | 'escalate' | 'snooze-end' | 'ack-timeout';

export interface Firing {
  /** Stable across calls: "pass.step.entry" for steps, "ack.<n>.<k>" for ack-timeout reminders. */
  key: string;
  at: number;
  pass: number;
  step: number;
  target: PolicyTarget;
  reason: FiringReason;
}

export type PolicyState = 'running' | 'snoozed' | 'acknowledged' | 'resolved' | 'exhausted';

export interface PolicyStatus {
  state: PolicyState;
  /** Current pass, 0-based. */
  pass: number;
  /** The wait step under way (running, snoozed, acknowledged, resolved: where it stopped); steps.length when exhausted. */
  step: number;
  /** Targets of the latest stage that notified: who the alert is with. */
  current: PolicyTarget[];
  /** Every notification so far, in order. */
  fired: Firing[];
  /** When the status changes by itself next (wait end, snooze end, ack-timeout reminder). */
  due?: number;
  snoozedUntil?: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
}

export interface PolicyOptions {
  /** `escalation.ackTimeout`: remind the acknowledger while the alert stays unresolved. */
  ackTimeoutMs?: number;
}

export const MAX_STEPS = 50;
export const MAX_REPEAT = 100;
export const MAX_WAIT_MS = 7 * 86_400_000;

// ---------------------------------------------------------------------------------------------
// Spellings

const EMAIL_RE = /^[^\s@,]{1,64}@[^\s@,]{1,190}$/;

/** `--step "schedule:noc"`, `"schedule:noc/secondary"`, `"group:ops"`, `"user:ana@x"`, `"wait:10m"` (bare number: minutes). */
export function parseStep(input: string, field = 'step'): PolicyStep {
  const s = bounded(field, input, 300);
  const bad = (why: string) => new OncallInputError(field, input, `${field}: bad step ${JSON.stringify(input)}: ${why} (write schedule:NAME[/LAYER], group:NAME, user:EMAIL or wait:DURATION such as wait:10m)`);
  const colon = s.indexOf(':');
  if (colon < 0) throw bad('no "kind:" prefix');
  const kind = s.slice(0, colon).trim().toLowerCase();
  const arg = s.slice(colon + 1).trim();
  if (arg === '') throw bad(`nothing after "${kind}:"`);
  const name = (text: string, what: string) => {
    try {
      return parseName(text, field);
    } catch {
      throw bad(`${JSON.stringify(text)} is not a ${what} name`);
    }
  };
  switch (kind) {
    case 'schedule': {
      const parts = arg.split(/[/:]/);
      if (parts.length > 2) throw bad('expected schedule:NAME or schedule:NAME/LAYER');
      const target: PolicyTarget = { type: 'schedule', schedule: name(parts[0]!, 'schedule') };
      if (parts.length === 2) target.layer = name(parts[1]!, 'layer');
      return { type: 'notify', target };
    }
    case 'group':
      return { type: 'notify', target: { type: 'group', group: name(arg, 'group') } };
    case 'user':
      if (!EMAIL_RE.test(arg)) throw bad(`${JSON.stringify(arg)} is not an e-mail address`);
      return { type: 'notify', target: { type: 'user', user: arg } };
    case 'wait': {
      let ms: number;
      try {
        ms = parseDurationMs(arg, field);
      } catch {
        throw bad(`${JSON.stringify(arg)} is not a duration`);
      }
      if (ms > MAX_WAIT_MS) throw bad('a wait is at most 7d');
      return { type: 'wait', ms };
    }
    default:
      throw bad(`unknown kind ${JSON.stringify(kind)}`);
  }
}

export function formatTarget(t: PolicyTarget): string {
  if (t.type === 'schedule') return `schedule:${t.schedule}${t.layer ? `/${t.layer}` : ''}`;
  return t.type === 'group' ? `group:${t.group}` : `user:${t.user}`;
}

export function formatStep(s: PolicyStep): string {
  if (s.type === 'notify') return formatTarget(s.target);
  const ms = s.ms;
  const text = ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
  return `wait:${text}`;
}

/** `--repeat N`: 0 … 100. */
export function parseRepeat(input: string | number | undefined, field = 'repeat'): number {
  if (input === undefined) return 0;
  const s = typeof input === 'number' ? String(input) : bounded(field, input, 8);
  if (!/^\d{1,3}$/.test(s) || Number(s) > MAX_REPEAT) throw new OncallInputError(field, s, `${field}: ${JSON.stringify(s)} is not a whole number from 0 to ${MAX_REPEAT}`);
  return Number(s);
}

export function validatePolicy(p: Policy): void {
  parseName(p.name, 'policy');
  if (p.steps.length === 0) throw new OncallInputError('step', '', `policy ${p.name}: no steps`);
  if (p.steps.length > MAX_STEPS) throw new OncallInputError('step', '', `policy ${p.name}: more than ${MAX_STEPS} steps`);
  if (!p.steps.some((s) => s.type === 'notify')) throw new OncallInputError('step', '', `policy ${p.name}: no step notifies anyone`);
  for (const s of p.steps) {
    if (s.type === 'wait' && !(Number.isFinite(s.ms) && s.ms > 0 && s.ms <= MAX_WAIT_MS)) throw new OncallInputError('step', String(s.ms), `policy ${p.name}: a wait must be longer than 0 and at most 7d`);
  }
  parseRepeat(p.repeat);
  if (p.repeat > 0 && p.steps[p.steps.length - 1]!.type !== 'wait') {
    throw new OncallInputError('repeat', String(p.repeat), `policy ${p.name}: a repeating policy must end with a wait step (e.g. --step wait:10m), or it would page again at once`);
  }
}

/** `policies add <name> --step … [--repeat N]`. */
export function policyFromOptions(name: string, steps: readonly string[], repeat?: string | number): Policy {
  const p: Policy = { name: parseName(name, 'policy'), steps: steps.map((s) => parseStep(s)), repeat: parseRepeat(repeat) };
  validatePolicy(p);
  return p;
}

/** A user address used directly: notify that user once (their channel order does the rest). */
export function implicitPolicy(email: string): Policy {
  return { name: email, steps: [{ type: 'notify', target: { type: 'user', user: email } }], repeat: 0 };
}

// ---------------------------------------------------------------------------------------------
// The replay

/** First step index of the stage each step belongs to. */
function stageStarts(steps: readonly PolicyStep[]): number[] {
  const out: number[] = [];
  let start = 0;
  steps.forEach((s, i) => {
    if (i > 0 && s.type === 'notify' && steps[i - 1]!.type === 'wait') start = i;
    out.push(start);
  });
  return out;
}

export function policyPosition(policy: Policy, startedAt: number, now: number, events: readonly PolicyEvent[], opts: PolicyOptions = {}): PolicyStatus {
  const steps = policy.steps;
  const stageOf = stageStarts(steps);
  const fired: Firing[] = [];
  const entries = new Map<string, number>();
  let state: PolicyState = 'running';
  let pass = 0;
  let idx = 0;
  let waitEnd: number | undefined;
  let snoozeUntil: number | undefined;
  let current: PolicyTarget[] = [];
  let ackAt: number | undefined;
  let ackBy: string | undefined;
  let ackCount = 0;
  const timeout = opts.ackTimeoutMs !== undefined && opts.ackTimeoutMs > 0 ? opts.ackTimeoutMs : undefined;

  /** Runs from step `i` of pass `p` at time `t` until a wait begins or the policy is exhausted. */
  const enter = (p: number, i: number, t: number, reason: FiringReason) => {
    let first = true;
    for (;;) {
      if (i >= steps.length) {
        if (p < policy.repeat) {
          p++;
          i = 0;
          reason = 'repeat';
          continue;
        }
        state = 'exhausted';
        pass = p;
        idx = steps.length;
        waitEnd = undefined;
        return;
      }
      const st = steps[i]!;
      if (st.type === 'notify') {
        const base = `${p}.${i}`;
        const n = entries.get(base) ?? 0;
        entries.set(base, n + 1);
        fired.push({ key: `${base}.${n}`, at: t, pass: p, step: i, target: st.target, reason });
        if (first) current = [];
        current.push(st.target);
        first = false;
        i++;
        continue;
      }
      state = 'running';
      pass = p;
      idx = i;
      waitEnd = t + st.ms;
      return;
    }
  };

  const remindTargets = (): PolicyTarget[] => (ackBy !== undefined ? [{ type: 'user', user: ackBy }] : current);

  /** The latest ack-timeout reminder in (ackAt, end] (inclusive) or (ackAt, end) (exclusive). */
  const ackReminders = (end: number, inclusive: boolean) => {
    if (ackAt === undefined || timeout === undefined) return;
    let k = Math.floor((end - ackAt) / timeout);
    if (!inclusive && ackAt + k * timeout >= end) k--;
    if (k < 1) return;
    for (const target of remindTargets()) {
      fired.push({ key: `ack.${ackCount}.${k}`, at: ackAt + k * timeout, pass, step: idx, target, reason: 'ack-timeout' });
    }
  };

  /** Timed changes before `t` (or at it, when inclusive). */
  const advance = (t: number, inclusive: boolean) => {
    const due = (x: number | undefined) => x !== undefined && (x < t || (inclusive && x === t));
    for (;;) {
      if (state === 'running' && due(waitEnd)) enter(pass, idx + 1, waitEnd!, 'step');
      else if (state === 'snoozed' && due(snoozeUntil)) {
        const at = snoozeUntil!;
        snoozeUntil = undefined;
        enter(pass, stageOf[Math.min(idx, steps.length - 1)]!, at, 'snooze-end');
      } else break;
    }
  };

  const escalate = (t: number) => {
    // The position does not move while snoozed: escalate goes on from the step snoozed at.
    snoozeUntil = undefined;
    let j = steps.findIndex((s, i) => i > idx && s.type === 'notify');
    if (j >= 0) return enter(pass, j, t, 'escalate');
    if (pass < policy.repeat) {
      j = steps.findIndex((s) => s.type === 'notify');
      return enter(pass + 1, j, t, 'escalate');
    }
    state = 'exhausted';
    idx = steps.length;
    waitEnd = undefined;
  };

  enter(0, 0, startedAt, 'step');
  const sorted = events
    .map((e, i) => ({ e, i, at: Math.max(e.at, startedAt) }))
    .filter((x) => x.at <= now)
    .sort((a, b) => a.at - b.at || a.i - b.i);

  for (const { e, at } of sorted) {
    if (state === 'resolved') break;
    advance(at, false);
    if (state === 'acknowledged') {
      if (e.type === 'ack') {
        ackReminders(at, false);
        ackAt = at;
        ackBy = e.by ?? ackBy;
        ackCount++;
      } else if (e.type === 'resolve') {
        ackReminders(at, false);
        state = 'resolved';
      }
      continue;
    }
    switch (e.type) {
      case 'ack':
        state = 'acknowledged';
        ackAt = at;
        ackBy = e.by;
        ackCount++;
        waitEnd = undefined;
        snoozeUntil = undefined;
        break;
      case 'resolve':
        state = 'resolved';
        waitEnd = undefined;
        snoozeUntil = undefined;
        break;
      case 'escalate':
        if ((state as PolicyState) === 'exhausted') break; // (enter() changes state inside a closure)
        escalate(at);
        break;
      case 'snooze':
        if (!(e.ms > 0)) break;
        state = 'snoozed';
        waitEnd = undefined;
        snoozeUntil = at + e.ms;
        break;
    }
  }
  advance(now, true);
  if (state === 'acknowledged') ackReminders(now, true);

  const status: PolicyStatus = { state, pass, step: idx, current, fired };
  if (state === 'running' && waitEnd !== undefined) status.due = waitEnd;
  if (state === 'snoozed' && snoozeUntil !== undefined) {
    status.due = snoozeUntil;
    status.snoozedUntil = snoozeUntil;
  }
  if (state === 'acknowledged' || (state === 'resolved' && ackAt !== undefined)) {
    status.acknowledgedAt = ackAt!;
    if (ackBy !== undefined) status.acknowledgedBy = ackBy;
  }
  if (state === 'acknowledged' && timeout !== undefined && ackAt !== undefined) {
    status.due = ackAt + (Math.floor((now - ackAt) / timeout) + 1) * timeout;
  }
  return status;
}

export interface NextAction {
  /** Notifications due now that `done` does not list yet (in order). */
  notify: Firing[];
  /** Set a timer for this instant (through clampDelay) and ask again. */
  due?: number;
  status: PolicyStatus;
}

/** What the dispatcher must do now, given the keys of the notifications it has already made. */
export function nextAction(policy: Policy, startedAt: number, now: number, events: readonly PolicyEvent[], done: Iterable<string>, opts: PolicyOptions = {}): NextAction {
  const status = policyPosition(policy, startedAt, now, events, opts);
  const seen = new Set(done);
  const r: NextAction = { notify: status.fired.filter((f) => !seen.has(f.key)), status };
  if (status.due !== undefined) r.due = status.due;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Targets to people

export interface TargetLookup {
  schedule(name: string): { schedule: Schedule; overrides: readonly Override[] } | undefined;
  group(name: string): readonly string[] | undefined;
}

export interface ResolvedTarget {
  target: PolicyTarget;
  emails: string[];
  /** Why nobody was found ("no schedule noc", "nobody on call on noc/secondary"). */
  problem?: string;
}

/** The people a notification reaches at `at` (a schedule target: the layer's on-call member; default the first layer). */
export function resolveTarget(target: PolicyTarget, lookup: TargetLookup, at: number): ResolvedTarget {
  switch (target.type) {
    case 'user':
      return { target, emails: [target.user] };
    case 'group': {
      const members = lookup.group(target.group);
      if (!members) return { target, emails: [], problem: `no group ${target.group}` };
      return members.length > 0 ? { target, emails: [...members] } : { target, emails: [], problem: `group ${target.group} has no members` };
    }
    case 'schedule': {
      const s = lookup.schedule(target.schedule);
      if (!s) return { target, emails: [], problem: `no schedule ${target.schedule}` };
      if (target.layer !== undefined && !s.schedule.layers.some((l) => l.name === target.layer)) {
        return { target, emails: [], problem: `schedule ${target.schedule} has no layer ${target.layer}` };
      }
      const m = onCallMember(s.schedule, s.overrides, at, target.layer);
      return m ? { target, emails: [m] } : { target, emails: [], problem: `nobody on call on ${formatTarget(target).slice('schedule:'.length)}` };
    }
  }
}
