/**
 * Routing an incoming alert (src/core/routing.ts): operator patterns that would backtrack in a
 * RegExp engine, against hostile hosts and subjects, and long recipient addresses. Texts longer
 * than the pattern matcher's bound (1000 characters) are cut there, so the ratio flattens.
 */
import type { AdversarialCase } from './types.js';
import { Router } from '../../src/core/routing.js';
import type { RoutingTables } from '../../src/store/oncall.js';

const NOW = Date.parse('2027-03-28T08:00:00Z');

function tables(host: string, subject: string): RoutingTables {
  return {
    routes: [
      { id: 1, position: 1, address: 'noc', policy: 'p', host, createdAt: 0 },
      { id: 2, position: 2, address: 'noc', policy: 'p', subject, createdAt: 0 },
    ],
    policies: [{ name: 'p', steps: [{ type: 'notify', target: { type: 'user', user: 'a@x.example' } }], repeat: 0, createdAt: 0, updatedAt: 0 }],
    schedules: [],
    silences: [{ id: 1, host, subject, from: NOW - 1, until: NOW + 1, comment: 'x', createdBy: null, createdAt: 0 }],
    users: [{ email: 'a@x.example', group: null }],
  };
}

const router = new Router(tables('(a+)+b', '(x|xx)*y'));

export const cases: AdversarialCase[] = [
  { name: 'host (a+)+b against aaaa…', n: 90, make: (n) => 'a'.repeat(n), run: (s) => router.route({ recipient: 'noc@x', host: String(s), subject: 's' }, NOW) },
  { name: 'subject (x|xx)*y against xxxx…', n: 90, make: (n) => 'x'.repeat(n), run: (s) => router.route({ recipient: 'noc@x', subject: String(s) }, NOW) },
  { name: 'recipient local part of n characters', n: 1000, make: (n) => `${'n'.repeat(n)}@x`, run: (s) => router.route({ recipient: String(s), subject: 's' }, NOW) },
];
