/**
 * Settling: when every delivery of an open alert has ended, the alert's state says how it ended.
 * Pure.
 */
import type { DeliveryState } from '../store/rows.js';
import type { AlertState } from './model.js';

export type SettledState = 'acknowledged' | 'unacknowledged' | 'delivered' | 'failed' | 'cancelled';

/** The end state, or null while a delivery is still queued or running. */
export function settle(deliveries: readonly DeliveryState[]): SettledState | null {
  if (deliveries.some((s) => s === 'queued' || s === 'running')) return null;
  if (deliveries.includes('acknowledged')) return 'acknowledged';
  if (deliveries.includes('unacknowledged')) return 'unacknowledged';
  if (deliveries.includes('done')) return 'delivered';
  if (deliveries.includes('failed')) return 'failed';
  return 'cancelled';
}

/** A settled state that means nobody was reached or nobody answered: the operator must hear of it. */
export function isExhausted(s: AlertState): boolean {
  return s === 'failed' || s === 'unacknowledged';
}
