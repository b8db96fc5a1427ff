/** HTTPS when http.tls is set; a taken port never stops the appliance taking mail (retried); the CLI's tokens and heartbeats. */
import { describe, expect, it } from 'vitest';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { HTTP_FIXTURES, startHttpDaemon } from './helpers.js';
import { cli } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { openStores } from '../../src/store/index.js';
import { hashToken } from '../../src/http/auth.js';

describe('HTTP server', () => {
  it('serves HTTPS with http.tls and refuses plain HTTP on that port', async () => {
    const d = await startHttpDaemon({ http: { tls: { key: join(HTTP_FIXTURES, 'tls-key.pem'), cert: join(HTTP_FIXTURES, 'tls-cert.pem') } } });
    try {
      const port = d.daemon.http.address()!.port;
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/api/v1/status', ca: readFileSync(join(HTTP_FIXTURES, 'tls-cert.pem')), headers: { authorization: `Bearer ${d.tokens.read}` } }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve({ status: res.statusCode!, text: t }));
        });
        req.on('error', reject);
      });
      expect(body.status).toBe(200);
      expect(JSON.parse(body.text).http.tls).toBe(true);
      await expect(fetch(`http://127.0.0.1:${port}/api/v1/status`)).rejects.toThrow();
    } finally {
      await d.stop();
    }
  });

  it('a taken HTTP port: mail is still accepted, and the server comes up once the port is free', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const { startDaemon } = await import('../helpers/env.js');
    const d = await startDaemon({ http: { port } });
    try {
      expect(d.daemon.http.address()).toBeNull();
      expect(d.daemon.http.error).toMatch(/EADDRINUSE/);
      const c = await RawSmtp.connect(d.port);
      expect((await c.read())?.code).toBe(220);
      c.close();
      await new Promise((r) => blocker.close(r));
      await waitFor(() => d.daemon.http.address()?.port === port, 15_000, 100);
    } finally {
      blocker.close();
      await d.stop();
    }
  }, 30_000);
});

describe('CLI', () => {
  it('tokens create prints a token once and stores only its hash; list and revoke', () => {
    const tmp = tempDir();
    try {
      const conf = join(tmp.dir, 'c.yaml');
      writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\n`);
      const r = cli(['--config', conf, 'tokens', 'create', 'zabbix', '--scope', 'ingest']);
      expect(r.code).toBe(0);
      const token = r.stdout.trim();
      expect(token).toMatch(/^alt_[A-Za-z0-9_-]{43}$/);
      const s = openStores(join(tmp.dir, 'data'));
      const rows = s.db.prepare('SELECT * FROM api_tokens').all() as Record<string, string>[];
      void s.close();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.hash).toBe(hashToken(token));
      expect(JSON.stringify(rows)).not.toContain(token);
      expect(cli(['--config', conf, 'tokens', 'create', 'zabbix', '--scope', 'ingest']).code).toBe(2);
      expect(cli(['--config', conf, 'tokens', 'create', 'x', '--scope', 'admin']).code).toBe(2);
      const list = cli(['--config', conf, 'tokens', 'list', '--json']);
      expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'zabbix', scope: 'ingest', lastUsedAt: null })]);
      expect(list.stdout).not.toContain(token);
      expect(cli(['--config', conf, 'tokens', 'revoke', 'zabbix']).code).toBe(0);
      expect(cli(['--config', conf, 'tokens', 'revoke', 'zabbix']).code).toBe(1);
    } finally {
      tmp.cleanup();
    }
  });

  it('heartbeats add | list | remove', () => {
    const tmp = tempDir();
    try {
      const conf = join(tmp.dir, 'c.yaml');
      writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\n`);
      expect(cli(['--config', conf, 'heartbeats', 'add', 'zabbix', '--every', '5m', '--grace', '2m', '--group', 'admins']).code).toBe(0);
      expect(cli(['--config', conf, 'heartbeats', 'add', 'bad', '--every', 'often']).code).toBe(2);
      const list = JSON.parse(cli(['--config', conf, 'heartbeats', 'list', '--json']).stdout);
      expect(list).toEqual([expect.objectContaining({ name: 'zabbix', everyMs: 300_000, graceMs: 120_000, group: 'admins', lastSeenAt: null })]);
      expect(cli(['--config', conf, 'heartbeats', 'list']).stdout).toMatch(/zabbix\s+5m\s+2m\s+admins\s+never/);
      expect(cli(['--config', conf, 'heartbeats', 'remove', 'zabbix']).code).toBe(0);
      expect(cli(['--config', conf, 'heartbeats', 'remove', 'zabbix']).code).toBe(1);
    } finally {
      tmp.cleanup();
    }
  });
});
