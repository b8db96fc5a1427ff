/**
 * contrib/: the Zabbix webhook media type (its script run with Zabbix's webhook API over real
 * HTTP against Alertline), the YAML import carrying the same script, and the Alertmanager
 * snippet and Watchdog rule as Alertmanager's and Prometheus' own checkers read them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { startHttpDaemon } from './helpers.js';

const CONTRIB = join(import.meta.dirname, '../../contrib');
const SCRIPT = join(CONTRIB, 'zabbix/alertline.js');

let d: Awaited<ReturnType<typeof startHttpDaemon>>;
beforeAll(async () => {
  d = await startHttpDaemon();
});
afterAll(async () => {
  await d?.stop();
});

function runZabbix(params: Record<string, string>): Promise<{ ok: boolean; result?: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(import.meta.dirname, 'zabbix-runtime.mjs'), SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.on('error', reject);
    p.on('exit', () => resolve(JSON.parse(out)));
    p.stdin.end(JSON.stringify(params));
  });
}

const zparams = (over: Record<string, string>) => ({
  url: d.base, token: d.tokens.ingest, to: 'noc', summary: 'High CPU on web01', host: 'web01', severity: 'High',
  eventid: '4711', value: '1', update: '0', message: 'Problem started at 21:00\nHost: web01', ...over,
});

describe('Zabbix webhook media type', () => {
  it('a problem is stored for the Send-to group, the recovery resolves it, an update is not sent', async () => {
    const p = await runZabbix(zparams({}));
    expect(p).toMatchObject({ ok: true, result: 'OK' });
    const [a] = d.daemon.stores.db.prepare(`SELECT * FROM alerts WHERE problem_key = 'generic:zabbix:4711'`).all() as Record<string, any>[];
    expect(a).toMatchObject({ kind: 'problem', sentence: 'High CPU on web01', host: 'web01', level: 'high', state: expect.any(String) });
    expect(a!.text).toContain('Problem started at 21:00');
    const upd = await runZabbix(zparams({ update: '1' }));
    expect(upd.ok).toBe(true);
    const r = await runZabbix(zparams({ value: '0', summary: 'High CPU on web01' }));
    expect(r.ok).toBe(true);
    expect((d.daemon.stores.db.prepare('SELECT state FROM alerts WHERE id = ?').get(a!.id) as { state: string }).state).toBe('resolved');
    expect((d.daemon.stores.db.prepare(`SELECT count(*) n FROM alerts WHERE problem_key = 'generic:zabbix:4711'`).get() as { n: number }).n).toBe(2);
  });

  it('fails loudly (Zabbix shows and retries) on a wrong token or an unknown Send-to', async () => {
    const bad = await runZabbix(zparams({ token: 'alt_' + 'C'.repeat(43) }));
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/Alertline answered 401/);
    const unknown = await runZabbix(zparams({ to: 'nobody@nowhere.example', eventid: '4712' }));
    expect(unknown.error).toMatch(/Alertline answered 422: unknown recipients: nobody@nowhere.example/);
  });

  it('the YAML import carries the same script, and the script stays within ECMAScript 5', () => {
    const doc = YAML.parse(readFileSync(join(CONTRIB, 'zabbix/media_alertline.yaml'), 'utf8'));
    const mt = doc.zabbix_export.media_types[0];
    expect(mt.type).toBe('WEBHOOK');
    expect(mt.script).toBe(readFileSync(SCRIPT, 'utf8'));
    expect(mt.parameters.map((p: { name: string }) => p.name)).toEqual(['url', 'token', 'to', 'summary', 'host', 'severity', 'eventid', 'value', 'update', 'message']);
    const code = readFileSync(SCRIPT, 'utf8').replace(/\/\/.*$/gm, '').replace(/'[^'\n]*'/g, "''");
    expect(code).not.toMatch(/\b(let|const|class)\s|=>|`/);
  });
});

describe('Alertmanager snippet', () => {
  it('amtool check-config and promtool check rules accept contrib/alertmanager', () => {
    const am = spawnSync('amtool', ['check-config', join(CONTRIB, 'alertmanager/alertmanager.yml')], { encoding: 'utf8' });
    expect(am.stdout + am.stderr).toContain('SUCCESS');
    expect(am.status).toBe(0);
    const rules = spawnSync('promtool', ['check', 'rules', join(CONTRIB, 'alertmanager/watchdog.rules.yml')], { encoding: 'utf8' });
    expect(rules.status).toBe(0);
  });
});
