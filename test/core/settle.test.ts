/** How an alert ends, from the states of its deliveries. */
import { describe, expect, it } from 'vitest';
import { isExhausted, settle } from '../../src/core/settle.js';
import type { DeliveryState } from '../../src/store/rows.js';

describe('settle', () => {
  it.each<[DeliveryState[], ReturnType<typeof settle>]>([
    [['queued'], null],
    [['running', 'done'], null],
    [['acknowledged', 'unacknowledged'], 'acknowledged'],
    [['unacknowledged', 'done', 'failed'], 'unacknowledged'],
    [['done', 'failed'], 'delivered'],
    [['failed', 'cancelled'], 'failed'],
    [['cancelled', 'suppressed'], 'cancelled'],
    [[], 'cancelled'],
  ])('%j → %s', (states, expected) => {
    expect(settle(states)).toBe(expected);
  });

  it('failed and unacknowledged are the ends an operator must hear of', () => {
    expect(isExhausted('failed')).toBe(true);
    expect(isExhausted('unacknowledged')).toBe(true);
    expect(isExhausted('acknowledged')).toBe(false);
    expect(isExhausted('delivered')).toBe(false);
  });
});
