/** HTTP ingest: hostile webhook bodies through validation and conversion, and hostile Authorization headers. */
import type { AdversarialCase } from './types.js';
import { alertmanagerPayloadSchema, genericAlertSchema } from '../../src/receiver/http/payloads.js';
import { fromAlertmanager, fromGeneric } from '../../src/receiver/http/convert.js';
import { splitRecipients } from '../../src/receiver/http/webhook-alert.js';
import { syntheticMail } from '../../src/receiver/http/synthetic-mail.js';
import { bearer } from '../../src/http/auth.js';

const ctx = { receivedAt: 0, to: ['noc'], hostname: 'bench' };

function amBody(n: number, alert: (i: number) => object): string {
  return JSON.stringify({ version: '4', status: 'firing', alerts: Array.from({ length: n }, (_, i) => alert(i)) });
}

export const cases: AdversarialCase[] = [
  {
    name: 'alertmanager: many alerts, many labels',
    n: 50,
    make: (n) => amBody(Math.min(n, 1000), (i) => ({ status: 'firing', labels: Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`l${k}`, `v${i}-${k}`])), annotations: {} })),
    run: (s) => fromAlertmanager(alertmanagerPayloadSchema.parse(JSON.parse(String(s))), ctx),
  },
  {
    name: 'alertmanager: summary of control characters and spaces',
    n: 1000,
    make: (n) => amBody(1, () => ({ status: 'firing', labels: { alertname: 'x' }, annotations: { summary: '\u0001 \t'.repeat(n), description: ' \n'.repeat(n) } })),
    run: (s) => fromAlertmanager(alertmanagerPayloadSchema.parse(JSON.parse(String(s))), ctx),
  },
  {
    name: 'generic: non-ASCII summary (RFC 2047 words) and long details',
    n: 100,
    make: (n) => JSON.stringify({ summary: 'é€😀'.repeat(Math.min(n, 330)), action: 'trigger', to: ['noc'], details: 'ä'.repeat(n * 10) }),
    run: (s) => fromGeneric(genericAlertSchema.parse(JSON.parse(String(s))), ctx),
  },
  {
    name: 'recipients: commas and spaces',
    n: 1000,
    make: (n) => ', '.repeat(n) + 'noc',
    run: (s) => splitRecipients(String(s)),
  },
  {
    name: 'synthetic mail: long text',
    n: 10_000,
    make: (n) => 'line\n'.repeat(n / 5),
    run: (s) => syntheticMail({ from: 'a@b', subject: 'x', text: String(s), date: 0, messageId: 'm@b' }),
  },
  {
    name: 'Authorization: Bearer and spaces',
    n: 1000,
    make: (n) => `Bearer${' '.repeat(n)}x`,
    run: (s) => bearer(String(s)),
  },
];
