/**
 * The escalation policy, pure: given where a delivery stands and what the last step gave, what
 * happens next. Channel-agnostic: it sees outcome kinds, never AT commands or SIP.
 *
 * until-acknowledged: walk the channel order; a voice channel (voip, gsm) ends the walk only on
 * "acknowledged"; text channels (sms, mail) inform and the walk goes on; after the last channel
 * wait roundInterval and start another round, up to `rounds`. The first unanswered call is
 * repeated after quickRetry before moving on (a second call within minutes passes many phones'
 * "silence unknown callers"). Retryable failures of text channels retry the same step with backoff.
 * all: every channel once, in order.
 * text-only deliveries (resolved notices): text channels in order until one delivers.
 */
import type { ChannelName, OutcomeKind } from '../channels/channel.js';

export const VOICE_CHANNELS: ReadonlySet<ChannelName> = new Set(['voip', 'gsm']);
export const TEXT_CHANNELS: ReadonlySet<ChannelName> = new Set(['sms', 'mail']);

export interface PolicyConfig {
  mode: 'until-acknowledged' | 'all';
  rounds: number;
  roundIntervalMs: number;
  quickRetryMs: number;
  /** Retries of a retryable text-channel failure, and the first backoff (doubling). */
  textRetries: number;
  textBackoffMs: number;
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
  plan: ChannelName[];
  channel: ChannelName;
  result: StepResult;
  retryable: boolean;
  now: number;
  cfg: PolicyConfig;
}): Next {
  const { pos, plan, channel, result, cfg, now } = opts;
  const informed = pos.informed || INFORMED.has(result);
  const voice = VOICE_CHANNELS.has(channel);

  if (result === 'acknowledged') return { kind: 'finish', state: 'acknowledged', informed, result: `acknowledged on ${channel}` };

  // Retry the same text step after a transient failure (relay 4xx, SMS network error).
  if (!voice && result === 'failed' && opts.retryable && pos.tries < cfg.textRetries) {
    return { kind: 'continue', step: pos.step, round: pos.round, tries: pos.tries + 1, at: now + cfg.textBackoffMs * 2 ** pos.tries, informed };
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

function nextStep(pos: Position, plan: ChannelName[], now: number, cfg: PolicyConfig, informed: boolean, textOnly: boolean): Next {
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

/** Which channels a delivery walks: the user's own order, else the global one; text-only deliveries keep only sms/mail. */
export function channelPlan(globalOrder: ChannelName[], userOrder: ChannelName[] | null, textOnly: boolean): ChannelName[] {
  const order = userOrder && userOrder.length ? userOrder : globalOrder;
  return textOnly ? order.filter((c) => TEXT_CHANNELS.has(c)) : [...order];
}
