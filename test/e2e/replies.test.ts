/**
 * Replies reach the core the same way whatever carried them: the daemon's InboundSink reads an
 * SMS, a SIP MESSAGE or a chat message with the one reply grammar, finds the person by the
 * address they wrote from, and acts; a known sender gets an answer, a stranger none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, startDaemon, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { FakeChannel } from '../helpers/fake-channel.js';

/** A text channel that delivers: the alert reaches the person (and ends delivered). */
const mailOk = { channels: { order: ['mail'], mail: { enabled: true } } };
const factories = () => ({ factories: { mail: async () => new FakeChannel('mail', () => ({ kind: 'delivered' as const, reason: 'ok', retryable: false })) } });

let d: Awaited<ReturnType<typeof startDaemon>> | null = null;
afterEach(async () => {
  await d?.stop();
  d = null;
});

async function alertFor(to: string): Promise<number> {
  const r = await sendRaw(d!.port, { to: [to], data: fixture('zabbix-problem.eml') });
  return Number(/alert (\d+)/.exec(r.final!.text)![1]);
}

describe('replies through the daemon', () => {
  it('a SIP MESSAGE "ack <id>" from a user\'s SIP address acknowledges (any spelling of that address)', async () => {
    d = await startDaemon({ channels: { voip: { domain: 'pbx.example' } } }, { users: [['ana@alerts.example', { sip: '201' }]] });
    const id = await alertFor('ana@alerts.example');
    expect(await d.daemon.inbound.message({ sip: 'sip:201@pbx.example' }, `ack ${id}`, 'sipmsg')).toBe(`Alertline: alert ${id} acknowledged.`);
    await waitFor(async () => (await d!.daemon.stores.alerts.get(id))!.state === 'acknowledged');
    expect(await d.daemon.stores.alerts.get(id)).toMatchObject({ ack_by: 'ana@alerts.example', ack_via: 'sipmsg-reply' });
  });

  it('SMS codes: "<id>s" snoozes, "<id>r" resolves, anything else gets the list of codes; strangers get nothing', async () => {
    d = await startDaemon({}, { users: [['ana@alerts.example', { phone: '+34600111222' }]] });
    const id = await alertFor('ana@alerts.example');
    await waitFor(async () => (await d!.daemon.stores.alerts.get(id))!.state !== 'pending');
    const help = await d.daemon.inbound.message({ phone: '+34600111222' }, 'what?', 'sms');
    expect(help).toMatch(/<id>a ack, <id>e escalate, <id>s snooze 30 min, <id>r resolve/);
    expect(await d.daemon.inbound.message({ phone: '+34999000111' }, `${id}r`, 'sms')).toBeNull();
    expect(await d.daemon.inbound.message({ phone: '+34600111222' }, `${id}r`, 'sms')).toBe(`Alertline: alert ${id} resolved.`);
    expect((await d.daemon.stores.alerts.get(id))!.state).toBe('resolved');
    expect((await d.daemon.stores.alerts.events(id)).map((e) => e.detail ?? '').join(' ')).toMatch(/by ana@alerts.example via sms-reply/);
  });

  it('a resolution by a person tells the others the alert reached ("Resolved by …"), on text channels', async () => {
    d = await startDaemon(mailOk, { ...factories(), users: [['ana@alerts.example', { phone: '+34600111222', group: 'noc' }], ['ben@alerts.example', { group: 'noc' }]] });
    const id = await alertFor('noc@alerts.example');
    await waitFor(async () => (await d!.daemon.stores.alerts.get(id))!.state === 'delivered');
    expect((await d.daemon.inbound.message({ phone: '+34600111222' }, `${id}r`, 'sms'))).toBe(`Alertline: alert ${id} resolved.`);
    const notice = await waitFor(async () => (await d!.daemon.stores.alerts.list(5)).find((a) => a.subject.startsWith('Resolved by ana@alerts.example')));
    const ds = await d.daemon.stores.alerts.deliveries(notice.id);
    expect(ds.map((x) => [x.user_email, x.text_only])).toEqual([['ben@alerts.example', 1]]);
  });

  it('a call-back from a user\'s number acknowledges their latest alert and is confirmed by SMS text', async () => {
    d = await startDaemon(mailOk, { ...factories(), users: [['ana@alerts.example', { phone: '+34600111222' }]] });
    const id = await alertFor('ana@alerts.example');
    await waitFor(async () => (await d!.daemon.stores.alerts.get(id))!.state === 'delivered');
    expect(await d.daemon.inbound.callBack({ phone: '+34600111222' }, 'call-back')).toBe(`Alertline: alert ${id} acknowledged by your call.`);
    expect(await d.daemon.stores.alerts.get(id)).toMatchObject({ state: 'acknowledged', ack_via: 'call-back' });
    expect(await d.daemon.inbound.callBack({ phone: '+34999000111' }, 'call-back')).toBeNull();
  });
});

describe('acknowledged and forgotten', () => {
  it('an alert acknowledged but not resolved after escalation.ackTimeout notifies the acknowledger again, once', async () => {
    d = await startDaemon({ ...mailOk, escalation: { ackTimeout: '1h' } }, { ...factories(), users: [['ana@alerts.example', { phone: '+34600111222' }], ['ben@alerts.example', {}]] });
    const id = await alertFor('ana@alerts.example');
    await waitFor(async () => (await d!.daemon.stores.alerts.get(id))!.state === 'delivered');
    expect((await d.daemon.acknowledge({ alertId: id, by: { phone: '+34600111222' }, via: 'sms-reply' })).ok).toBe(true);
    const now = Date.now();
    expect(await d.daemon.remindAcknowledgers(now + 59 * 60_000)).toBe(0); // not yet
    expect(await d.daemon.remindAcknowledgers(now + 61 * 60_000)).toBe(1);
    expect(await d.daemon.remindAcknowledgers(now + 120 * 60_000)).toBe(0); // once
    const rows = await d.daemon.stores.alerts.list(10);
    const reminder = rows.find((a) => a.subject.startsWith('Still not resolved'))!;
    expect(reminder.subject).toContain('you acknowledged it');
    expect((await d.daemon.stores.alerts.deliveries(reminder.id)).map((x) => x.user_email)).toEqual(['ana@alerts.example']);
    expect((await d.daemon.stores.alerts.events(id)).map((e) => e.kind)).toContain('ack-reminder');
  });
});
