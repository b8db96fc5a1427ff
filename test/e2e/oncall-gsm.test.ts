/**
 * On call end to end through the SIM900 simulator on a real pseudo-terminal: a mail to noc@
 * routed to a policy (primary, wait, secondary, wait, the ops group): the primary's phone rings
 * unanswered; after the wait the secondary is called, answers and presses 3 → the next step is
 * called at once; an SMS "<id>s" from that person snoozes; a call-back from the primary's number
 * (rejected unanswered) acknowledges, confirmed by SMS; a silenced host is stored silenced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startDaemon, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { Sim900Simulator } from '../channels/gsm/sim900-simulator.js';
import { PLAY_SCRIPT } from '../channels/gsm/helpers.js';
import { layerFromOptions, parseStep } from '../../src/core/oncall/index.js';
import { memoryLogger } from '../../src/util/log.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const ANA = '+34600111001';
const BEN = '+34600111002';
const CARLA = '+34600111003';

describe('on call through the SIM900 simulator', () => {
  it('primary unanswered → secondary after the wait → key 3 → ops at once; "<id>s" snoozes; a call-back acknowledges; a silenced host is held', async () => {
    const sim = await Sim900Simulator.create({
      cmgsDelayMs: 30,
      calls: {
        [ANA]: { result: 'no-answer' },
        [BEN]: { result: 'answer', afterMs: 300, keys: [{ afterMs: 600, key: '3' }] },
        [CARLA]: { result: 'answer', afterMs: 300, hangupAfterMs: 1500 },
      },
    });
    cleanups.push(() => sim.close());
    const logger = memoryLogger();
    const d = await startDaemon({
      filter: { dedupeWindow: '0s' },
      voice: { repeat: 1 },
      channels: {
        order: ['gsm'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '2s', ringTimeout: '3s', audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', join(sim.dir, 'play.log'), '500'] },
        sms: { enabled: true },
      },
      escalation: { rounds: 1, quickRetry: '0s' },
    }, { realChannels: true, logger, users: [['ana@alerts.example', { phone: ANA }], ['ben@alerts.example', { phone: BEN }], ['carla@alerts.example', { phone: CARLA, group: 'ops' }]] });
    cleanups.push(() => d.stop());
    await waitFor(async () => d.daemon.channels.channels.gsm?.health().healthy, 20_000);
    const s = d.daemon.stores;
    const now = Date.now();
    await s.oncall.addLayer('noc', layerFromOptions({ layer: 'primary', members: 'ana@alerts.example', rotation: 'weekly', handoff: 'mon 09:00', tz: 'Europe/Madrid' }, now));
    await s.oncall.addLayer('noc', layerFromOptions({ layer: 'secondary', members: 'ben@alerts.example', rotation: 'weekly', handoff: 'mon 09:00', tz: 'Europe/Madrid' }, now));
    await s.oncall.addPolicy({ name: 'noc', steps: ['schedule:noc/primary', 'wait:12s', 'schedule:noc/secondary', 'wait:10m', 'group:ops'].map((x) => parseStep(x)), repeat: 0 });
    await s.oncall.addRoute({ address: 'noc', policy: 'noc' });
    await new Promise((r) => setTimeout(r, 1100)); // the daemon reads the routing tables at most every second

    const r = await sendRaw(d.port, { to: ['noc@alerts.example'], data: 'Subject: Problem: disk full on web01\r\n\r\nHost: web01\r\nSeverity: High\r\n' });
    expect(r.final!.code).toBe(250);
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    const dialed = () => sim.commands.filter((c) => c.startsWith('ATD'));
    await waitFor(() => dialed().length >= 1, 15_000);
    expect(dialed()).toEqual([`ATD${ANA};`]); // only the primary at first
    const t0 = Date.now();
    await waitFor(() => dialed().includes(`ATD${BEN};`), 30_000);
    expect(Date.now() - t0).toBeGreaterThan(5_000); // the secondary only after the wait, not at once
    // Ben pressed 3: ops (Carla) is called now, not in 10 minutes.
    await waitFor(() => dialed().includes(`ATD${CARLA};`), 20_000);
    expect((await s.alerts.events(id)).map((e) => e.detail ?? '').join('\n')).toMatch(/by ben@alerts\.example via gsm key/);

    // Carla texts "<id>s": snoozed, and she is told so.
    sim.receiveSms(CARLA, `${id}s`);
    await waitFor(async () => (await s.alerts.events(id)).some((e) => e.kind === 'snoozed'), 15_000);
    await waitFor(() => sim.sent.some((m) => m.to === CARLA && m.text.includes(`alert ${id} snoozed`)), 15_000);

    // Ana calls the modem back once its one line is free: rejected unanswered, acknowledged, confirmed by SMS.
    await waitFor(() => d.daemon.dispatcher.runningCount() === 0, 20_000);
    sim.incomingCall(ANA, { rings: 2, intervalMs: 300 });
    await waitFor(async () => (await s.alerts.get(id))!.state === 'acknowledged', 15_000);
    expect(await s.alerts.get(id)).toMatchObject({ ack_by: 'ana@alerts.example', ack_via: 'call-back' });
    await waitFor(() => sim.sent.some((m) => m.to === ANA && m.text.includes(`alert ${id} acknowledged by your call`)), 15_000);

    // A silence over db-* hosts: the alert is stored silenced and nobody is called.
    const before = dialed().length;
    await s.oncall.addSilence({ host: 'db-.*', from: Date.now() - 1000, until: Date.now() + 3_600_000, comment: 'kernel upgrade' });
    await new Promise((r) => setTimeout(r, 1100));
    const r2 = await sendRaw(d.port, { to: ['noc@alerts.example'], data: 'Subject: Problem: db down\r\n\r\nHost: db-01\r\n' });
    const id2 = Number(/alert (\d+)/.exec(r2.final!.text)![1]);
    expect((await s.alerts.get(id2))!.state).toBe('silenced');
    await new Promise((r) => setTimeout(r, 2000));
    expect(dialed().length).toBe(before);
  }, 120_000);
});
