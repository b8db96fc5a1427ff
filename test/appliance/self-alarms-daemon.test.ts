/**
 * Self-alarms inside a running daemon: the speech service failing to start (a real TTS command
 * that does not exist) raises `self:tts`; once speech works again (reload with the built-in
 * engine) the alarm resolves. And an alert that ends failed raises `self:failed` through the
 * dispatcher's onExhausted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { openStores } from '../../src/store/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { fixture, tempDir, testConfig, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function start(over: Record<string, unknown>) {
  const tmp = tempDir('alertline-selfalarm-daemon-');
  cleanups.push(async () => tmp.cleanup());
  const config = testConfig(tmp.dir, over);
  const s = openStores(config.dataDir);
  await s.users.add('admin@example.com', { group: 'admins' });
  await s.users.add('ops@example.com', { phone: '+34600000002' });
  await s.close();
  const logger = memoryLogger();
  // No channel factories: nothing is delivered, which is what the failed-alert case needs.
  const d = await Daemon.start({ config, logger, factories: {}, pollIntervalMs: 100, statusIntervalMs: 100, selfAlarms: { clockSynced: async () => null } });
  cleanups.push(() => d.stop(0));
  await d.channelsReady;
  return { d, config, logger, dir: tmp.dir };
}

const selfAlerts = async (d: Daemon) => (await d.stores.alerts.list(50)).filter((a) => a.monitor === 'alertline').reverse();

describe('self-alarms in the daemon', () => {
  it('speech that fails to start raises self:tts; speech working again resolves it', async () => {
    const { d, config, dir } = await start({ voice: { engine: 'command', command: [join('/nonexistent', 'tts'), '{text}', '{file}'] } });
    await expect(d.audio()).rejects.toThrow();
    await waitFor(async () => (await selfAlerts(d)).some((a) => a.problem_key === 'self:tts'), 10_000);
    const [a] = await selfAlerts(d);
    expect(a!.subject).toMatch(/^Alertline: speech synthesis failing: /);
    expect((await d.stores.alerts.deliveries(a!.id)).map((x) => x.user_email)).toEqual(['admin@example.com']);

    d.reload(testConfig(dir, { dataDir: config.dataDir, voice: { engine: 'espeak-wasm' } }));
    await d.audio();
    await waitFor(async () => (await d.stores.alerts.get(a!.id))!.state === 'resolved', 10_000);
  }, 60_000);

  it('an alert that ends failed (no channel can reach anyone) raises one self:failed; the alarm failing too raises nothing more and does not keep it open', async () => {
    const { d } = await start({ channels: { mail: { enabled: true } } });
    const r = await sendRaw(d.smtpPort(), { to: ['ops@example.com'], data: fixture('zabbix-problem.eml') });
    const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
    await waitFor(async () => (await d.stores.alerts.get(id))!.state === 'failed', 10_000);
    await waitFor(async () => (await selfAlerts(d)).length > 0, 10_000);
    // The alarm itself cannot be delivered either (no channel runs) and ends failed: no alarm about it.
    await waitFor(async () => (await selfAlerts(d))[0]!.state === 'failed', 10_000);
    await new Promise((res) => setTimeout(res, 1000));
    const all = await selfAlerts(d);
    expect(all.map((x) => `${x.problem_key} ${x.subject}`)).toEqual([`self:failed Alertline: alert ${id} reached nobody: ${(await d.stores.alerts.get(id))!.subject}`]);
    // Acknowledging the alert ends the condition (the failed alarm does not keep it alive): resolved.
    expect((await d.acknowledge({ alertId: id, by: { operator: 'cli' }, via: 'cli' })).ok).toBe(true);
    await waitFor(async () => (await selfAlerts(d))[0]!.state === 'resolved', 10_000);
    expect((await selfAlerts(d)).map((x) => `${x.kind} ${x.problem_key}`)).toEqual(['problem self:failed', 'resolved self:failed']);
  }, 60_000);
});
