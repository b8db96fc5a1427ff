/** Admission (core) as the store runs it in its transaction: dedupe, ignore, resolved notices, acknowledgement; injected clock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { parseAlertMail } from '../../src/receiver/parse-alert.js';
import { admissionRules, admitInput, compileIgnore, type AdmissionSettings as FilterSettings } from '../../src/core/admission.js';
import { ackAs } from '../helpers/admit.js';
import { fixture, tempDir } from '../helpers/env.js';

let s: Stores;
let tmp: ReturnType<typeof tempDir>;
const clock = new ManualClock(Date.UTC(2026, 10, 22, 3, 0, 0));
const MIN = 60_000;

beforeEach(async () => {
  tmp = tempDir();
  s = openStores(tmp.dir, () => clock.now());
  await s.users.add('a@x.example', { group: 'noc', phone: '+34600000001' });
  await s.users.add('b@x.example', { group: 'noc', phone: '+34600000002' });
});
afterEach(async () => {
  await s.close();
  tmp.cleanup();
});

const filter = (over: Partial<FilterSettings> = {}): FilterSettings => ({ ignore: [], dedupeWindowMs: 30 * MIN, notifyResolved: true, ...over });

async function receive(raw: Buffer | string, rcpt: string[], f = filter()) {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  const recipients = [];
  for (const r of rcpt) recipients.push(...(await s.users.resolveRecipient(r)));
  const [res] = await s.alerts.admitBatch([admitInput({ parsed: await parseAlertMail(buf), raw: buf, rcpt, recipients, receivedAt: clock.now() })], admissionRules(f));
  return res!;
}

const mail = (subject: string, body = 'Host: web01\r\n') => `Subject: ${subject}\r\n\r\n${body}`;

describe('dedupe', () => {
  it('suppresses the same Zabbix event to the same person inside the window, and sends it again after', async () => {
    const first = await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    expect(first.state).toBe('pending');
    clock.advance(10 * MIN);
    const dup = await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    expect(dup.state).toBe('suppressed');
    expect((await s.alerts.deliveries(dup.id))[0]!.state).toBe('suppressed');
    expect((await s.alerts.get(dup.id))).not.toBeNull(); // stored, not lost
    clock.advance(21 * MIN);
    const later = await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    expect(later.state).toBe('pending');
  });

  it('is per recipient: the second on-call person still gets the same event', async () => {
    await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    const other = await receive(fixture('zabbix-problem.eml'), ['b@x.example']);
    expect(other.state).toBe('pending');
    expect(other.deliveries).toEqual([{ email: 'b@x.example', state: 'queued' }]);
  });

  it('is per event: two hosts with the same trigger stay two alerts', async () => {
    const one = await receive(mail('Problem: Disk full', 'Host: web01'), ['a@x.example']);
    const two = await receive(mail('Problem: Disk full', 'Host: web02'), ['a@x.example']);
    expect(one.state).toBe('pending');
    expect(two.state).toBe('pending');
    const again = await receive(mail('Problem: Disk full', 'Host: web02'), ['a@x.example']);
    expect(again.state).toBe('suppressed');
  });

  it('catches duplicates inside one group-commit batch', async () => {
    const buf = fixture('zabbix-problem.eml');
    const parsed = await parseAlertMail(buf);
    const users = (await s.users.resolveRecipient('a@x.example'));
    const res = (await s.alerts.admitBatch([1, 2].map(() => admitInput({ parsed, raw: buf, rcpt: ['a@x.example'], recipients: users, receivedAt: clock.now() })), admissionRules(filter())));
    expect(res.map((r) => r.state)).toEqual(['pending', 'suppressed']);
  });

  it('a resolved mail is not a duplicate of its problem', async () => {
    await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    const r = await receive(fixture('zabbix-resolved.eml'), ['a@x.example']);
    expect(r.deliveries[0]!.state).not.toBe('suppressed');
  });

  it('window 0 disables dedupe', async () => {
    await receive(fixture('zabbix-problem.eml'), ['a@x.example'], filter({ dedupeWindowMs: 0 }));
    expect((await receive(fixture('zabbix-problem.eml'), ['a@x.example'], filter({ dedupeWindowMs: 0 }))).state).toBe('pending');
  });
});

describe('ignore', () => {
  it('stores matching alerts as ignored, visible in history, with no delivery', async () => {
    const f = filter({ ignore: compileIgnore(['^\\[FIRING:\\d+\\] Watchdog', 'test alert']) });
    const r = await receive(mail('[FIRING:1] Watchdog (none)'), ['noc@x.example'], f);
    expect(r.state).toBe('ignored');
    expect((await s.alerts.deliveries(r.id)).map((x) => x.state)).toEqual(['ignored', 'ignored']);
    expect((await s.alerts.events(r.id)).map((e) => e.kind)).toContain('ignored');
    expect((await receive(mail('Problem: real one'), ['a@x.example'], f)).state).toBe('pending');
  });
});

describe('resolved mail', () => {
  it('marks the open problem resolved and cancels its queued deliveries', async () => {
    const p = await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    const r = await receive(fixture('zabbix-resolved.eml'), ['a@x.example']);
    expect(r.resolved).toEqual([p.id]);
    expect((await s.alerts.get(p.id))!.state).toBe('resolved');
    expect((await s.alerts.get(p.id))!.resolved_by).toBe(r.id);
    expect((await s.alerts.deliveries(p.id))[0]!.state).toBe('cancelled');
  });

  it('sends the notice only to people who were told of the problem, and only on text channels', async () => {
    const p = await receive(fixture('zabbix-problem.eml'), ['a@x.example', 'b@x.example']);
    // a was informed (an attempt delivered), b was not reached yet.
    const da = (await s.alerts.deliveries(p.id)).find((x) => x.user_email === 'a@x.example')!;
    const att = (await s.deliveries.start(da.id, 'sms', '+34600000001', clock.now()))!;
    await s.deliveries.finishAttempt(att, { kind: 'delivered', reason: 'ok' }, clock.now());
    const r = await receive(fixture('zabbix-resolved.eml'), ['a@x.example', 'b@x.example']);
    const ds = (await s.alerts.deliveries(r.id));
    expect(ds.find((x) => x.user_email === 'a@x.example')).toMatchObject({ state: 'queued', text_only: 1 });
    expect(ds.find((x) => x.user_email === 'b@x.example')).toMatchObject({ state: 'cancelled', result: 'was not notified of the problem' });
  });

  it('notifyResolved false: the resolved mail is stored and nothing is sent', async () => {
    await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    const r = await receive(fixture('zabbix-resolved.eml'), ['a@x.example'], filter({ notifyResolved: false }));
    expect(r.state).toBe('cancelled');
  });
});

describe('acknowledge', () => {
  it('stops queued deliveries for the alert and for the same problem sent to others', async () => {
    const a = await receive(fixture('zabbix-problem.eml'), ['a@x.example']);
    const b = await receive(fixture('zabbix-problem.eml'), ['b@x.example']);
    const r = await ackAs(s, a.id, 'a@x.example', 'cli', clock.now());
    const ids = r.ok ? r.acknowledged : [];
    expect(ids.sort()).toEqual([a.id, b.id].sort());
    expect((await s.alerts.deliveries(b.id))[0]!.state).toBe('acknowledged');
    expect((await s.alerts.get(a.id))).toMatchObject({ state: 'acknowledged', ack_by: 'a@x.example', ack_via: 'cli' });
    expect(await ackAs(s, a.id, 'x', 'cli', clock.now())).toMatchObject({ ok: false, reason: 'not-open' });
  });
});
