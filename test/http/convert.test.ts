/** Webhook payloads to alerts (pure): properties over generated payloads, and the synthetic mail read back by a real mail parser. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { alertmanagerPayloadSchema, genericAlertSchema } from '../../src/receiver/http/payloads.js';
import { fromAlertmanager, fromGeneric } from '../../src/receiver/http/convert.js';
import { syntheticMail } from '../../src/receiver/http/synthetic-mail.js';
import { severityLevel } from '../../src/receiver/http/severity.js';

const ctx = { receivedAt: Date.UTC(2026, 11, 1), to: [], hostname: 'alertline.test' };
const labelValue = fc.string({ unit: 'grapheme', maxLength: 300 });
const promAlert = fc.record({
  status: fc.constantFrom('firing', 'resolved'),
  labels: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), labelValue, { maxKeys: 10 }),
  annotations: fc.dictionary(fc.constantFrom('summary', 'description', 'runbook'), labelValue),
  fingerprint: fc.option(fc.stringMatching(/^[0-9a-f]{16}$/), { nil: undefined }),
});

describe('Alertmanager conversion', () => {
  it('any valid payload gives one alert per alert: bounded subject, one-line sentence, identity from the fingerprint, kind from the status', () => {
    fc.assert(fc.property(fc.array(promAlert, { maxLength: 5 }), (alerts) => {
      const p = alertmanagerPayloadSchema.parse({ version: '4', status: 'firing', alerts });
      const out = fromAlertmanager(p, ctx);
      expect(out).toHaveLength(alerts.length);
      out.forEach((w, i) => {
        const a = alerts[i]!;
        expect(w.parsed.kind).toBe(a.status === 'resolved' ? 'resolved' : 'problem');
        expect(w.parsed.subject.length).toBeLessThanOrEqual(300);
        expect(w.parsed.sentence).not.toMatch(/[\u0000-\u001f]/);
        if (a.fingerprint) expect(w.parsed.problemKey).toBe(`alertmanager:${a.fingerprint}`);
        expect(w.parsed.monitor).toBe('alertmanager');
      });
      // The same labels without a fingerprint give the same identity twice.
      const again = fromAlertmanager(p, ctx);
      expect(again.map((w) => w.parsed.problemKey)).toEqual(out.map((w) => w.parsed.problemKey));
    }), { numRuns: 200 });
  });

  it('firing and resolved of the same fingerprint share the problem key', () => {
    const mk = (status: 'firing' | 'resolved') => fromAlertmanager(alertmanagerPayloadSchema.parse({ status, alerts: [{ status, labels: { alertname: 'A' }, fingerprint: '0123456789abcdef' }] }), ctx)[0]!;
    expect(mk('firing').parsed.problemKey).toBe(mk('resolved').parsed.problemKey);
    expect(mk('firing').parsed.subject).toBe('Problem: A');
    expect(mk('resolved').parsed.subject).toBe('Resolved: A');
  });
});

describe('synthetic mail', () => {
  it('a real mail parser reads back the subject and text, whatever their characters', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter((x) => genericAlertSchema.safeParse({ summary: x, action: 'trigger', to: ['noc'] }).success), fc.string({ unit: 'grapheme', maxLength: 2000 }), async (summary, details) => {
      const g = genericAlertSchema.parse({ summary, action: 'trigger', to: ['noc'], details });
      const w = fromGeneric(g, ctx);
      const mail = await simpleParser(w.raw);
      expect(mail.subject).toBe(w.parsed.subject);
      expect((mail.text ?? '').replace(/\r\n/g, '\n').trim()).toBe(w.parsed.text.replace(/\r\n?/g, '\n').trim());
    }), { numRuns: 100 });
  });

  it('a summary of only spaces or control characters is refused, naming the field', () => {
    for (const summary of [' ', '\t\n', '\u0001\u0002']) {
      const r = genericAlertSchema.safeParse({ summary, action: 'trigger', to: ['noc'] });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(['summary']);
    }
  });

  it('header injection through the subject is impossible', () => {
    const raw = syntheticMail({ from: 'a@b', subject: 'x\r\nBcc: victim@example.com', text: 't', date: 0, messageId: 'm@b' }).toString('latin1');
    expect(raw).not.toMatch(/^Bcc:/m);
  });
});

describe('severity', () => {
  it('maps monitor words onto the common scale', () => {
    expect(['critical', 'P1', 'High', 'error', 'warning', 'info', 'none', 'banana'].map(severityLevel))
      .toEqual(['critical', 'critical', 'high', 'high', 'warning', 'info', 'info', undefined]);
  });
});
