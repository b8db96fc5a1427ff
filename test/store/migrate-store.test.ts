/**
 * alertline migrate-store: an existing box's SQLite file moved into an empty PostgreSQL (a real
 * throwaway cluster) keeps every row and id, the raw mail byte for byte, and a daemon-less store
 * on PostgreSQL goes on from there (new ids after the copied ones); a non-empty target is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';
import { startPg, type PgCluster } from '../helpers/pg.js';
import { openStores, openStoresAt } from '../../src/store/index.js';
import { admitMail, ackAs } from '../helpers/admit.js';
import { layerFromOptions } from '../../src/core/oncall/index.js';

let cluster: PgCluster;
beforeAll(async () => { cluster = await startPg(); }, 60_000);
afterAll(async () => { await cluster?.stop(); });

const T0 = Date.parse('2027-05-01T10:00:00Z');
const mail = (n: number) => `From: zabbix@monitor.example\r\nSubject: Problem: disk ${n} \u00e9\r\n\r\nHost: db${n}\r\nOriginal problem ID: ${n}\r\n`;

describe('alertline migrate-store', () => {
  it('--from sqlite --to postgres copies everything with its ids; the PostgreSQL store goes on after them', async () => {
    const tmp = tempDir();
    const url = await cluster.createDb();
    const conf = join(tmp.dir, 'c.yaml');
    writeFileSync(conf, [`dataDir: ${join(tmp.dir, 'data')}`, `audioCacheDir: ${join(tmp.dir, 'audio')}`, `store: { engine: postgres, url: "${url}" }`].join('\n'));
    const src = openStores(join(tmp.dir, 'data'), () => T0);
    await src.users.add('ana@x.example', { phone: '+34600111222', group: 'noc', contact: { zone: 'Europe/Madrid' } });
    await src.users.add('beto@x.example', { sip: '201' });
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push((await admitMail(src, mail(i), ['ana@x.example', 'beto@x.example'], T0 + i)).id);
    await ackAs(src, ids[3]!, 'ana@x.example', 'sms', T0 + 100);
    const [d] = await src.deliveries.due(T0 + 100);
    await src.deliveries.start(d!.id, 'mail', 'ana@x.example', T0 + 101);
    await src.oncall.addLayer('noc', layerFromOptions({ members: 'ana@x.example,beto@x.example', rotation: 'weekly', handoff: 'mon 09:00', tz: 'Europe/Madrid', start: '2027-04-26' }, T0));
    await src.tokens.add('grafana', 'ingest', 'cd'.repeat(32));
    await src.heartbeats.add('backup', { everyMs: 3_600_000, graceMs: 60_000 });
    await src.settings.set('escalation.rounds', '4');
    const before = {
      users: await src.users.list(), alerts: await src.alerts.list(100), deliveries: await src.alerts.deliveries(ids[3]!),
      attempts: await src.alerts.attempts(d!.alert_id), events: await src.alerts.events(ids[3]!), raw: await src.alerts.raw(ids[7]!),
      routing: await src.oncall.routingTables(T0), tokens: await src.tokens.list(), beats: await src.heartbeats.list(), settings: await src.settings.overrides(),
    };
    await src.close();

    const r = cli(['--config', conf, 'migrate-store', '--from', 'sqlite', '--to', 'postgres']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/alerts\s+30/);
    expect(r.stdout).toMatch(/now set store\.engine: postgres/);

    const pgs = await openStoresAt({ engine: 'postgres', url }, ':memory:', () => T0);
    try {
      expect(await pgs.users.list()).toEqual(before.users);
      expect(await pgs.alerts.list(100)).toEqual(before.alerts);
      expect(await pgs.alerts.deliveries(ids[3]!)).toEqual(before.deliveries);
      expect(await pgs.alerts.attempts(d!.alert_id)).toEqual(before.attempts);
      expect(await pgs.alerts.events(ids[3]!)).toEqual(before.events);
      expect((await pgs.alerts.raw(ids[7]!))!.equals(before.raw!)).toBe(true);
      expect(await pgs.oncall.routingTables(T0)).toEqual(before.routing);
      expect(await pgs.tokens.list()).toEqual(before.tokens);
      expect(await pgs.heartbeats.list()).toEqual(before.beats);
      expect(await pgs.settings.overrides()).toEqual(before.settings);
      // New rows get ids after the copied ones; names still compare without case.
      const next = await admitMail(pgs, mail(99), ['ANA@x.example'], T0 + 1000);
      expect(next.id).toBeGreaterThan(Math.max(...ids));
      await expect(pgs.users.add('Beto@X.example')).rejects.toThrow(/already exists/);
    } finally {
      await pgs.close();
    }

    // Again into the same (now full) database: refused, nothing changes.
    const again = cli(['--config', conf, 'migrate-store', '--from', 'sqlite', '--to', 'postgres']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/nothing copied: the target is not empty \(users has 2 rows\)/);
    expect(cli(['--config', conf, 'migrate-store', '--from', 'sqlite', '--to', 'sqlite']).stderr).toMatch(/same engine/);
    tmp.cleanup();
  }, 90_000);
});
