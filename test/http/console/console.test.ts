/**
 * The web console in a real browser (Debian chromium through playwright-core) against an
 * in-process daemon with real channels: SMTP in, the console channel, the voip channel calling
 * sipp on loopback. Screenshots go to test-artifacts/console/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startDaemon, waitFor } from '../../helpers/env.js';
import { cli } from '../../helpers/cli.js';
import { sendRaw } from '../../helpers/smtp-client.js';
import { freePort, startSipp, type SippRun } from '../../channels/voip/sipp/helpers.js';
import { hashPassword } from '../../../src/http/web-auth.js';
import { hashToken, newToken } from '../../../src/http/auth.js';
import { ARTIFACTS, launchChromium } from './browser.js';

const HERE = import.meta.dirname;

function mail(to: string, subject: string, host = 'db1'): string {
  return [`From: zabbix@monitor.example`, `To: ${to}`, `Subject: ${subject}`, `Date: ${new Date().toUTCString()}`, `Message-ID: <${Math.random().toString(36).slice(2)}@monitor.example>`, '',
    `Problem started at 10:00:00\r\nHost: ${host}\r\nSeverity: High\r\n`].join('\r\n');
}

describe('web console in chromium', () => {
  let d: Awaited<ReturnType<typeof startDaemon>>;
  let base = '';
  let conf = '';
  let sipPort = 0;
  let alice: { context: BrowserContext; close: () => Promise<void> };
  let page: Page;
  const writeToken = newToken();

  beforeAll(async () => {
    sipPort = await freePort();
    d = await startDaemon({
      channels: {
        order: ['console', 'voip'],
        console: { enabled: true },
        voip: { enabled: true, server: `127.0.0.1:${sipPort}`, domain: 'alertline.test', register: false, localAddress: '127.0.0.1', localPort: 0, rtpPorts: '42000-42999' },
      },
      voice: { repeat: 1 },
    }, { realChannels: true, users: [['alice@alerts.example', { name: 'Alice' }], ['ringer@alerts.example', { sip: '201' }]] });
    const s = d.daemon.stores;
    await s.webUsers.add('alice', 'admin', await hashPassword('alice-password'), 'alice@alerts.example');
    await s.webUsers.add('bob', 'responder', await hashPassword('bob-password'));
    await s.tokens.add('seed', 'write', hashToken(writeToken));
    base = `http://127.0.0.1:${d.daemon.http.address()!.port}`;
    conf = join(d.dir, 'cli.yaml');
    writeFileSync(conf, `dataDir: ${d.config.dataDir}\naudioCacheDir: ${d.config.audioCacheDir}\n`);
    alice = await launchChromium();
    page = await alice.context.newPage();
  }, 120_000);

  afterAll(async () => {
    await alice?.close();
    await d?.stop();
  });

  async function login(p: Page, user: string, password: string) {
    await p.goto(`${base}/`);
    await p.waitForURL(/\/login/);
    await p.fill('input[name=login]', user);
    await p.fill('input[name=password]', password);
    await p.click('#login button[type=submit]');
    await p.waitForURL(`${base}/`);
  }

  it('logs in; a wrong password is refused; the session cookie is HttpOnly and SameSite=Strict', async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name=login]', 'alice');
    await page.fill('input[name=password]', 'not-her-password');
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('.error')).toContain('wrong login or password');
    await login(page, 'alice', 'alice-password');
    expect(await page.textContent('h1')).toBe('Board');
    expect(await page.textContent('.who')).toContain('alice (admin)');
    const c = (await alice.context.cookies()).find((x) => x.name === 'alertline_session')!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Strict');
    await page.screenshot({ path: join(ARTIFACTS, 'board-empty.png'), fullPage: true });
  });

  it('an alert sent over SMTP appears on the board within 2 s without reload, and rings on the console of its recipient', async () => {
    await page.waitForSelector('#live:text("live")');
    await page.evaluate(() => { (globalThis as unknown as { marker: number }).marker = 42; });
    const r = await sendRaw(d.port, { to: ['alice@alerts.example'], data: mail('alice@alerts.example', 'Problem: Disk full on db1') });
    expect(r.final!.code).toBe(250);
    await page.waitForSelector('table.board tr.open:has-text("Disk full on db1")', { timeout: 2000 });
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42); // no reload
    // The console channel: alice is this recipient and has the console open.
    await page.waitForSelector('.page-alert:has-text("Disk full")', { timeout: 5000 });
    expect(await page.getAttribute('body', 'data-last-beep')).toMatch(/^\d+$/); // the alarm sounded (Web Audio)
    const attempts = await waitFor(async () => {
      const a = await d.daemon.stores.alerts.attempts(1);
      return a.some((t) => t.channel === 'console' && t.outcome === 'delivered') ? a : null;
    });
    expect(attempts.find((t) => t.channel === 'console')!.reason).toBe('shown on the console to alice');
    await page.screenshot({ path: join(ARTIFACTS, 'board-alert.png'), fullPage: true });
    // Acknowledge from the banner.
    await page.click('.page-alert button.ack');
    await page.waitForSelector('table.board tr[data-id="1"][data-state="acknowledged"]');
    expect((await d.daemon.stores.alerts.get(1))!.ack_by).toBe('web:alice');
    await expect.poll(() => page.locator('.page-alert').count()).toBe(0); // the alarm stops
  });

  it('Ack on the board stops a ringing sipp call; the alert shows acknowledged by the web user', async () => {
    let phone: SippRun | null = await startSipp('ring-until-cancel.xml', { port: sipPort, dir: HERE, timeoutS: 60 });
    try {
      const r = await sendRaw(d.port, { to: ['ringer@alerts.example'], data: mail('ringer@alerts.example', 'Problem: Web down', 'web1') });
      expect(r.final!.code).toBe(250);
      const row = page.locator('table.board tr:has-text("Web down")');
      await row.locator('td.calling:has-text("ringer@alerts.example by voip")').waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'board-calling.png'), fullPage: true });
      await row.locator('button.ack').click();
      const sipp = await phone.done; // sipp saw CANCEL for its INVITE (same branch), answered 487, got the ACK
      phone = null;
      expect(sipp.code, sipp.output).toBe(0);
      await row.locator('.state-acknowledged').waitFor();
      expect(await row.locator('.ack-by').textContent()).toContain('web:alice');
      const id = Number(await row.getAttribute('data-id'));
      await waitFor(async () => (await d.daemon.stores.alerts.attempts(id)).some((t) => t.channel === 'voip' && t.ended_at !== null));
      const voip = (await d.daemon.stores.alerts.attempts(id)).find((t) => t.channel === 'voip')!;
      expect(voip.outcome).not.toBe('acknowledged'); // ended by the web ack, not by a key
      // The alert page: its timeline names the attempt and the acknowledgement.
      await page.goto(`${base}/alerts/${id}`);
      expect(await page.textContent('.ack-by')).toBe('web:alice');
      const tl = (await page.textContent('ol.timeline'))!;
      expect(tl).toContain('received');
      expect(tl).toMatch(/voip to ringer@alerts\.example \(201\), [\d.]+ s: \w+/);
      expect(tl).toMatch(/acknowledged — by web:alice via web/);
      expect(await page.textContent('pre.mail')).toContain('Host: web1');
      await page.screenshot({ path: join(ARTIFACTS, 'alert.png'), fullPage: true });
    } finally {
      await phone?.kill();
    }
  }, 60_000);

  it('a POST without the CSRF token is refused and changes nothing', async () => {
    const r = await sendRaw(d.port, { to: ['alice@alerts.example'], data: mail('alice@alerts.example', 'Problem: CSRF target') });
    expect(r.final!.code).toBe(250);
    const id = await waitFor(async () => (await d.daemon.stores.changes.listAlerts({ limit: 5 })).find((a) => a.subject.includes('CSRF target'))?.id);
    // The page's own cookies (a logged-in session), no token: like a form posted from elsewhere.
    const res = await page.request.post(`${base}/alerts/${id}/ack`, { form: { back: '/' }, headers: { accept: 'application/json' } });
    expect(res.status()).toBe(403);
    expect((await res.json()).error).toMatch(/CSRF/);
    const foreign = await page.request.post(`${base}/alerts/${id}/ack`, { form: { _csrf: 'x' }, headers: { origin: 'http://evil.example' } });
    expect(foreign.status()).toBe(403);
    expect((await d.daemon.stores.alerts.get(id))!.ack_at).toBeNull();
  });

  it('a responder sees no people actions and is refused them', async () => {
    const bob = await launchChromium();
    try {
      const p = await bob.context.newPage();
      // By keyboard only: the login field has focus, Tab to the password, Enter submits.
      await p.goto(`${base}/login`);
      await p.keyboard.type('bob');
      await p.keyboard.press('Tab');
      await p.keyboard.type('bob-password');
      await p.keyboard.press('Enter');
      await p.waitForURL(`${base}/`);
      await p.keyboard.press('Tab');
      expect(await p.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).toBe('Skip to content');
      await p.goto(`${base}/people`);
      expect(await p.textContent('h1')).toBe('People');
      expect(await p.locator('#add-person').count()).toBe(0);
      expect(await p.locator('form[action$="/remove"]').count()).toBe(0);
      const csrf = (await p.getAttribute('meta[name=csrf-token]', 'content'))!;
      const res = await p.request.post(`${base}/people`, { form: { _csrf: csrf, email: 'sneaky@alerts.example' }, headers: { accept: 'application/json' } });
      expect(res.status()).toBe(403);
      expect(await d.daemon.stores.users.get('sneaky@alerts.example')).toBeNull();
      const wu = await p.goto(`${base}/web-users`);
      expect(wu!.status()).toBe(403);
    } finally {
      await bob.close();
    }
  });

  it('a person and a schedule created on the pages are what alertline users list and alertline oncall show', async () => {
    await page.goto(`${base}/people`);
    await page.fill('#add-person input[name=email]', 'carol@alerts.example');
    await page.fill('#add-person input[name=name]', 'Carol');
    await page.fill('#add-person input[name=phone]', '+34600111222');
    await page.click('#add-person button[type=submit]');
    await page.waitForSelector('.notice:has-text("added carol@alerts.example")');
    await page.click('tr:has-text("carol@alerts.example") a:text("Edit")');
    await page.fill('#edit-person input[name=sip]', '305');
    await page.fill('#edit-person input[name=group]', 'noc');
    await page.click('#edit-person button[type=submit]');
    await page.waitForSelector('.notice:has-text("saved carol@alerts.example")');
    await page.goto(`${base}/schedules`);
    await page.fill('#add-schedule input[name=name]', 'noc');
    await page.fill('#add-schedule input[name=members]', 'carol@alerts.example,alice@alerts.example');
    await page.selectOption('#add-schedule select[name=rotation]', 'weekly');
    await page.fill('#add-schedule input[name=handoff]', 'mon 09:00');
    await page.fill('#add-schedule input[name=tz]', 'Europe/Madrid');
    await page.click('#add-schedule button[type=submit]');
    await page.waitForSelector('.notice:has-text("added schedule noc")');
    expect(await page.locator('table.strip td').count()).toBe(14);
    await page.screenshot({ path: join(ARTIFACTS, 'schedules.png'), fullPage: true });
    const users = cli(['--config', conf, 'users', 'list']);
    expect(users.code, users.stderr).toBe(0);
    expect(users.stdout).toMatch(/carol@alerts\.example.*Carol.*\+34600111222.*305.*noc/);
    const oncall = cli(['--config', conf, 'oncall', 'noc']);
    expect(oncall.code, oncall.stderr).toBe(0);
    expect(oncall.stdout).toMatch(/noc at .*Europe\/Madrid/);
    expect(oncall.stdout).toMatch(/primary\s+carol@alerts\.example/);
    // A bad schedule is refused with the field named, nothing stored.
    await page.fill('#add-schedule input[name=name]', 'bad');
    await page.fill('#add-schedule input[name=members]', 'carol@alerts.example');
    await page.fill('#add-schedule input[name=handoff]', 'mon 09:00');
    await page.fill('#add-schedule input[name=tz]', 'Mars/Olympus');
    await page.click('#add-schedule button[type=submit]');
    expect(await page.textContent('.error')).toMatch(/tz|zone/i);
    expect(await d.daemon.stores.oncall.getSchedule('bad')).toBeNull();
  });

  it('statistics render charts from alerts seeded through the API, and export CSV', async () => {
    for (const [summary, severity, host] of [['CPU high', 'high', 'app1'], ['CPU high', 'high', 'app1'], ['Swap low', 'warning', 'app2']] as const) {
      const r = await fetch(`${base}/api/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${writeToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ summary, severity, host, action: 'trigger', to: ['alice@alerts.example'] }) });
      expect(r.status).toBe(200);
    }
    await page.goto(`${base}/stats?range=24h`);
    const bars = page.locator('figure.chart').first().locator('svg.plot rect');
    expect(await bars.count()).toBeGreaterThan(0);
    expect(await page.locator('figure.chart').first().locator('.legend').textContent()).toMatch(/high/);
    const hosts = (await page.locator('section:has(h2:text("Noisiest hosts")) tbody').textContent())!;
    expect(hosts).toMatch(/app1\s*2/);
    await page.screenshot({ path: join(ARTIFACTS, 'stats.png'), fullPage: true });
    const csv = await page.request.get(`${base}/stats.csv?range=24h`);
    expect(csv.headers()['content-type']).toMatch(/text\/csv/);
    expect(await csv.text()).toMatch(/noisiest_hosts,app1,,2/);
  });

  it('a phone-sized screen has no horizontal scroll', async () => {
    const phone = await alice.context.newPage();
    await phone.setViewportSize({ width: 375, height: 740 });
    for (const path of ['/', '/alerts/2', '/people', '/schedules', '/stats?range=24h', '/status']) {
      await phone.goto(`${base}${path}`);
      const [sw, cw] = await phone.evaluate(() => { const e = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement; return [e.scrollWidth, e.clientWidth]; });
      expect(sw, path).toBeLessThanOrEqual(cw);
    }
    await phone.goto(`${base}/`);
    await phone.screenshot({ path: join(ARTIFACTS, 'phone-board.png'), fullPage: true });
    await phone.close();
  });
});
