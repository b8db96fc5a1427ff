/**
 * The README's first five minutes, with the shipped example config (no modem, no PBX): the
 * daemon (the built bin) prints a one-time setup link, `alertline status` shows it, nothing else
 * is open without login; the link creates the first admin in chromium; an alert sent with swaks
 * rings on that console and is acknowledged there.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse, stringify } from 'yaml';
import { cli, freePort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { ARTIFACTS, launchChromium } from '../http/console/browser.js';

const EXAMPLE = join(import.meta.dirname, '../../config/alertline.example.yaml');

describe('first run with the example config', () => {
  it('setup link → first admin → a swaks alert rings in the browser and is acknowledged there', async () => {
    const tmp = tempDir('alertline-first-run-');
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const doc = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, any>;
    doc.dataDir = join(tmp.dir, 'data');
    doc.audioCacheDir = join(tmp.dir, 'audio');
    doc.smtp.port = smtpPort;
    doc.http.port = httpPort;
    const conf = join(tmp.dir, 'alertline.yaml');
    writeFileSync(conf, stringify(doc));
    chmodSync(conf, 0o640);
    const daemon = spawnDaemon(conf);
    const browser = await launchChromium();
    try {
      const line = await waitFor(() => /Web console: create the first admin at (\S+)/.exec(daemon.output()), 30_000);
      const url = line[1]!;
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${httpPort}/setup\\?token=[A-Za-z0-9_-]{43}$`));
      // The token is on stdout for the operator, not in the log lines.
      expect(daemon.output().split('\n').filter((l) => l.includes(url.split('token=')[1]!))).toHaveLength(1);
      await waitForPort(smtpPort);
      const status = await waitFor(() => { const r = cli(['--config', conf, 'status']); return r.stdout.includes('console:') ? r : null; }, 15_000, 300);
      expect(status.stdout).toContain(`create the first admin at ${url}`);

      // Nothing but the setup is open without a login.
      const base = `http://127.0.0.1:${httpPort}`;
      expect((await fetch(`${base}/people`, { redirect: 'manual' })).headers.get('location')).toMatch(/^\/login/);
      expect(await (await fetch(`${base}/`)).text()).toContain('Console not set up');
      expect((await fetch(`${base}/setup?token=wrong`)).status).toBe(403);
      expect((await fetch(`${base}/api/v1/alerts`)).status).toBe(401);

      const page = await browser.context.newPage();
      await page.goto(url);
      await page.fill('input[name=login]', 'ana');
      await page.fill('input[name=password]', 'correct horse battery');
      await page.fill('input[name=email]', 'ana@alerts.example');
      await page.fill('input[name=name]', 'Ana');
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/`);
      await page.waitForSelector('#live:text("live")');
      await page.screenshot({ path: join(ARTIFACTS, 'first-run-board.png'), fullPage: true });
      expect((await fetch(url)).status).toBe(410); // used once

      const swaks = spawnSync('swaks', ['--server', `127.0.0.1:${smtpPort}`, '--to', 'ana@alerts.example', '--from', 'zabbix@monitor.example', '--header', 'Subject: Problem: test from swaks', '--body', 'Host: web1'], { encoding: 'utf8', timeout: 30_000 });
      expect(swaks.status, swaks.stdout + swaks.stderr).toBe(0);
      await page.waitForSelector('.page-alert:has-text("test from swaks")', { timeout: 10_000 });
      await page.waitForSelector('table.board tr.open:has-text("test from swaks")');
      await page.screenshot({ path: join(ARTIFACTS, 'first-run-ringing.png'), fullPage: true });
      await page.click('.page-alert button.ack');
      await page.waitForSelector('table.board tr:has-text("test from swaks") .state-acknowledged');
      expect(await page.textContent('table.board tr:has-text("test from swaks") .ack-by')).toContain('web:ana');

      const wu = cli(['--config', conf, 'web-users', 'list']);
      expect(wu.stdout).toMatch(/ana\s+admin\s+ana@alerts\.example/);
      const alerts = cli(['--config', conf, 'alerts', 'show', '1']);
      expect(alerts.stdout).toMatch(/console/);
      expect(alerts.stdout).toMatch(/web:ana/);
    } finally {
      await browser.close();
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      tmp.cleanup();
    }
  }, 120_000);
});
