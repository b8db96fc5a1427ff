/**
 * bench/console: the web console's board in Debian chromium (playwright-core, nothing downloaded)
 * against the real daemon (`alertline run` subprocess) holding `alerts` alerts: bytes transferred
 * for the board (HTML, CSS, script, the rows; the event stream stays open and is not counted)
 * and time to first contentful paint, against the baseline of the same browser loading the bare
 * /api/v1/status JSON from the same daemon in the same run. Median of `runs` cold page loads each.
 * Usage: node dist/bench/console.js [runs=15] [alerts=60]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort, stop, waitPort } from './lib/ports.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/alertline.js');
const runs = Number(process.argv[2] ?? 15);
const alerts = Number(process.argv[3] ?? 60);

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

async function measure(context: BrowserContext, url: string, headers: Record<string, string> = {}, ready?: (p: Page) => Promise<unknown>) {
  const page = await context.newPage();
  if (Object.keys(headers).length) await page.setExtraHTTPHeaders(headers);
  const sizes: Promise<number>[] = [];
  page.on('requestfinished', (r) => sizes.push(r.sizes().then((s) => s.responseBodySize + s.responseHeadersSize)));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  if (ready) await ready(page);
  const wall = Date.now() - t0;
  const fcp = await page.evaluate(() => new Promise<number>((resolve) => {
    const g = globalThis as unknown as { performance: { getEntriesByName(n: string): { startTime: number }[] } };
    const find = () => g.performance.getEntriesByName('first-contentful-paint')[0]?.startTime;
    const tick = (n: number) => { const v = find(); if (v !== undefined || n > 40) resolve(v ?? NaN); else setTimeout(() => tick(n + 1), 25); };
    tick(0);
  }));
  const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
  await page.close();
  return { bytes, fcp, wall };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-bench-console-'));
  const smtpPort = await freePort();
  const httpPort = await freePort();
  const conf = join(dir, 'alertline.yaml');
  writeFileSync(conf, [`dataDir: ${join(dir, 'data')}`, `audioCacheDir: ${join(dir, 'audio')}`, 'logLevel: warn', `smtp: { port: ${smtpPort} }`, `http: { port: ${httpPort} }`,
    'channels: { order: [console], console: { enabled: true } }'].join('\n'));
  const cli = (args: string[], input = '') => {
    const r = spawnSync(process.execPath, [BIN, '--config', conf, ...args], { input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`alertline ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  cli(['users', 'add', 'ana@alerts.example', '--name', 'Ana']);
  cli(['web-users', 'add', 'ana', '--role', 'admin', '--password-stdin', '--user', 'ana@alerts.example'], 'bench-password');
  const token = cli(['tokens', 'create', 'bench', '--scope', 'write']);
  const daemon = spawn(process.execPath, [BIN, 'run', '--config', conf], { stdio: 'ignore' });
  const profile = mkdtempSync(join(tmpdir(), 'alertline-bench-chromium-'));
  let context: BrowserContext | null = null;
  try {
    await waitPort(httpPort);
    const base = `http://127.0.0.1:${httpPort}`;
    for (let i = 0; i < alerts; i++) {
      const r = await fetch(`${base}/api/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ summary: `Bench alert ${i} on host${i % 7}`, host: `host${i % 7}`, severity: i % 3 ? 'warning' : 'high', action: 'trigger', to: ['ana@alerts.example'] }) });
      if (r.status !== 200) throw new Error(`seeding: ${r.status} ${await r.text()}`);
    }
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium', headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const login = await context.newPage();
    await login.goto(`${base}/login`);
    await login.fill('input[name=login]', 'ana');
    await login.fill('input[name=password]', 'bench-password');
    await login.click('#login button[type=submit]');
    await login.waitForURL(`${base}/`);
    await login.close();
    const board = [];
    const api = [];
    for (let i = 0; i < runs; i++) {
      api.push(await measure(context, `${base}/api/v1/status`, { authorization: `Bearer ${token}` }));
      board.push(await measure(context, `${base}/`, {}, (p) => p.waitForSelector('table.board tr[data-id]')));
    }
    const rows = [
      ['/api/v1/status JSON (baseline)', api],
      [`board (${alerts} alerts)`, board],
    ] as const;
    console.log(`console page weight and first render, chromium ${context.browser()?.version() ?? ''}, median of ${runs} cold loads (cache disabled)`);
    for (const [name, xs] of rows) {
      console.log(`  ${name.padEnd(32)} ${(median(xs.map((x) => x.bytes)) / 1024).toFixed(1).padStart(7)} KB transferred   first contentful paint ${median(xs.map((x) => x.fcp)).toFixed(0).padStart(5)} ms   load ${median(xs.map((x) => x.wall)).toFixed(0).padStart(5)} ms`);
    }
    console.log(`  board / baseline: ${(median(board.map((x) => x.bytes)) / median(api.map((x) => x.bytes))).toFixed(1)}x bytes, ${(median(board.map((x) => x.fcp)) / median(api.map((x) => x.fcp))).toFixed(2)}x first paint`);
  } finally {
    await context?.close().catch(() => {});
    await stop(daemon);
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
