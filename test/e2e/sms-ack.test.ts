/**
 * End to end through the SIM900 simulator on a real pseudo-terminal: an alert mail → a GSM call
 * (answered, no key) → an SMS → the person replies "ack" by SMS → the alert is acknowledged for
 * everyone and the next round never happens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { cli } from '../helpers/cli.js';
import { fixture, startDaemon, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { Sim900Simulator } from '../channels/gsm/sim900-simulator.js';
import { PLAY_SCRIPT } from '../channels/gsm/helpers.js';
import { memoryLogger } from '../../src/util/log.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('acknowledgement by SMS reply, through the daemon', () => {
  it('a GSM call answered without a key, the SMS, then "ack" by SMS stops the escalation', async () => {
    const ANA = '+34600111222';
    const sim = await Sim900Simulator.create({ cmgsDelayMs: 50, calls: { [ANA]: { result: 'answer', afterMs: 300, hangupAfterMs: 800 } } });
    cleanups.push(() => sim.close());
    const logger = memoryLogger();
    const d = await startDaemon({
      filter: { dedupeWindow: '0s' },
      voice: { repeat: 1 },
      channels: {
        order: ['gsm', 'sms'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '2s', ringTimeout: '10s', audioCommand: [process.execPath, PLAY_SCRIPT, '{file}', join(sim.dir, 'play.log'), '2000'] },
        sms: { enabled: true },
      },
      escalation: { rounds: 3, roundInterval: '60s', quickRetry: '0s' },
    }, { realChannels: true, logger, users: [['ana@alerts.example', { phone: ANA }], ['ben@alerts.example', { phone: '+34600333444' }]] });
    cleanups.push(() => d.stop());
    await waitFor(async () => d.daemon.channels.channels.gsm?.health().healthy, 20_000);

    // `alertline status` (another process, same database) shows the modem's live state.
    await (d.daemon as unknown as { writeStatus(): Promise<void> }).writeStatus();
    const cliConf = join(sim.dir, 'cli.yaml');
    writeFileSync(cliConf, `dataDir: ${d.config.dataDir}\n`);
    const st = cli(['--config', cliConf, 'status']);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/^modem: ready on .*, registered \(.*\), signal \d+ \(-\d+ dBm\)/m);
    expect(st.stdout).toMatch(/^  gsm +ok /m);

    const r = await sendRaw(d.port, { to: ['ana@alerts.example'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    await waitFor(async () => sim.sent.length === 1, 30_000);
    expect(sim.sent[0]!.to).toBe(ANA);
    expect(sim.sent[0]!.text).toContain(`#${id}`);
    expect(sim.sent[0]!.text).toMatch(/Reply 1 to ack$/);
    const steps = async () => (await d.daemon.stores.alerts.attempts(id)).map((a) => `${a.round}:${a.channel}:${a.outcome ?? 'running'}`);
    await waitFor(async () => (await steps()).includes('1:sms:delivered'), 10_000);
    expect((await steps())).toEqual(['1:gsm:answered', '1:sms:delivered']);
    expect(sim.commands.filter((c) => c.startsWith('ATD'))).toEqual([`ATD${ANA};`]);

    // A stranger's "ack" does nothing; Ana's does.
    sim.receiveSms('+34999000111', 'ack');
    sim.receiveSms(ANA, ' ACK ');
    await waitFor(async () => (await d.daemon.stores.alerts.get(id))!.state === 'acknowledged', 15_000);
    expect((await d.daemon.stores.alerts.get(id))).toMatchObject({ ack_by: 'ana@alerts.example', ack_via: 'sms-reply' });
    expect(logger.lines.join('\n')).toMatch(/ack\.unknown_sender phone=\+34999000111/);
    await waitFor(async () => sim.storage.size === 0, 10_000); // both messages deleted from the SIM
    expect((await d.daemon.stores.alerts.deliveries(id))[0]!.state).toBe('acknowledged');
  }, 90_000);
});
