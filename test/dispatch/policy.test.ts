/** The escalation policy as a table: where a delivery stands + what the step gave → what happens next. */
import { describe, expect, it } from 'vitest';
import { afterStep, channelPlan, endOfRound, type PlanStep, type PolicyConfig, type Position } from '../../src/dispatch/policy.js';

const cfg: PolicyConfig = { mode: 'until-acknowledged', rounds: 3, roundIntervalMs: 300_000, quickRetryMs: 60_000 };
const plan: PlanStep[] = [{ channel: 'voip', kind: 'voice' }, { channel: 'sms', kind: 'text' }, { channel: 'mail', kind: 'text' }];
const at = (step: number, over: Partial<Position> = {}): Position => ({ step, round: 1, tries: 0, textOnly: false, informed: false, ...over });
const NOW = 1_000_000;
const retry = { retries: 2, backoffMs: 10_000 };

describe('afterStep', () => {
  it.each<[string, Position, number, Parameters<typeof afterStep>[0]['result'], boolean, ReturnType<typeof afterStep>]>([
    ['an acknowledgement finishes', at(0), 0, 'acknowledged', false, { kind: 'finish', state: 'acknowledged', informed: true, result: 'acknowledged on voip' }],
    ['the first unanswered call of round 1 is repeated after quickRetry', at(0), 0, 'no-answer', false, { kind: 'continue', step: 0, round: 1, tries: 1, at: NOW + 60_000, informed: false }],
    ['busy is repeated the same way', at(0), 0, 'busy', false, { kind: 'continue', step: 0, round: 1, tries: 1, at: NOW + 60_000, informed: false }],
    ['the repeated call unanswered moves on', at(0, { tries: 1 }), 0, 'no-answer', false, { kind: 'continue', step: 1, round: 1, tries: 0, at: NOW, informed: false }],
    ['an answered call informs and moves on', at(0), 0, 'answered', false, { kind: 'continue', step: 1, round: 1, tries: 0, at: NOW, informed: true }],
    ['a retryable text failure retries with backoff', at(1), 1, 'failed', true, { kind: 'continue', step: 1, round: 1, tries: 1, at: NOW + 10_000, informed: false }],
    ['the backoff doubles', at(1, { tries: 1 }), 1, 'failed', true, { kind: 'continue', step: 1, round: 1, tries: 2, at: NOW + 20_000, informed: false }],
    ['retries run out: next step', at(1, { tries: 2 }), 1, 'failed', true, { kind: 'continue', step: 2, round: 1, tries: 0, at: NOW, informed: false }],
    ['a permanent text failure moves on', at(1), 1, 'rejected', false, { kind: 'continue', step: 2, round: 1, tries: 0, at: NOW, informed: false }],
    ['the last step delivered: next round after the interval', at(2), 2, 'delivered', false, { kind: 'continue', step: 0, round: 2, tries: 0, at: NOW + 300_000, informed: true }],
    ['last round, informed: unacknowledged', at(2, { round: 3, informed: true }), 2, 'delivered', false, { kind: 'finish', state: 'unacknowledged', informed: true, result: 'not acknowledged after 3 round(s)' }],
    ['last round, nobody reached: failed', at(2, { round: 3 }), 2, 'failed', false, { kind: 'finish', state: 'failed', informed: false, result: 'no channel reached the recipient in 3 round(s)' }],
    ['a resolved notice ends once a text channel delivers it', at(1, { textOnly: true }), 1, 'delivered', false, { kind: 'finish', state: 'done', informed: true, result: 'notice delivered by sms' }],
  ])('%s', (_name, pos, stepIndex, result, retryable, expected) => {
    expect(afterStep({ pos, plan, step: plan[stepIndex]!, result, retryable, retry, now: NOW, cfg })).toEqual(expected);
  });

  it('a voice failure is never retried on the same step, even when retryable', () => {
    expect(afterStep({ pos: at(0, { round: 2 }), plan, step: plan[0]!, result: 'failed', retryable: true, retry, now: NOW, cfg }))
      .toEqual({ kind: 'continue', step: 1, round: 2, tries: 0, at: NOW, informed: false });
  });

  it('mode all: every channel once, then done (informed) or failed', () => {
    const all = { ...cfg, mode: 'all' as const };
    expect(endOfRound(at(3, { informed: true }), NOW, all)).toEqual({ kind: 'finish', state: 'done', informed: true, result: 'every channel tried once' });
    expect(endOfRound(at(3), NOW, all)).toEqual({ kind: 'finish', state: 'failed', informed: false, result: 'no channel reached the recipient' });
  });
});

describe('channelPlan', () => {
  const kinds: Record<string, 'voice' | 'text'> = { voip: 'voice', gsm: 'voice', sms: 'text', mail: 'text' };
  const kindOf = (c: string) => kinds[c];
  it.each<[string[], string[] | null, boolean, string[]]>([
    [['voip', 'gsm', 'sms', 'mail'], null, false, ['voip', 'gsm', 'sms', 'mail']],
    [['voip', 'gsm', 'sms', 'mail'], ['sms', 'voip'], false, ['sms', 'voip']],
    [['voip', 'gsm', 'sms', 'mail'], [], false, ['voip', 'gsm', 'sms', 'mail']],
    [['voip', 'gsm', 'sms', 'mail'], null, true, ['sms', 'mail']],
    [['gsm', 'mail', 'xmpp'], null, true, ['mail']],
  ])('%j / user %j / text-only %s', (global, user, textOnly, expected) => {
    expect(channelPlan(global, user, textOnly, kindOf).map((s) => s.channel)).toEqual(expected);
  });
});
