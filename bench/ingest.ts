/**
 * bench/ingest: N small Zabbix alert mails over many concurrent connections against
 *  (1) a bare smtp-server sink in a subprocess that neither parses nor stores (the ceiling, same run),
 *  (2) the real daemon (`alertline run` subprocess: parse, filter, SQLite commit with fsync, then 250)
 *      with mail parsed on the main thread (smtp.parseWorkers: 0) and by parse workers (auto),
 *  (3) the same with sink and daemon pinned to one core (`taskset -c 0`, when taskset exists): the
 *      Pi-like single-core cost (auto means no workers there),
 *  (4) memory: daemon RSS idle without and with the speech engine loaded, and its peak during a
 *      flood of FLOOD mails (VmHWM, reset just before), with the ratio peak / idle.
 * Prints throughput, the ratios, accept latency p50/p99.
 * Usage: node dist/bench/ingest.js [messages=4000] [connections=32] [flood=10000]
 * BENCH_DAEMON_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' passes node flags to the daemons;
 * BENCH_MEMORY_ONLY=1 runs only the memory part.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
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
const FLOOD = Number(process.argv[4] ?? 10_000);
/** voice.unloadAfter for the speech daemon (default 60 s; shorter here so the bench need not wait a minute). */
const SPEECH_UNLOAD_S = 3;
const REFERENCE = 101.67;
/** Extra node flags for the daemon (e.g. BENCH_DAEMON_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'). */
const nodeArgs = (process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
const RCPT = 'oncall@alerts.example';
/** The memory settings the systemd unit starts the daemon with (NODE_OPTIONS, MALLOC_*), so the figures are the appliance's. */
const UNIT_ENV: Record<string, string> = Object.fromEntries(
  [...readFileSync(join(ROOT, 'systemd/alertline.service'), 'utf8').matchAll(/^Environment=(NODE_OPTIONS|MALLOC_[A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
);
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const rssMb = (pid: number) => status(pid, 'VmRSS');

/** Resets the process's peak RSS (VmHWM) to its current RSS; false if the kernel does not allow it. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function report(name: string, r: LoadResult) {
  const rate = (r.ok / r.durationMs) * 1000;
  console.log(`${name.padEnd(44)} ${rate.toFixed(0).padStart(6)} msg/s   ok ${r.ok}  failed ${r.failed}   p50 ${percentile(r.latenciesMs, 50).toFixed(2)} ms   p99 ${percentile(r.latenciesMs, 99).toFixed(2)} ms`);
  return rate;
}

const pinned = (argv: string[]) => (TASKSET ? [TASKSET, '-c', '0', ...argv] : argv);
const run = (argv: string[], stdio: Parameters<typeof spawn>[2]['stdio'], env: NodeJS.ProcessEnv = process.env) => spawn(argv[0]!, argv.slice(1), { stdio, env });

async function bareSink(message: Buffer, pin: boolean): Promise<LoadResult> {
  const argv = [process.execPath, join(ROOT, 'dist/bench/lib/bare-sink.js')];
  const sink = run(pin ? pinned(argv) : argv, ['ignore', 'pipe', 'inherit']);
  const port = await new Promise<number>((res) => sink.stdout!.once('data', (d) => res(Number(String(d).trim()))));
  await runLoad({ port, connections: C, messages: Math.min(500, N), message, rcpt: RCPT }); // warm-up
  const r = await runLoad({ port, connections: C, messages: N, message, rcpt: RCPT });
  await stop(sink);
  return r;
}

interface Daemon {
  child: ChildProcess;
  port: number;
  close(): Promise<void>;
}

/**
 * The daemon with dedupe off (every message is distinct work). Its relay is a tarpit that accepts
 * connections and never greets, so the dispatcher's mail slots stay busy and the figure is the
 * ingest path (SMTP, parse, filter, commit with fsync, 250), not relaying. With speech, a VoIP
 * channel (no registration, its PBX a silent UDP port) makes the daemon load the speech engine.
 */
async function startDaemon(dir: string, o: { workers: 'auto' | number; pin?: boolean; speech?: boolean }): Promise<Daemon> {
  const port = await freePort();
  const held: net.Socket[] = [];
  const tarpit = net.createServer((sock) => held.push(sock));
  await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', () => r()));
  const relayPort = (tarpit.address() as net.AddressInfo).port;
  const pbx = dgram.createSocket('udp4');
  await new Promise<void>((r) => pbx.bind(0, '127.0.0.1', () => r()));
  const data = mkdtempSync(join(dir, 'd-'));
  const conf = join(data, 'c.yaml');
  writeFileSync(conf, [
    `dataDir: ${join(data, 'data')}`, `audioCacheDir: ${join(data, 'audio')}`, `logLevel: ${o.speech ? "info" : "warn"}`,
    `smtp: { port: ${port}, maxClients: 1000, parseWorkers: ${o.workers} }`, `filter: { dedupeWindow: 0s, maxPending: 1000000 }`,
    `channels:`,
    `  order: [mail${o.speech ? ', voip' : ''}]`,
    `  mail: { enabled: true, host: 127.0.0.1, port: ${relayPort}, requireTLS: false }`,
    ...(o.speech ? [`  voip: { enabled: true, register: false, server: "127.0.0.1:${pbx.address().port}", localAddress: 127.0.0.1, localPort: 0 }`,
      `voice: { unloadAfter: ${SPEECH_UNLOAD_S}s }`] : []),
  ].join('\n'));
  const bin = join(ROOT, 'bin/alertline.js');
  spawnSync(process.execPath, [bin, '--config', conf, 'users', 'add', RCPT], { stdio: 'ignore' });
  const argv = [process.execPath, ...nodeArgs, bin, 'run', '--config', conf];
  const child = run(o.pin ? pinned(argv) : argv, ['ignore', 'pipe', 'inherit'], { ...process.env, ...UNIT_ENV });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { if (log.length < 1e6) log += d.toString(); });
  await waitPort(port);
  if (o.speech) {
    for (let i = 0; i < 300 && !log.includes('tts.ready'); i++) await new Promise((r) => setTimeout(r, 50));
    if (!log.includes('tts.ready')) throw new Error('the daemon did not load the speech engine');
  }
  await new Promise((r) => setTimeout(r, 1000));
  return {
    child, port,
    async close() {
      await stop(child);
      for (const sock of held) sock.destroy();
      tarpit.close();
      pbx.close();
    },
  };
}

async function durable(dir: string, message: Buffer, o: { workers: 'auto' | number; pin?: boolean }): Promise<{ r: LoadResult; idle: number; after: number }> {
  const d = await startDaemon(dir, o);
  const idle = rssMb(d.child.pid!);
  await runLoad({ port: d.port, connections: C, messages: Math.min(300, N), message, rcpt: RCPT }); // warm-up
  const r = await runLoad({ port: d.port, connections: C, messages: N, message, rcpt: RCPT });
  const after = rssMb(d.child.pid!);
  await d.close();
  return { r, idle, after };
}

async function main() {
  const message = readFileSync(join(ROOT, 'test/fixtures/mail/zabbix-problem.eml'));
  const dir = mkdtempSync(join(tmpdir(), 'alertline-bench-'));
  try {
    console.log(`bench/ingest: ${N} Zabbix alert mails, ${C} concurrent connections, loopback, ${process.arch}, ${availableParallelism()} cores`);
    console.log(`daemon environment from systemd/alertline.service: ${Object.entries(UNIT_ENV).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`);
    let pooled = { idle: NaN, after: NaN };
    if (!process.env.BENCH_MEMORY_ONLY) pooled = await throughput(dir, message);
    await memory(dir, message, pooled);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughput(dir: string, message: Buffer): Promise<{ idle: number; after: number }> {
    const bare = report('bare smtp-server sink (ceiling)', await bareSink(message, false));
    const inline = await durable(dir, message, { workers: 0 });
    const rInline = report('alertline, parse inline (parseWorkers 0)', inline.r);
    const pooled = await durable(dir, message, { workers: 'auto' });
    const rPool = report(`alertline, parse workers (auto = ${availableParallelism() >= 2 ? 1 : 0})`, pooled.r);
    console.log(`ratio durable / bare: inline ${(rInline / bare).toFixed(2)}, workers ${(rPool / bare).toFixed(2)}`);
    console.log(`vs reference design (${REFERENCE} msg/s): ${(Math.max(rInline, rPool) / REFERENCE).toFixed(1)}x`);
    if (TASKSET) {
      const bare1 = report('bare sink, taskset -c 0', await bareSink(message, true));
      const one = await durable(dir, message, { workers: 'auto', pin: true });
      const r1 = report('alertline, taskset -c 0 (auto = no workers)', one.r);
      console.log(`ratio durable / bare on one core: ${(r1 / bare1).toFixed(2)}`);
    } else {
      console.log('taskset not found: no single-core run');
    }
    console.log(`disk: ${fsyncCommitsPerSecond(dir).toFixed(0)} fsync'd single-row commits/s (WAL, synchronous=FULL); alerts arriving together share one commit`);

    console.log(`after ${N} mails: inline ${inline.after.toFixed(1)} MB, workers ${pooled.after.toFixed(1)} MB (idle ${inline.idle.toFixed(1)} / ${pooled.idle.toFixed(1)} MB)`);
    return pooled;
}

async function memory(dir: string, message: Buffer, pooled: { idle: number; after: number }): Promise<void> {
    if (Number.isNaN(pooled.idle)) {
      const d0 = await startDaemon(dir, { workers: 'auto' });
      pooled.idle = rssMb(d0.child.pid!);
      await d0.close();
    }
    // Memory: idle without speech (the auto daemon above, before any mail), idle with the speech
    // engine loaded, and the peak during a flood (worker threads are in the same process RSS).
    const d = await startDaemon(dir, { workers: 'auto', speech: true });
    const loadedSpeech = rssMb(d.child.pid!);
    // The speech worker stops after voice.unloadAfter without work; the process gives its memory back.
    await new Promise((r) => setTimeout(r, SPEECH_UNLOAD_S * 1000 + 3000));
    const idleSpeech = rssMb(d.child.pid!);
    const peakOk = resetPeak(d.child.pid!);
    const flood = await runLoad({ port: d.port, connections: C, messages: FLOOD, message, rcpt: RCPT });
    const peak = status(d.child.pid!, 'VmHWM');
    const afterFlood = rssMb(d.child.pid!);
    await d.close();
    console.log(`daemon RSS idle: ${pooled.idle.toFixed(1)} MB without speech; with speech (voip enabled, prompts cached): ${loadedSpeech.toFixed(1)} MB while the speech worker is loaded, ${idleSpeech.toFixed(1)} MB idle once it unloaded (voice.unloadAfter ${SPEECH_UNLOAD_S}s here, 60s by default)`);
    console.log(`flood of ${FLOOD} mails (${flood.ok} ok, ${flood.failed} failed) with speech loaded: peak RSS ${peak.toFixed(1)} MB${peakOk ? '' : ' (since start: clear_refs refused)'}, ${(peak / idleSpeech).toFixed(2)}x idle; ${afterFlood.toFixed(1)} MB right after`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
