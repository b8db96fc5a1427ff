/**
 * End to end over real peers: a Zabbix mail over SMTP → the daemon → a VoIP call to sipp (real
 * SIP/RTP, real speech) → the next channel (mail to an SMTP sink) → the next round → sipp presses
 * 1 → acknowledged, no further steps. And a Resolved mail cancels a call that is ringing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fixture, startDaemon, startSink, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { freePort, startSipp } from '../channels/voip/sipp/helpers.js';
import { memoryLogger } from '../../src/util/log.js';

const HERE = import.meta.dirname;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setup(over: Record<string, unknown> = {}) {
  const sink = await startSink();
  cleanups.push(() => sink.close());
  const sipPort = await freePort();
  const logger = memoryLogger();
  const d = await startDaemon({
    filter: { dedupeWindow: '0s' },
    voice: { repeat: 1 },
    channels: {
      order: ['voip', 'mail'],
      voip: { enabled: true, server: `127.0.0.1:${sipPort}`, domain: 'alertline.test', register: false, localAddress: '127.0.0.1', localPort: 0, rtpPorts: '40000-40999', ringTimeout: '20s', maxCallDuration: '60s' },
      mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false },
    },
    ...over,
  }, { realChannels: true, logger, users: [['oncall@alerts.example', { sip: '201' }]] });
  cleanups.push(() => d.stop());
  return { d, sink, sipPort, logger };
}

const steps = async (d: Awaited<ReturnType<typeof startDaemon>>, id: number) =>
  (await d.daemon.stores.alerts.attempts(id)).map((a) => `${a.round}:${a.channel}:${a.outcome ?? 'running'}`);

describe('escalation end to end', () => {
  it('answered without a key → mail → next round → key 1 → acknowledged, nothing more', async () => {
    const { d, sink, sipPort, logger } = await setup({ escalation: { rounds: 3, roundInterval: '4s', quickRetry: '0s' } });
    const phone1 = await startSipp('answer-no-key.xml', { port: sipPort, dir: HERE, timeoutS: 60 });
    cleanups.push(() => phone1.kill());
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
    expect(r.final!.code).toBe(250);
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);

    const first = await phone1.done;
    expect(first.code, first.output).toBe(0); // sipp saw INVITE, ACK, our BYE
    await waitFor(async () => sink.messages.length === 1, 15_000);
    // The relay has the mail; the attempt is recorded a moment later.
    await waitFor(async () => (await steps(d, id)).at(-1) === '1:mail:delivered', 10_000);
    expect((await steps(d, id))).toEqual(['1:voip:answered', '1:mail:delivered']);
    expect((await d.daemon.stores.alerts.get(id))!.state).toBe('notifying');

    // Round 2 after roundInterval: this time a person answers and presses 1.
    const phone2 = await startSipp('answer-press-1.xml', { port: sipPort, dir: HERE, timeoutS: 60 });
    cleanups.push(() => phone2.kill());
    const second = await phone2.done;
    expect(second.code, second.output).toBe(0);
    await waitFor(async () => (await d.daemon.stores.alerts.get(id))!.state === 'acknowledged', 15_000);
    expect((await steps(d, id))).toEqual(['1:voip:answered', '1:mail:delivered', '2:voip:acknowledged']);
    expect((await d.daemon.stores.alerts.get(id))).toMatchObject({ ack_by: 'oncall@alerts.example', ack_via: 'voip keypress' });

    // No further steps: another round interval passes with nothing new.
    await new Promise((res) => setTimeout(res, 5000));
    expect((await steps(d, id))).toHaveLength(3);
    expect(sink.messages).toHaveLength(1);
    expect(logger.lines.join('\n')).toMatch(/attempt\.end .*channel=voip .*outcome=acknowledged/);
  }, 120_000);

  it('a Resolved mail cancels the call that is ringing and every pending step', async () => {
    const { d, sink, sipPort } = await setup({ escalation: { rounds: 3, roundInterval: '2s', quickRetry: '0s' } });
    const phone = await startSipp('no-answer-cancel.xml', { port: sipPort, timeoutS: 60 });
    cleanups.push(() => phone.kill());
    const p = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(p.final!.text)![1]);
    await waitFor(async () => (await steps(d, id)).includes('1:voip:running'), 15_000);
    await new Promise((res) => setTimeout(res, 500)); // ringing
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-resolved.eml') });
    expect(r.final!.code).toBe(250);
    const cancelled = await phone.done; // sipp saw our CANCEL, answered 487, got the ACK
    expect(cancelled.code, cancelled.output).toBe(0);
    await waitFor(async () => !(await steps(d, id)).some((s) => s.endsWith('running')), 10_000);
    expect((await d.daemon.stores.alerts.get(id))!.state).toBe('resolved');
    expect((await d.daemon.stores.alerts.deliveries(id))[0]!.state).toBe('cancelled');
    await new Promise((res) => setTimeout(res, 3000));
    expect((await steps(d, id))).toHaveLength(1); // no mail, no next round
    // She was never told of the problem, so no resolved notice either.
    expect(sink.messages).toHaveLength(0);
  }, 120_000);
});
