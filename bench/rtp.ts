/**
 * bench/rtp — how evenly RTP leaves Alertline.
 *
 * A receiver in a separate process (so its own timing is not disturbed by the sender's load)
 * records arrival times on loopback and computes, per stream, the RFC 3550 §6.4.1 interarrival
 * jitter (A.8) and the largest deviation of packet spacing from the 20 ms the timestamps say.
 *
 * Scenarios: one call on an idle process; one call while an SMTP ingest load runs in the sender's
 * process (in-process smtp-server + mailparser + a better-sqlite3 insert per message, fed by
 * nodemailer clients in another process); 20 concurrent calls; 20 concurrent calls while the
 * same process ingests 1 000 alert mails/s (paced, 20 SMTP connections from another process;
 * compared with the 20 calls without load of the same run). Each is run with:
 *   - naive:  sleep-after-send on the main thread (the reference design's approach; baseline)
 *   - main:   RtpSession with the absolute-schedule pacer on the main thread
 *   - worker: RtpSession with the pacer in the media worker thread (the default)
 *
 * Run: npm run build && node dist/bench/rtp.js [--seconds 6] [--rate 1000]
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { onReplies } from './lib/smtp-load.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { Daemon } from '../src/daemon.js';
import { configSchema } from '../src/config/schema.js';
import { openStores } from '../src/store/index.js';
import { InterarrivalJitter } from '../src/channels/voip/rtp/jitter.js';
import { decodeRtp, encodeRtp } from '../src/channels/voip/rtp/packet.js';
import { RtpSession } from '../src/channels/voip/rtp/session.js';
import { silentLogger } from '../src/util/log.js';

const SELF = fileURLToPath(import.meta.url);
const REFERENCE_JITTER_PEAK = 35; // timestamp units, measured on the reference design
const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 6;
const argRate = process.argv.indexOf('--rate');
/** Offered ingest of the "20 calls under ingest" scenario, alert mails per second. */
const RATE = argRate > 0 ? Number(process.argv[argRate + 1]) : 1000;
const argOnly = process.argv.indexOf('--only');
/** e.g. --only idle:worker:0,load:worker:0:-10 (scenario:pacer[:spinMs[:nice]]; scenarios idle, load, calls20, calls20load) for experiments. */
const ONLY = argOnly > 0 ? process.argv[argOnly + 1]!.split(',') : undefined;

// ---------------------------------------------------------------------------------------------
// Receiver process: N sockets, per-stream jitter and spacing.
// ---------------------------------------------------------------------------------------------
interface StreamResult {
  packets: number;
  jitterMean: number;
  jitterMax: number;
  maxSpacingDevMs: number;
  gaps: number;
}

