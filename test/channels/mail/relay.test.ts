/** The mail channel against a real SMTP server on loopback, end to end through the daemon. */
import { afterEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { fixture, startDaemon, startSink, waitFor } from '../../helpers/env.js';
import { sendRaw } from '../../helpers/smtp-client.js';
import { defaultFactories } from '../../../src/daemon.js';
import { silentLogger } from '../../../src/util/log.js';
import { MailChannel, classifySmtpError } from '../../../src/channels/mail/mail-channel.js';

type D = Awaited<ReturnType<typeof startDaemon>>;
let d: D | null = null;
let sink: Awaited<ReturnType<typeof startSink>> | null = null;
afterEach(async () => {
  await d?.stop();
  await sink?.close();
  d = null;
  sink = null;
});

function mailConfig(port: number, over: Record<string, unknown> = {}) {
  return {
    channels: { order: ['mail'], mail: { enabled: true, host: '127.0.0.1', port, requireTLS: false, from: 'alertline@appliance.example', retries: 3, retryBackoff: '50ms', timeout: '5s', ...over } },
  };
}

async function deliverOne(raw: Buffer, over: Record<string, unknown> = {}, respond?: (n: number) => [number, string] | null) {
  sink = await startSink(respond ? { respond: (n) => respond(n) } : {});
  d = await startDaemon(mailConfig(sink.port, over), { factories: defaultFactories(silentLogger) });
  const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: raw });
  expect(r.final!.code).toBe(250);
  const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
  await waitFor(async () => {
    const a = (await d!.daemon.stores.alerts.get(id))!;
    return !['pending', 'notifying'].includes(a.state);
  }, 15_000);
  return { id, alert: (await d.daemon.stores.alerts.get(id))!, attempts: (await d.daemon.stores.alerts.attempts(id)) };
}

describe('mail relay', () => {
  it('relays the original alert with From set to the appliance and the sender in Reply-To', async () => {
    const { alert, attempts } = await deliverOne(fixture('zabbix-problem-utf8.eml'));
    expect(alert.state).toBe('delivered');
    expect(attempts.map((a) => a.outcome)).toEqual(['delivered']);
    expect(sink!.messages).toHaveLength(1);
    const m = sink!.messages[0]!;
    expect(m.from).toBe('alertline@appliance.example');
    expect(m.to).toEqual(['oncall@alerts.example']);
    const parsed = await simpleParser(m.raw);
    expect(parsed.from!.value[0]!.address).toBe('alertline@appliance.example');
    expect(parsed.replyTo!.value[0]!.address).toBe('zabbix@smtp.appliance');
    expect(parsed.subject).toBe('Problema: Servidor de base de datos no responde: conexión rechazada en el puerto 5432');
    expect(parsed.text).toContain('Conexiones: 0 ↓');
    expect(parsed.inReplyTo).toContain('4211.');
    expect(m.raw.toString()).toMatch(/X-Alertline-Relayed: alertline; alert=\d+/);
  });

  it('retries a 4xx with backoff and succeeds, recording each attempt', async () => {
    const { alert, attempts } = await deliverOne(fixture('zabbix-problem.eml'), {}, (n) => (n <= 2 ? [451, '4.3.0 try again later'] : null));
    expect(alert.state).toBe('delivered');
    expect(attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'delivered']);
    expect(attempts[0]!.reason).toContain('451');
    expect(sink!.messages).toHaveLength(1);
  });

  it('a 5xx is permanent: no retry, the server reply is recorded and the alert is marked failed', async () => {
    const { alert, attempts } = await deliverOne(fixture('zabbix-problem.eml'), {}, () => [550, '5.1.1 mailbox unavailable']);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.outcome).toBe('rejected');
    expect(attempts[0]!.reason).toContain('550 5.1.1 mailbox unavailable');
    expect(alert.state).toBe('failed');
    expect(sink!.attempts).toBe(1);
  });

  it('a refused connection is retried, then the alert fails visibly after the retries', async () => {
    sink = await startSink();
    const deadPort = sink.port;
    await sink.close();
    sink = null;
    d = await startDaemon(mailConfig(deadPort, { retries: 2 }), { factories: defaultFactories(silentLogger) });
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    await waitFor(async () => (await d!.daemon.stores.alerts.get(id))!.state === 'failed', 15_000);
    const attempts = (await d.daemon.stores.alerts.attempts(id));
    expect(attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect(attempts[0]!.reason).toMatch(/ECONNREFUSED/);
    expect((await d.daemon.stores.alerts.events(id)).map((e) => e.kind)).toContain('exhausted');
  });

  it('authenticates to the relay, and a bad password is a permanent failure', async () => {
    sink = await startSink({ auth: { user: 'relay', pass: 'good' } });
    const ok = new MailChannel({ ...(await import('../../../src/config/schema.js')).defaultConfig().channels.mail, host: '127.0.0.1', port: sink.port, requireTLS: false, user: 'relay', password: 'good' }, { hostname: 'alertline', logger: silentLogger });
    const job = { alert: { id: 1, kind: 'problem' as const, subject: 's', text: 't', receivedAt: 0, raw: fixture('nagios-problem.eml') }, recipient: { email: 'x@y.example', lang: 'en' }, address: 'x@y.example', moreAlerts: 0, attemptId: 1 };
    expect((await ok.deliver(job, new AbortController().signal)).kind).toBe('delivered');
    const bad = new MailChannel({ ...(await import('../../../src/config/schema.js')).defaultConfig().channels.mail, host: '127.0.0.1', port: sink.port, requireTLS: false, user: 'relay', password: 'bad' }, { hostname: 'alertline', logger: silentLogger });
    const o = await bad.deliver(job, new AbortController().signal);
    expect(o.kind).toBe('rejected');
    expect(o.retryable).toBe(false);
    expect(o.reason).not.toContain('bad'.repeat(1) + '"'); // the password is never echoed
    await ok.stop();
    await bad.stop();
  });

  it('classifies SMTP errors', () => {
    expect(classifySmtpError(Object.assign(new Error('x'), { responseCode: 421, response: '421 busy' }))).toMatchObject({ kind: 'failed', retryable: true });
    expect(classifySmtpError(Object.assign(new Error('x'), { responseCode: 554, response: '554 no' }))).toMatchObject({ kind: 'rejected', retryable: false });
    expect(classifySmtpError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))).toMatchObject({ kind: 'failed', retryable: true });
  });
});
