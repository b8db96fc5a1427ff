/**
 * A real Nagios 4.4 (Debian nagios4, stock notify-*-by-email through msmtp) e-mailing a real
 * Alertline daemon, which calls through a scripted voice channel and relays to a real SMTP sink:
 * CRITICAL → OK → CRITICAL (the re-occurrence is news), WARNING → CRITICAL (rising severity is
 * news), and an ACKNOWLEDGEMENT in Nagios acknowledging the open alert without calling anyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNagios, type Nagios, STOCK, DETAIL } from '../monitors/nagios-harness.js';
import { defaultFactories } from '../../src/daemon.js';
import { silentLogger } from '../../src/util/log.js';
import { startDaemon, startSink } from '../helpers/env.js';
import { FakeChannel, untilAborted } from '../helpers/fake-channel.js';
import type { AlertRow } from '../../src/store/rows.js';

let nag: Nagios;
let sink: Awaited<ReturnType<typeof startSink>>;
let d: Awaited<ReturnType<typeof startDaemon>>;
/** The phone: rings until the call is stopped (nobody answers), so an alert stays open. */
const phone = new FakeChannel('voip', (_job, signal) => untilAborted(signal));

const CRIT = 'CRITICAL - Socket timeout after 10 seconds';
const OK = 'HTTP OK: HTTP/1.1 200 OK - 512 bytes in 0.002 second response time';
const WARN = 'HTTP WARNING: HTTP/1.1 200 OK - 1048576 bytes in 3.412 second response time';

/** The alerts stored for the stock contact, oldest first, once there are n. */
async function alerts(n: number): Promise<AlertRow[]> {
  const end = Date.now() + 30_000;
  for (;;) {
    const rows = (await d.daemon.stores.alerts.list(200)).reverse().filter((a) => JSON.parse(a.rcpt).includes(STOCK));
    if (rows.length >= n) return rows;
    if (Date.now() > end) throw new Error(`only ${rows.length} of ${n} alerts for ${STOCK}\n${nag.readLog().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function state(id: number, want: (s: string) => boolean): Promise<AlertRow> {
  const end = Date.now() + 20_000;
  for (;;) {
    const a = (await d.daemon.stores.alerts.get(id))!;
    if (want(a.state)) return a;
    if (Date.now() > end) throw new Error(`alert ${id} is ${a.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  sink = await startSink();
  const mail = defaultFactories(silentLogger).mail!;
  d = await startDaemon({
    filter: { dedupeWindow: '30m' },
    channels: { order: ['voip', 'mail'], voip: { enabled: true }, mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, timeout: '5s' } },
    escalation: { rounds: 5, roundInterval: '10m', quickRetry: '0s' },
  }, { factories: { voip: async () => phone, mail }, users: [[STOCK, { sip: '201' }], [DETAIL, {}]] });
  nag = await startNagios(d.port);
}, 40_000);

afterAll(async () => {
  await nag?.stop();
  await d?.stop();
  await sink?.close();
});

describe('Nagios → Alertline (real peers)', () => {
  it('CRITICAL → OK → CRITICAL: the recovery stops the call, the re-occurrence calls again', async () => {
    nag.service(2, CRIT);
    let rows = await alerts(1);
    const p1 = await state(rows[0]!.id, (s) => s === 'notifying');
    expect(p1).toMatchObject({ kind: 'problem', level: 'critical', host: 'web01', sentence: `web01/HTTP is CRITICAL: ${CRIT}` });
    expect(phone.active).toBe(1); // ringing

    nag.service(0, OK);
    rows = await alerts(2);
    expect(rows[1]!.kind).toBe('resolved');
    await state(p1.id, (s) => s === 'resolved');
    await state(rows[1]!.id, (s) => !['pending', 'notifying'].includes(s));
    expect(phone.aborted.map((j) => j.alert.id)).toContain(p1.id); // the call was hung up

    nag.service(2, CRIT);
    rows = await alerts(3);
    const p2 = await state(rows[2]!.id, (s) => s === 'notifying'); // not suppressed: a new problem
    expect(p2.problem_key).toBe(p1.problem_key);

    nag.service(0, OK);
    rows = await alerts(4);
    await state(p2.id, (s) => s === 'resolved');
    expect((await d.daemon.stores.alerts.get(rows[3]!.id))!.state).not.toBe('suppressed');
  }, 90_000);

  it('WARNING → CRITICAL is news; an acknowledgement in Nagios acknowledges the alert and calls nobody', async () => {
    const before = (await alerts(0)).length;
    nag.service(1, WARN);
    let rows = await alerts(before + 1);
    const w = await state(rows[before]!.id, (s) => s === 'notifying');
    expect(w.level).toBe('warning');

    nag.service(2, CRIT);
    rows = await alerts(before + 2);
    // Queued behind the ringing WARNING call (one call at a time per person), not suppressed.
    const c = await state(rows[before + 1]!.id, (s) => s === 'pending' || s === 'notifying');
    expect(c.level).toBe('critical');
    expect((await d.daemon.stores.alerts.deliveries(c.id)).find((x) => x.user_email === STOCK)!.state).toMatch(/^(queued|running)$/);

    const calls = phone.jobs.length;
    nag.command('ACKNOWLEDGE_SVC_PROBLEM;web01;HTTP;1;1;0;jdoe;Looking into it');
    rows = await alerts(before + 3);
    const ack = rows[before + 2]!;
    expect(ack.kind).toBe('ack');
    expect(ack.state).toBe('cancelled'); // stored, nobody called for it
    const acked = await state(c.id, (s) => s === 'acknowledged');
    expect(acked.ack_via).toBe('monitor (nagios)');
    await state(w.id, (s) => s === 'acknowledged'); // the same problem, sent before
    // The detail contact's template names the author: its copy is acknowledged by jdoe.
    const end = Date.now() + 20_000;
    let detail: AlertRow[] = [];
    while (!detail.length && Date.now() < end) {
      detail = (await d.daemon.stores.alerts.list(200)).filter((a) => JSON.parse(a.rcpt).includes(DETAIL) && a.kind === 'ack');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(detail).toHaveLength(1);
    expect((await d.daemon.stores.alerts.events(detail[0]!.id)).map((e) => e.detail ?? '').join(' ')).toMatch(/an acknowledgement in the monitor: nobody is called/);
    await new Promise((r) => setTimeout(r, 500));
    expect(phone.jobs.slice(calls).map((j) => j.alert.kind)).not.toContain('ack');
    expect(phone.active).toBe(0);

    nag.service(0, OK);
    await alerts(before + 4);
  }, 90_000);
});