async function receiverMain(): Promise<void> {
  const n = Number(process.argv[3]);
  try {
    setPriority(-15); // measure the sender, not how long this process waits for a CPU (needs root/CAP_SYS_NICE)
  } catch {
    /* unprivileged: measure at normal priority */
  }
  const sockets: dgram.Socket[] = [];
  const state = Array.from({ length: n }, () => ({
    jitter: new InterarrivalJitter(8000),
    prev: undefined as { at: number; ts: number } | undefined,
    packets: 0,
    maxDev: 0,
    gaps: 0,
  }));
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    const st = state[i]!;
    s.on('message', (msg) => {
      const at = performance.now();
      let p;
      try {
        p = decodeRtp(msg);
      } catch {
        return;
      }
      st.packets++;
      st.jitter.update(at, p.timestamp);
      if (st.prev) {
        const dts = (p.timestamp - st.prev.ts) >>> 0;
        if (dts !== 160) st.gaps++;
        const dev = Math.abs(at - st.prev.at - dts / 8);
        if (dev > st.maxDev) st.maxDev = dev;
      }
      st.prev = { at, ts: p.timestamp };
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    sockets.push(s);
  }
  process.send!({ ports: sockets.map((s) => s.address().port) });
  process.on('message', (m: { stop?: boolean }) => {
    if (!m.stop) return;
    const results: StreamResult[] = state.map((st) => ({
      packets: st.packets,
      jitterMean: st.jitter.mean,
      jitterMax: st.jitter.max,
      maxSpacingDevMs: st.maxDev,
      gaps: st.gaps,
    }));
    process.send!({ results }, () => {
      for (const s of sockets) s.close();
      process.exit(0);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// SMTP client process: sends mail as fast as the server takes it until told to stop.
// ---------------------------------------------------------------------------------------------
async function smtpClientMain(): Promise<void> {
  const port = Number(process.argv[3]);
  const maxMessages = 20000;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 4, maxMessages: Infinity });
  let stop = false;
  let sent = 0;
  process.on('message', (m: { stop?: boolean }) => {
    if (m.stop) stop = true;
  });
  const body = Array.from({ length: 120 }, (_, i) => `Line ${i}: Host: db-${i % 7}.example.com Severity: High Original problem ID: ${1000 + i}`).join('\n');
  const worker = async (w: number) => {
    while (!stop && sent < maxMessages) {
      const i = sent++;
      await transport.sendMail({
        from: 'zabbix@example.com',
        to: 'oncall@alerts.example',
        subject: `Problem: disk full on db-${i % 7} (${w}/${i}) — ¡atención!`,
        text: body,
        html: `<pre>${body}</pre>`,
        headers: { 'In-Reply-To': `<${i}.abc.1.1@zabbix.com>` },
      });
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
  transport.close();
  process.send!({ sent }, () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Paced SMTP client process: RATE mails/s over 20 connections (mail k is due at start + k/RATE),
// as monitoring servers send them, until told to stop.
// ---------------------------------------------------------------------------------------------
async function pacedClientMain(): Promise<void> {
  const port = Number(process.argv[3]);
  const rate = Number(process.argv[4]);
  const connections = 20;
  let stop = false;
  let next = 0;
  let sent = 0;
  let refused = 0;
  process.on('message', (m: { stop?: boolean }) => {
    if (m.stop) stop = true;
  });
  const start = performance.now() + 50;
  const body = (k: number) => Buffer.from([
    'From: zabbix@monitor.example', 'To: oncall@alerts.example', `Subject: Problem: load ${k}: disk full on db-${k % 97}`, '',
    'Problem started at 03:14:07 on 2026.12.01', `Problem name: disk full on db-${k % 97}`, `Host: db-${k % 97}`, 'Severity: High',
    `Original problem ID: ${2_000_000 + k}`, '.', '',
  ].join('\r\n'), 'latin1');
  const session = () => new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let stage = 0;
    let k = 0;
    const go = () => {
      if (stop) { stage = 9; s.write('QUIT\r\n'); return; }
      k = next++;
      const wait = start + (k * 1000) / rate - performance.now();
      const send = () => { stage = 2; s.write('MAIL FROM:<zabbix@monitor.example>\r\n'); };
      if (wait > 0) setTimeout(send, wait);
      else send();
    };
    onReplies(s, (_code, line) => {
      const ok = line.startsWith('2') || line.startsWith('3');
      switch (stage) {
        case 0: stage = 1; s.write('EHLO load\r\n'); break;
        case 1: go(); break;
        case 2: if (!ok) { refused++; go(); break; } stage = 3; s.write('RCPT TO:<oncall@alerts.example>\r\n'); break;
        case 3: if (!ok) { refused++; stage = 8; s.write('RSET\r\n'); break; } stage = 4; s.write('DATA\r\n'); break;
        case 4: if (!ok) { refused++; stage = 8; s.write('RSET\r\n'); break; } stage = 5; s.write(body(k)); break;
        case 5: if (line.startsWith('250')) sent++; else refused++; go(); break;
        case 8: go(); break;
        case 9: s.end(); break;
      }
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
  await Promise.all(Array.from({ length: connections }, session));
  process.send!({ sent: { sent, refused } }, () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Sender (this process).
// ---------------------------------------------------------------------------------------------
function child(args: string[]): ChildProcess {
  return fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function once<T>(cp: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: Record<string, unknown>) => {
      if (key in m) {
        cp.off('message', onMsg);
        resolve(m[key] as T);
      }
    };
    cp.on('message', onMsg);
    cp.once('exit', (code) => reject(new Error(`child exited (${code}) before sending ${key}`)));
  });
}

interface IngestLoad {
  stop(): Promise<{ messages: number }>;
}

/**
 * The real ingest path of the same daemon process: Alertline's SMTP receiver, parser, filter and
 * SQLite commit (fsync) and dispatcher, fed by a client process. The client stands for the
 * monitoring servers, which on the appliance are other machines: it runs at nice 19 so it takes
 * CPU only where the daemon leaves some.
 */
async function startIngestLoad(rate?: number): Promise<IngestLoad> {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-bench-rtp-'));
  const config = configSchema.parse({ dataDir: join(dir, 'data'), audioCacheDir: join(dir, 'audio'), logLevel: 'error', smtp: { port: 0 }, http: { port: 0 }, filter: { dedupeWindow: '0s', maxPending: 1_000_000 } });
  const stores = openStores(config.dataDir);
  await stores.users.add('oncall@alerts.example');
  await stores.close();
  const daemon = await Daemon.start({ config, logger: silentLogger, factories: {} });
  const port = daemon.smtpPort();
  const client = child(rate ? ['--paced-client', String(port), String(rate)] : ['--smtp-client', String(port)]);
  try {
    setPriority(client.pid!, 19);
  } catch {
    /* not allowed: the client competes at normal priority */
  }
  const sent = once<unknown>(client, 'sent');
  await new Promise((r) => setTimeout(r, 500)); // let the load ramp up
  const before = daemon.receiver.acceptedCount;
  return {
    async stop() {
      client.send({ stop: true });
      await sent.catch(() => 0);
      const messages = daemon.receiver.acceptedCount - before;
      await daemon.stop(0);
      rmSync(dir, { recursive: true, force: true });
      return { messages };
    },
  };
}

type Mode = 'naive' | 'main' | 'worker';

/** The reference design: send, then sleep 20 ms, on the main thread. */
async function naiveCall(port: number, frames: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  let seq = 1;
  let ts = 1000;
  const payload = Buffer.alloc(160, 0xff);
  for (let i = 0; i < frames; i++) {
    s.send(encodeRtp({ marker: i === 0, payloadType: 0, sequenceNumber: seq++ & 0xffff, timestamp: ts, ssrc: 42, payload }), port, '127.0.0.1');
    ts += 160;
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise<void>((r) => s.close(() => r()));
}

/** load: none, as fast as the daemon takes it ('max'), or paced at this many mails/s. */
async function runScenario(mode: Mode, calls: number, load: false | 'max' | number, spinMs?: number, workerPriority?: number | null) {
  const receiver = child(['--receiver', String(calls)]);
  const ports = await once<number[]>(receiver, 'ports');
  const ingest = load ? await startIngestLoad(load === 'max' ? undefined : load) : undefined;
  const frames = Math.round((SECONDS * 1000) / 20);
  const payload = Array.from({ length: frames }, (_, i) => Buffer.alloc(160, i % 2 ? 0xfe : 0xff));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (mode === 'naive') {
    await Promise.all(ports.map((p) => naiveCall(p, frames)));
  } else {
    const sessions = await Promise.all(
      ports.map(() => RtpSession.open({ portRange: { min: 40000, max: 44999 }, localAddress: '127.0.0.1', logger: silentLogger, pacer: mode, spinMs, workerPriority })),
    );
    sessions.forEach((s, i) => s.setRemote({ address: '127.0.0.1', port: ports[i]!, rtcpPort: ports[i]! + 1, codec: 'PCMU', payloadType: 0 }));
    await Promise.all(sessions.map((s) => s.play(payload)));
    await Promise.all(sessions.map((s) => s.close()));
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const ingested = ingest ? (await ingest.stop()).messages : 0;
  await new Promise((r) => setTimeout(r, 100));
  receiver.send({ stop: true });
  const results = await once<StreamResult[]>(receiver, 'results');
  const mean = results.reduce((a, r) => a + r.jitterMean, 0) / results.length;
  const max = Math.max(...results.map((r) => r.jitterMax));
  const dev = Math.max(...results.map((r) => r.maxSpacingDevMs));
  const packets = results.reduce((a, r) => a + r.packets, 0);
  const gaps = results.reduce((a, r) => a + r.gaps, 0);
  return { mode, calls, load, mean, max, dev, packets, expected: frames * calls, gaps, cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100, ingested, wall };
}

async function main(): Promise<void> {
  console.log(`bench/rtp: ${SECONDS} s of 20 ms G.711 per call, loopback receiver in a separate process`);
  console.log(`reference design: interarrival jitter peaking at ${REFERENCE_JITTER_PEAK} timestamp units (${REFERENCE_JITTER_PEAK / 8} ms)\n`);
  const scenarios: Record<string, [string, number, false | 'max' | number]> = {
    idle: ['1 call, idle', 1, false],
    load: ['1 call, SMTP ingest load', 1, 'max'],
    calls20: ['20 concurrent calls', 20, false],
    calls20load: [`20 calls + ${RATE} msg/s ingest`, 20, RATE],
  };
  const runs: [string, Mode, number | undefined, number | null | undefined][] = ONLY
    ? ONLY.map((o) => {
        const [sc, mode, spin, prio] = o.split(':');
        if (!scenarios[sc!] || !['naive', 'main', 'worker'].includes(mode!)) throw new Error(`bad --only entry ${o}`);
        return [sc!, mode as Mode, spin ? Number(spin) : undefined, prio === undefined ? undefined : prio === 'none' ? null : Number(prio)];
      })
    : Object.keys(scenarios).flatMap((sc) => (['naive', 'main', 'worker'] as Mode[]).map((m): [string, Mode, undefined, undefined] => [sc, m, undefined, undefined]));
  const rows: string[][] = [];
  const byRun = new Map<string, Awaited<ReturnType<typeof runScenario>>>();
  for (const [sc, mode, spin, prio] of runs) {
    const [name, calls, load] = scenarios[sc]!;
    const r = await runScenario(mode, calls, load, spin, prio);
    byRun.set(`${sc}:${mode}`, r);
    rows.push([
      name,
      mode + (spin !== undefined && mode !== 'naive' ? ` spin=${spin}` : '') + (prio !== undefined && mode === 'worker' ? ` nice=${prio ?? '-'}` : ''),
      r.mean.toFixed(2),
      (r.mean / 8).toFixed(3),
      r.max.toFixed(2),
      (r.max / 8).toFixed(3),
      r.dev.toFixed(2),
      `${r.packets}/${r.expected}`,
      String(r.gaps),
      r.load ? String(Math.round(r.ingested / (r.wall / 1000))) : '-',
      r.cpuPct.toFixed(0),
      (REFERENCE_JITTER_PEAK / Math.max(r.max, 0.01)).toFixed(1) + '×',
    ]);
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const head = ['scenario', 'pacer', 'jit mean ts', 'ms', 'jit max ts', 'ms', 'max |Δ-20ms| ms', 'packets', 'ts gaps', 'mails/s', 'cpu %', 'ref/ours (max jitter)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join(' | ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
  console.log('\nnaive = sleep-after-send baseline measured in this run; cpu % = sender process CPU (all threads) over wall time.');
  console.log('ref/ours: the reference peak (35 units) divided by our peak; above 1 is better than the reference.');
  for (const mode of ['worker', 'main', 'naive'] as Mode[]) {
    const quiet = byRun.get(`calls20:${mode}`);
    const busy = byRun.get(`calls20load:${mode}`);
    if (!quiet || !busy) continue;
    const ms = (ts: number) => `${(ts / 8).toFixed(3)} ms`;
    console.log(`\n20 concurrent calls, ${mode} pacer: interarrival jitter mean ${ms(quiet.mean)}, max ${ms(quiet.max)} with no load` +
      ` → mean ${ms(busy.mean)}, max ${ms(busy.max)} while ingesting ${Math.round(busy.ingested / (busy.wall / 1000))} msg/s (offered ${RATE})` +
      (mode === 'worker' ? `; target mean < 0.5 ms, max < 2 ms: ${busy.mean / 8 < 0.5 && busy.max / 8 < 2 ? 'met' : 'NOT met'}` : ''));
  }
}

if (process.argv[2] === '--receiver') void receiverMain();
else if (process.argv[2] === '--smtp-client') void smtpClientMain();
else if (process.argv[2] === '--paced-client') void pacedClientMain();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
