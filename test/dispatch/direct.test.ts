/**
 * Sending without the store (the appliance's alarm while its database fails): text channels
 * first, in the person's order; a channel that is down, busy on every line, or cannot address
 * the person is passed over; the first one that reaches them ends their walk.
 */
import { describe, expect, it } from 'vitest';
import { outcome, type Channel, type DeliveryJob, type OutcomeKind } from '../../src/channels/channel.js';
import { sendDirect, reached } from '../../src/dispatch/direct.js';
import { systemClock } from '../../src/util/clock.js';

function channel(name: string, kind: 'voice' | 'text', result: OutcomeKind, opts: { healthy?: boolean; field?: 'phone' | 'email' } = {}): Channel & { jobs: DeliveryJob[] } {
  const jobs: DeliveryJob[] = [];
  return {
    name: name as Channel['name'], kind, capacity: 1, jobs,
    address: (r) => (opts.field === 'phone' ? r.phone ?? null : r.email),
    health: () => ({ healthy: opts.healthy ?? true, detail: opts.healthy === false ? 'down' : 'ok' }),
    deliver: async (job) => { jobs.push(job); return outcome(result, `${name} ${result}`); },
  };
}

const alert = { id: 0, kind: 'problem' as const, subject: 'Alertline: database errors: SQLITE_IOERR_WRITE', text: 'x', receivedAt: 0, raw: Buffer.from('Subject: x\r\n\r\nx') };

describe('sendDirect', () => {
  it('text before voice, unreachable and unhealthy channels passed over, the first success ends the walk', async () => {
    const gsm = channel('gsm', 'voice', 'answered', { field: 'phone' });
    const sms = channel('sms', 'text', 'failed', { field: 'phone' });
    const mail = channel('mail', 'text', 'delivered');
    const xmpp = channel('xmpp', 'text', 'delivered', { healthy: false });
    const chans = { gsm, sms, mail, xmpp };
    const a = await sendDirect({ channels: () => chans, busy: () => 0, clock: systemClock }, alert, [
      { recipient: { email: 'ana@x.example', lang: 'en', phone: '+34600111222' }, order: ['gsm', 'xmpp', 'sms', 'mail'] },
      { recipient: { email: 'ben@x.example', lang: 'en' }, order: ['gsm', 'mail'] },
    ]);
    expect(a.map((t) => `${t.email}:${t.channel}:${t.outcome}`)).toEqual(['ana@x.example:sms:failed', 'ana@x.example:mail:delivered', 'ben@x.example:mail:delivered']);
    expect(gsm.jobs).toEqual([]);
    expect([...reached(a)]).toEqual(['ana@x.example', 'ben@x.example']);
  });

  it('a channel whose lines the dispatcher holds is left alone; voice when no text channel reaches them', async () => {
    const gsm = channel('gsm', 'voice', 'answered', { field: 'phone' });
    const sms = channel('sms', 'text', 'delivered', { field: 'phone' });
    const a = await sendDirect({ channels: () => ({ gsm, sms }), busy: (n) => (n === 'sms' ? 1 : 0), clock: systemClock }, alert, [
      { recipient: { email: 'ana@x.example', lang: 'en', phone: '+34600111222' }, order: ['sms', 'gsm'] },
    ]);
    expect(a.map((t) => `${t.channel}:${t.target}:${t.outcome}`)).toEqual(['gsm:+34600111222:answered']);
    expect(sms.jobs).toEqual([]);
  });
});
