/**
 * bench/ingest: N small Zabbix alert mails over many concurrent connections against
 *  (1) the real daemon (`alertline run` subprocess: parse, filter, SQLite commit with fsync, then 250), and
 *  (2) a bare smtp-server sink in a subprocess that neither parses nor stores (the ceiling).
 * Prints throughput, the ratio, accept latency p50/p99, and daemon RSS before/after.
 * Usage: node dist/bench/ingest.js [messages=4000] [connections=32]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import Database from 'better-sqlite3';
import { runLoad, percentile, type LoadResult } from './lib/smtp-load.js';
import { freePort, stop, waitPort } from './lib/ports.js';

/** What fsync allows on this disk: single-row commits per second with WAL + synchronous=FULL, as the store uses. */
function fsyncCommitsPerSecond(dir: string): number {
  const db = new Database(join(dir, 'fsync.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)');
  const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
  const blob = Buffer.alloc(1000, 1);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    ins.run(blob);
    n++;
  }
  db.close();
  return n / ((performance.now() - t0) / 1000);
}

const ROOT = join(import.meta.dirname, '../..');
const N = Number(process.argv[2] ?? 4000);
const C = Number(process.argv[3] ?? 32);
const REFERENCE = 101.67;
/** Extra node flags for the daemon (e.g. BENCH_DAEMON_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'). */
const nodeArgs = (process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}



function report(name: string, r: LoadResult) {
  const rate = (r.ok / r.durationMs) * 1000;
  console.log(`${name.padEnd(34)} ${rate.toFixed(0).padStart(6)} msg/s   ok ${r.ok}  failed ${r.failed}   p50 ${percentile(r.latenciesMs, 50).toFixed(2)} ms   p99 ${percentile(r.latenciesMs, 99).toFixed(2)} ms`);
  return rate;
}


async function main() {
  const message = readFileSync(join(ROOT, 'test/fixtures/mail/zabbix-problem.eml'));
  const dir = mkdtempSync(join(tmpdir(), 'alertline-bench-'));
  try {
    // Bare sink (ceiling).
    const sink = spawn(process.execPath, [join(ROOT, 'dist/bench/lib/bare-sink.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sinkPort = await new Promise<number>((res) => sink.stdout!.once('data', (d) => res(Number(String(d).trim()))));
    await runLoad({ port: sinkPort, connections: C, messages: Math.min(500, N), message, rcpt: 'oncall@alerts.example' }); // warm-up
    const bare = await runLoad({ port: sinkPort, connections: C, messages: N, message, rcpt: 'oncall@alerts.example' });
    await stop(sink);

    // The daemon: dedupe off (every message is distinct work). Its relay is a tarpit that accepts
    // connections and never greets, so the dispatcher's mail slots stay busy and the figure is the
    // ingest path (SMTP, parse, filter, commit with fsync, 250), not relaying.
    const port = await freePort();
    const held: net.Socket[] = [];
    const tarpit = net.createServer((sock) => held.push(sock));
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', () => r()));
    const relayPort = (tarpit.address() as net.AddressInfo).port;
    const conf = join(dir, 'c.yaml');
    writeFileSync(conf, [
      `dataDir: ${join(dir, 'data')}`, `audioCacheDir: ${join(dir, 'audio')}`, `logLevel: warn`,
      `smtp: { port: ${port}, maxClients: 1000 }`, `filter: { dedupeWindow: 0s, maxPending: 1000000 }`,
      `channels: { order: [mail], mail: { enabled: true, host: 127.0.0.1, port: ${relayPort}, requireTLS: false } }`,
    ].join('\n'));
    const bin = join(ROOT, 'bin/alertline.js');
    spawnSync(process.execPath, [bin, '--config', conf, 'users', 'add', 'oncall@alerts.example'], { stdio: 'inherit' });
    const daemon = spawn(process.execPath, [...nodeArgs, bin, 'run', '--config', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitPort(port);
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = rssMb(daemon.pid!);
    await runLoad({ port, connections: C, messages: Math.min(300, N), message, rcpt: 'oncall@alerts.example' }); // warm-up
    const durable = await runLoad({ port, connections: C, messages: N, message, rcpt: 'oncall@alerts.example' });
    const rssAfter = rssMb(daemon.pid!);
    await stop(daemon);
    for (const sock of held) sock.destroy();
    tarpit.close();

    console.log(`bench/ingest: ${N} Zabbix alert mails, ${C} concurrent connections, loopback, ${process.arch}`);
    const bareRate = report('bare smtp-server sink (ceiling)', bare);
    const rate = report('alertline (parse + commit + 250)', durable);
    console.log(`ratio durable / bare: ${(rate / bareRate).toFixed(2)}`);
    console.log(`vs reference design (${REFERENCE} msg/s): ${(rate / REFERENCE).toFixed(1)}x`);
    console.log(`disk: ${fsyncCommitsPerSecond(dir).toFixed(0)} fsync'd single-row commits/s (WAL, synchronous=FULL); alerts arriving together share one commit`);
    console.log(`daemon RSS: before ${rssBefore.toFixed(1)} MB, after ${rssAfter.toFixed(1)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
