/**
 * The escalation policy, pure: given where a delivery stands and what the last step gave, what
 * happens next. Channel-agnostic: it sees outcome kinds, never AT commands or SIP.
 *
 * until-acknowledged: walk the channel order; a voice channel ends the walk only on
 * "acknowledged"; text channels inform and the walk goes on; after the last channel
 * wait roundInterval and start another round, up to `rounds`. The first unanswered call is
 * repeated after quickRetry before moving on (a second call within minutes passes many phones'
 * "silence unknown callers"). Retryable failures of text channels retry the same step with backoff.
 * all: every channel once, in order.
 * text-only deliveries (resolved notices): text channels in order until one delivers.
 */
import type { ChannelKind, OutcomeKind } from '../channels/channel.js';

/** One step of a person's plan: a channel, by name, and what kind it is. */
export interface PlanStep {
  channel: string;
  kind: ChannelKind;
}

export interface PolicyConfig {
  mode: 'until-acknowledged' | 'all';
  rounds: number;
  roundIntervalMs: number;
  quickRetryMs: number;
}

/** How the step's channel retries a retryable failure (text channels); none: move on. */
export interface StepRetry {
  retries: number;
  backoffMs: number;
}

export interface Position {
  step: number;
  round: number;
  /** Tries already made at this step (for retries / quick repeat). */
  tries: number;
  textOnly: boolean;
  /** Whether someone was informed already (delivered / answered). */
  informed: boolean;
}

export type StepResult = OutcomeKind | 'skipped';

export type Next =
  | { kind: 'continue'; step: number; round: number; tries: number; at: number; informed: boolean }
  | { kind: 'finish'; state: 'done' | 'acknowledged' | 'unacknowledged' | 'failed'; informed: boolean; result: string };

const INFORMED: ReadonlySet<StepResult> = new Set(['delivered', 'answered', 'acknowledged']);

export function afterStep(opts: {
  pos: Position;
  plan: readonly PlanStep[];
  step: PlanStep;
  result: StepResult;
  retryable: boolean;
  /** The channel's retry rule. */
  retry?: StepRetry | undefined;
  now: number;
  cfg: PolicyConfig;
}): Next {
  const { pos, plan, result, cfg, now } = opts;
  const channel = opts.step.channel;
  const informed = pos.informed || INFORMED.has(result);
  const voice = opts.step.kind === 'voice';

  if (result === 'acknowledged') return { kind: 'finish', state: 'acknowledged', informed, result: `acknowledged on ${channel}` };

  // Retry the same text step after a transient failure (relay 4xx, SMS network error).
  const retry = opts.retry;
  if (!voice && retry && result === 'failed' && opts.retryable && pos.tries < retry.retries) {
    return { kind: 'continue', step: pos.step, round: pos.round, tries: pos.tries + 1, at: now + retry.backoffMs * 2 ** pos.tries, informed };
  }

  if (pos.textOnly) {
    if (result === 'delivered') return { kind: 'finish', state: 'done', informed, result: `notice delivered by ${channel}` };
    return nextStep(pos, plan, now, cfg, informed, true);
  }

  if (cfg.mode === 'until-acknowledged' && voice && (result === 'no-answer' || result === 'busy') &&
      pos.round === 1 && pos.tries === 0 && cfg.quickRetryMs > 0) {
    return { kind: 'continue', step: pos.step, round: pos.round, tries: 1, at: now + cfg.quickRetryMs, informed };
  }
  return nextStep(pos, plan, now, cfg, informed, false);
}

function nextStep(pos: Position, plan: readonly PlanStep[], now: number, cfg: PolicyConfig, informed: boolean, textOnly: boolean): Next {
  if (pos.step + 1 < plan.length) return { kind: 'continue', step: pos.step + 1, round: pos.round, tries: 0, at: now, informed };
  return endOfRound({ ...pos, informed }, now, cfg, textOnly);
}

/** The plan ran out for this round. */
export function endOfRound(pos: Position, now: number, cfg: PolicyConfig, textOnly = pos.textOnly): Next {
  const informed = pos.informed;
  if (textOnly) return { kind: 'finish', state: 'failed', informed, result: 'no text channel delivered the notice' };
  if (cfg.mode === 'all') {
    return informed
      ? { kind: 'finish', state: 'done', informed, result: 'every channel tried once' }
      : { kind: 'finish', state: 'failed', informed, result: 'no channel reached the recipient' };
  }
  if (pos.round < cfg.rounds) return { kind: 'continue', step: 0, round: pos.round + 1, tries: 0, at: now + cfg.roundIntervalMs, informed };
  return informed
    ? { kind: 'finish', state: 'unacknowledged', informed, result: `not acknowledged after ${pos.round} round(s)` }
    : { kind: 'finish', state: 'failed', informed, result: `no channel reached the recipient in ${pos.round} round(s)` };
}

/**
 * Which channels a delivery walks: the user's own order, else the global one; text-only
 * deliveries (resolved notices) keep only text channels. Channels of unknown kind (not running)
 * stay in the plan: the walk records them as not usable.
 */
export function channelPlan(globalOrder: readonly string[], userOrder: readonly string[] | null, textOnly: boolean, kindOf: (channel: string) => ChannelKind | undefined): PlanStep[] {
  const order = userOrder && userOrder.length ? userOrder : globalOrder;
  const steps = order.map((channel) => ({ channel, kind: kindOf(channel) ?? 'text' }));
  return textOnly ? steps.filter((s) => s.kind === 'text' && kindOf(s.channel) !== undefined) : steps;
}
