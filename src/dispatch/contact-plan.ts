/**
 * A person's contact rules over the plan the dispatcher would walk for them. Pure: the user (as
 * the store gives it), the alert's level, the instant and the plan in; the plan to walk (a
 * subsequence of the given one, same order) or the instant to wait for out.
 *
 * The rules themselves are src/core/oncall/contact.ts (`applyContactRules`); this only maps the
 * dispatcher's steps to the core's channels and fills in the machine's zone for a user without one.
 * A user without rules gets the plan back unchanged.
 */
import type { SeverityLevel } from '../core/model.js';
import { applyContactRules, type ContactRules } from '../core/oncall/contact.js';
import type { User } from '../store/users.js';
import type { ContactRulesRecord } from '../store/contact-rules.js';
import type { PlanStep } from './policy.js';

export type ContactPlan = { plan: PlanStep[]; reason?: string } | { holdUntil: number; reason: string };

/** The zone this process runs in (TZ, else /etc/localtime): quiet hours of a user without --tz are in it. */
export function machineZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The core's rules for a stored record (the zone filled in). */
export function contactRulesOf(record: ContactRulesRecord, defaultZone: string = machineZone()): ContactRules {
  const rules: ContactRules = { zone: record.zone ?? defaultZone };
  if (record.quiet) rules.quiet = { windows: record.quiet.windows, callsFrom: record.quiet.callsFrom, below: record.quiet.below };
  if (record.bySeverity) rules.bySeverity = record.bySeverity;
  return rules;
}

/**
 * Which steps of `plan` to use for an alert of `level` (undefined: not known, counts as critical)
 * at `now`, or `{ holdUntil }` when the person's quiet hours hold it back.
 */
export function contactPlan(
  user: Pick<User, 'contactRules'>, level: SeverityLevel | undefined, now: number, plan: readonly PlanStep[], defaultZone: string = machineZone(),
): ContactPlan {
  if (!user.contactRules) return { plan: [...plan] };
  const decision = applyContactRules(contactRulesOf(user.contactRules, defaultZone), level, now, plan.map((s) => ({ name: s.channel, kind: s.kind })));
  if ('holdUntil' in decision) return decision;
  const steps = decision.plan.map((c) => ({ channel: c.name, kind: c.kind }));
  return decision.reason === undefined ? { plan: steps } : { plan: steps, reason: decision.reason };
}
