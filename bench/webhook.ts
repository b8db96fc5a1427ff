/**
 * bench/webhook: Alertmanager webhook payloads (2 alerts each, distinct fingerprints) over many
 * keep-alive connections, against
 *  (1) the real daemon (`alertline run` subprocess: auth, zod validation, conversion, admission,
 *      SQLite group commit with fsync, then 200), and
 *  (2) a bare fastify handler in a subprocess that reads the body but neither parses nor stores
 *      (the framework's ceiling), in the same run.
 * Prints requests/s, the ratio, and latency p50/p99.
 * Usage: node dist/bench/webhook.js [requests=4000] [connections=32]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import Fastify from 'fastify';
import { freePort, stop, waitPort } from './lib/ports.js';

const ROOT = join(import.meta.dirname, '../..');

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function payload(i: number): string {
  return JSON.stringify({
    version: '4', groupKey: `{}:{alertname="Bench${i}"}`, truncatedAlerts: 0, status: 'firing', receiver: 'alertline',
    groupLabels: { alertname: `Bench${i}` }, commonLabels: { alertname: `Bench${i}`, severity: 'critical' }, commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    alerts: [0, 1].map((k) => ({
      status: 'firing', labels: { alertname: `Bench${i}`, instance: `web${k}:9100`, job: 'node', severity: 'critical' },
      annotations: { summary: `CPU above 90% on web${k}`, description: 'CPU has been above 90% for 10 minutes.' },
      startsAt: '2026-12-01T21:00:00.000Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus.example:9090/graph?g0.expr=cpu',
      fingerprint: `${i.toString(16).padStart(8, '0')}${k}`,
    })),
  });
}

interface Load { ok: number; failed: number; durationMs: number; latenciesMs: number[] }

async function load(port: number, path: string, token: string, n: number, c: number, offset: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  const one = (i: number) => new Promise<void>((resolve) => {
    const body = payload(offset + i);
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - t0);
        if (res.statusCode === 200) ok++;
        else failed++;
        resolve();
      });
    });
    req.on('error', () => { failed++; resolve(); });
    req.end(body);
  });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) await one(next++);
  }));
  const durationMs = performance.now() - t0;
  agent.destroy();
  return { ok, failed, durationMs, latenciesMs: latencies };
}




function report(name: string, r: Load): number {
  const rate = (r.ok / r.durationMs) * 1000;
  console.log(`${name.padEnd(40)} ${rate.toFixed(0).padStart(6)} req/s (${(rate * 2).toFixed(0)} alerts/s)   ok ${r.ok}  failed ${r.failed}   p50 ${percentile(r.latenciesMs, 50).toFixed(2)} ms   p99 ${percentile(r.latenciesMs, 99).toFixed(2)} ms`);
  return rate;
}

/** The ceiling: fastify, body read but not parsed, nothing stored. */
async function bareServer(): Promise<void> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, null));
  app.post('/api/v1/alerts/alertmanager', async () => ({ accepted: [] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${(app.server.address() as net.AddressInfo).port}\n`);
}

async function main() {
  const N = Number(process.argv[2] ?? 4000);
  const C = Number(process.argv[3] ?? 32);
  const dir = mkdtempSync(join(tmpdir(), 'alertline-bench-webhook-'));
  try {
    const bare = spawn(process.execPath, [import.meta.filename, '--bare'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const barePort = await new Promise<number>((res) => bare.stdout!.once('data', (d) => res(Number(String(d).trim()))));
    await load(barePort, '/api/v1/alerts/alertmanager', 'x', Math.min(500, N), C, 0);
    const bareRun = await load(barePort, '/api/v1/alerts/alertmanager', 'x', N, C, 0);
    await stop(bare);

    // The daemon: dedupe off (every alert is distinct work). Its mail relay is a tarpit that
    // accepts connections and never greets, so the dispatcher's slots stay busy and the figure is
    // the ingest path (as bench/ingest does for SMTP), not delivery.
    const held: net.Socket[] = [];
    const tarpit = net.createServer((sock) => held.push(sock));
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', () => r()));
    const relayPort = (tarpit.address() as net.AddressInfo).port;
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const conf = join(dir, 'c.yaml');
    writeFileSync(conf, [
      `dataDir: ${join(dir, 'data')}`, `audioCacheDir: ${join(dir, 'audio')}`, 'logLevel: warn',
      `smtp: { port: ${smtpPort} }`, `http: { port: ${httpPort}, defaultTo: [oncall@alerts.example] }`,
      'filter: { dedupeWindow: 0s, maxPending: 100000000 }',
      `channels: { order: [mail], mail: { enabled: true, host: 127.0.0.1, port: ${relayPort}, requireTLS: false } }`,
    ].join('\n'));
    const bin = join(ROOT, 'bin/alertline.js');
    spawnSync(process.execPath, [bin, '--config', conf, 'users', 'add', 'oncall@alerts.example'], { stdio: 'inherit' });
    const token = spawnSync(process.execPath, [bin, '--config', conf, 'tokens', 'create', 'bench', '--scope', 'ingest'], { encoding: 'utf8' }).stdout.trim();
    const daemon = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : []), bin, 'run', '--config', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitPort(httpPort);
    await new Promise((r) => setTimeout(r, 500));
    await load(httpPort, '/api/v1/alerts/alertmanager', token, Math.min(300, N), C, 10_000_000);
    const durable = await load(httpPort, '/api/v1/alerts/alertmanager', token, N, C, 0);
    await stop(daemon);
    for (const sock of held) sock.destroy();
    tarpit.close();

    console.log(`bench/webhook: ${N} Alertmanager payloads (2 alerts each), ${C} keep-alive connections, loopback, ${process.arch}`);
    const bareRate = report('bare fastify handler (no parse, no store)', bareRun);
    const rate = report('alertline (validate + admit + commit)', durable);
    console.log(`ratio durable / bare: ${(rate / bareRate).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--bare') void bareServer();
else main().catch((e) => {
  console.error(e);
  process.exit(1);
});
