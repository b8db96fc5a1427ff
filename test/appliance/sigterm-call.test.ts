/**
 * SIGTERM while a call is speaking: the daemon refuses new mail, lets the call finish its message,
 * hangs up with BYE, records the outcome (not "interrupted") and exits 0.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cli, freePort as freeTcpPort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { fixture, tempDir, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { freePort, startSipp } from '../channels/voip/sipp/helpers.js';

describe('SIGTERM during a call', () => {
  it('the message finishes, BYE is sent, the attempt is recorded, exit 0', async () => {
    const tmp = tempDir();
    const sipPort = await freePort();
    const smtpPort = await freeTcpPort();
    const conf = join(tmp.dir, 'c.yaml');
    writeFileSync(conf, [
      `dataDir: ${join(tmp.dir, 'data')}`, `audioCacheDir: ${join(tmp.dir, 'audio')}`, `smtp: { port: ${smtpPort} }`,
      `voice: { repeat: 1 }`,
      `channels:`, `  order: [voip]`,
      `  voip: { enabled: true, server: "127.0.0.1:${sipPort}", domain: alertline.test, register: false, localAddress: 127.0.0.1, localPort: 0, rtpPorts: 41000-41999 }`,
    ].join('\n'));
    expect(cli(['--config', conf, 'users', 'add', 'oncall@alerts.example', '--sip', '201']).code).toBe(0);
    const phone = await startSipp('answer-no-key.xml', { port: sipPort, dir: join(import.meta.dirname, '../e2e'), timeoutS: 60 });
    const daemon = spawnDaemon(conf);
    try {
      await waitForPort(smtpPort);
      const r = await sendRaw(smtpPort, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
      expect(r.final!.code).toBe(250);
      await waitFor(() => /attempt\.start .*channel=voip/.test(daemon.output()), 20_000);
      await new Promise((res) => setTimeout(res, 1500)); // answered, speaking
      const t0 = Date.now();
      daemon.kill('SIGTERM');
      const code = await new Promise<number | null>((res) => daemon.once('exit', (c) => res(c)));
      expect(code, daemon.output()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(40_000);
      const sipp = await phone.done; // sipp got our BYE and answered it
      expect(sipp.code, sipp.output).toBe(0);
      const db = new Database(join(tmp.dir, 'data', 'alertline.db'), { readonly: true });
      const attempts = db.prepare('SELECT channel, outcome FROM attempts').all();
      db.close();
      expect(attempts).toEqual([{ channel: 'voip', outcome: 'answered' }]);
      expect(daemon.output()).toMatch(/daemon\.stopped/);
    } finally {
      daemon.kill('SIGKILL');
      await phone.kill();
      tmp.cleanup();
    }
  }, 90_000);
});
