/**
 * bench/failover: two appliances on one PostgreSQL (a throwaway cluster on this machine).
 *  (1) Failover: a delivery is running on one node (its relay accepts the connection and never
 *      answers, like a long call); kill -9 of that node; the time until the other node starts the
 *      step again (after node.lease runs out), over a few runs.
 *  (2) Durable ingest: N alert mails over C connections into one daemon on PostgreSQL, and into
 *      one on SQLite (the baseline), same run, same message, same machine.
 * Usage: node dist/bench/failover.js [messages=2000] [connections=32] [lease=5s] [runs=3]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { runLoad, percentile } from './lib/smtp-load.js';
import { freePort, waitPort } from './lib/ports.js';
import { startPg } from './lib/pg.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/alertline.js');
const N = Number(process.argv[2] ?? 2000);
const C = Number(process.argv[3] ?? 32);
const LEASE = process.argv[4] ?? '5s';
const RUNS = Number(process.argv[5] ?? 3);

function config(dir: string, name: string, port: number, relayPort: number, store: string): string {
  mkdirSync(join(dir, name), { recursive: true });
  const conf = join(dir, name, 'c.yaml');
  writeFileSync(conf, [
    `dataDir: ${join(dir, name, 'data')}`, `audioCacheDir: ${join(dir, name, 'audio')}`, 'logLevel: warn',
    `smtp: { port: ${port}, maxClients: 1000 }`, 'http: { port: 0 }', `filter: { dedupeWindow: 0s, maxPending: 1000000 }`,
    store, `node: { name: ${name}, lease: ${LEASE} }`,
    `channels: { order: [mail], mail: { enabled: true, host: 127.0.0.1, port: ${relayPort}, requireTLS: false, timeout: 10m } }`,
  ].join('\n'));
  return conf;
}

function daemon(conf: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'run', '--config', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function one<T>(url: string, sql: string, args: unknown[] = []): Promise<T | undefined> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return (await c.query(sql, args)).rows[0] as T | undefined; } finally { await c.end(); }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-bench-failover-'));
  const cluster = await startPg();
  const held: net.Socket[] = [];
  const tarpit = net.createServer((s) => { held.push(s); s.on('error', () => {}); });
  await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', () => r()));
  const relayPort = (tarpit.address() as net.AddressInfo).port;
  const message = readFileSync(join(ROOT, 'test/fixtures/mail/zabbix-problem.eml'));
  try {
    // (1) Failover.
    const gaps: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const url = await cluster.createDb(`failover${run}`);
      const store = `store: { engine: postgres, url: "${url}" }`;
      const [pa, pb] = [await freePort(), await freePort()];
      const confs = { 'node-a': config(dir, `a${run}`, pa, relayPort, store), 'node-b': config(dir, `b${run}`, pb, relayPort, store) };
      spawnSync(process.execPath, [BIN, '--config', confs['node-a'], 'users', 'add', 'oncall@alerts.example'], { stdio: 'ignore' });
      const nodes: Record<string, ChildProcess> = { [`a${run}`]: daemon(confs['node-a']), [`b${run}`]: daemon(confs['node-b']) };
      await waitPort(pa);
      await waitPort(pb);
      await runLoad({ port: pa, connections: 1, messages: 1, message, rcpt: 'oncall@alerts.example' });
      let busy: { node: string; delivery_id: number } | undefined;
      for (let i = 0; i < 1000 && !busy; i++) {
        busy = await one(url, `SELECT node, delivery_id FROM attempts WHERE ended_at IS NULL`);
        if (!busy) await new Promise((r) => setTimeout(r, 20));
      }
      if (!busy) throw new Error('no delivery started');
      await new Promise((r) => setTimeout(r, 1000)); // it has been running a while (lease renewed)
      const killedAt = Date.now();
      nodes[busy.node]!.kill('SIGKILL');
      let retry: { started_at: number } | undefined;
      for (let i = 0; i < 6000 && !retry; i++) {
        retry = await one(url, `SELECT started_at FROM attempts WHERE delivery_id = $1 AND node <> $2`, [busy.delivery_id, busy.node]);
        if (!retry) await new Promise((r) => setTimeout(r, 10));
      }
      if (!retry) throw new Error('no retry');
      gaps.push(Number(retry.started_at) - killedAt);
      // The survivor's step waits on the silent relay: it is killed too (SIGTERM would wait for it).
      for (const [n, p] of Object.entries(nodes)) if (n !== busy.node) { p.kill('SIGKILL'); await new Promise((r) => p.once('exit', r)); }
    }

    // (2) Durable ingest, PostgreSQL vs SQLite, same run.
    const rates: Record<string, { rate: number; p50: number; p99: number }> = {};
    for (const engine of ['sqlite', 'postgres'] as const) {
      const port = await freePort();
      const store = engine === 'sqlite' ? 'store: { engine: sqlite }' : `store: { engine: postgres, url: "${await cluster.createDb('ingest')}" }`;
      const conf = config(dir, `ingest-${engine}`, port, relayPort, store);
      spawnSync(process.execPath, [BIN, '--config', conf, 'users', 'add', 'oncall@alerts.example'], { stdio: 'ignore' });
      const d = daemon(conf);
      await waitPort(port);
      await runLoad({ port, connections: C, messages: Math.min(300, N), message, rcpt: 'oncall@alerts.example' }); // warm-up
      const r = await runLoad({ port, connections: C, messages: N, message, rcpt: 'oncall@alerts.example' });
      d.kill('SIGKILL');
      await new Promise((res) => d.once('exit', res));
      rates[engine] = { rate: (r.ok / r.durationMs) * 1000, p50: percentile(r.latenciesMs, 50), p99: percentile(r.latenciesMs, 99) };
      if (r.failed) console.log(`${engine}: ${r.failed} messages failed`);
    }

    console.log(`bench/failover: two nodes on one PostgreSQL 15 (loopback, this machine, ${process.arch}), node.lease ${LEASE}`);
    const sorted = [...gaps].sort((a, b) => a - b);
    console.log(`kill -9 of the busy node → the other node's first retry: ${gaps.map((g) => `${(g / 1000).toFixed(2)} s`).join(', ')} (median ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} s; the lease bounds it)`);
    console.log(`durable ingest, ${N} Zabbix mails over ${C} connections, 250 after the commit:`);
    for (const [e, r] of Object.entries(rates)) console.log(`  ${e.padEnd(9)} ${r.rate.toFixed(0).padStart(6)} msg/s   p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms`);
    console.log(`ratio postgres / sqlite: ${(rates.postgres!.rate / rates.sqlite!.rate).toFixed(2)}`);
  } finally {
    for (const s of held) s.destroy();
    tarpit.close();
    cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
