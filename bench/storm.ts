/**
 * bench/storm: an alert storm. N alert mails (default 10 000) paced over one minute, over real SMTP
 * to the daemon as a subprocess (the real receiver, group commit with fsync, dispatcher and
 * escalation policy; a fake-fast voice channel stands in for the PBX: each call lasts CALL_MS and
 * the person presses 1), one mail per person as Zabbix sends them, to P people (default 20).
 *
 * Prints: accepted/s, 452s (filter.maxPending reached: the sender retries), time to first dial
 * (first call start after the first 250), calls placed, how many other alerts the calls mentioned
 * ("and N more alerts"), steps skipped by the hourly call limit, peak RSS of the daemon, and
 * whether every 250'd alert is in the database (integrity_check).
 *
 * Usage: npm run bench:storm [-- messages=10000 seconds=60 people=20 callMs=3000 lines=4]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { onReplies } from './lib/smtp-load.js';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { openStores } from '../src/store/index.js';

const ROOT = join(import.meta.dirname, '../..');
const arg = (name: string, def: number) => {
  const a = process.argv.slice(2).find((x) => x.startsWith(`${name}=`));
  return a ? Number(a.slice(name.length + 1)) : def;
};
const N = arg('messages', 10_000);
const SECONDS = arg('seconds', 60);
const PEOPLE = arg('people', 20);
const CALL_MS = arg('callMs', 3000);
const LINES = arg('lines', 4);
const CONNECTIONS = arg('connections', 20);

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function mailFor(k: number): { rcpt: string; body: Buffer } {
  const rcpt = `person${k % PEOPLE}@alerts.example`;
  const host = `host-${k % 997}`;
  const text = [
    'From: zabbix@monitor.example', `To: ${rcpt}`, `Subject: Problem: storm ${k}: service down on ${host}`,
    'Content-Type: text/plain; charset=UTF-8', '',
    `Problem started at 03:14:07 on 2026.12.01`, `Problem name: service down on ${host}`, `Host: ${host}`, 'Severity: High',
    `Original problem ID: ${1_000_000 + k}`, '',
  ].join('\r\n');
  return { rcpt, body: Buffer.from(text.replace(/^\./gm, '..') + '\r\n.\r\n', 'latin1') };
}

interface Sent { accepted: number; refused452: number; failed: number; firstAcceptAt: number; lastAcceptAt: number; latencies: number[]; acceptedIds: Set<number> }

/** One SMTP session sending the messages whose turn has come (message k is due at start + k × spacing). */
function session(port: number, next: () => number | null, dueAt: (k: number) => number, out: Sent): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let stage = 0;
    let k = -1;
    let t0 = 0;
    let body: Buffer = Buffer.alloc(0);
    const send = (x: string | Buffer) => s.write(x);
    const startNext = () => {
      const n = next();
      if (n === null) { stage = 9; send('QUIT\r\n'); return; }
      k = n;
      const m = mailFor(k);
      body = m.body;
      const go = () => { stage = 2; send('MAIL FROM:<zabbix@monitor.example>\r\n'); };
      const wait = dueAt(k) - Date.now();
      if (wait > 0) setTimeout(go, wait);
      else go();
      pendingRcpt = m.rcpt;
    };
    let pendingRcpt = '';
    onReplies(s, (code) => {
      switch (stage) {
        case 0: stage = 1; send('EHLO storm\r\n'); break;
        case 1: startNext(); break;
        case 2:
          if (code !== 250) { if (code === 452) out.refused452++; else out.failed++; startNext(); break; }
          stage = 3; send(`RCPT TO:<${pendingRcpt}>\r\n`); break;
        case 3: if (code !== 250) { out.failed++; stage = 8; send('RSET\r\n'); break; } stage = 4; send('DATA\r\n'); break;
        case 4: if (code !== 354) { out.failed++; stage = 8; send('RSET\r\n'); break; } stage = 5; t0 = performance.now(); send(body); break;
        case 5: {
          out.latencies.push(performance.now() - t0);
          if (code === 250) {
            const now = Date.now();
            if (!out.accepted) out.firstAcceptAt = now;
            out.lastAcceptAt = now;
            out.accepted++;
            out.acceptedIds.add(k);
          } else if (code === 452) out.refused452++;
          else out.failed++;
          startNext();
          break;
        }
        case 8: startNext(); break;
        case 9: s.end(); break;
      }
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-storm-'));
  try {
    const conf = join(dir, 'c.yaml');
    writeFileSync(conf, [
      `dataDir: ${join(dir, 'data')}`, `audioCacheDir: ${join(dir, 'audio')}`, 'logLevel: warn',
      'smtp: { port: 0, maxClients: 200 }',
      'channels: { order: [voip], voip: { enabled: true } }',
    ].join('\n'));
    const stores = openStores(join(dir, 'data'));
    for (let i = 0; i < PEOPLE; i++) await stores.users.add(`person${i}@alerts.example`, { sip: String(2000 + i) });
    await stores.close();

    const child = spawn(process.execPath, [join(ROOT, 'dist/bench/lib/storm-daemon.js'), conf, String(CALL_MS), String(LINES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const calls: { at: number; to: string; alert: number; more: number }[] = [];
    const ready = new Promise<{ port: number; pid: number }>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        try {
          const m = JSON.parse(l) as { ready?: { port: number; pid: number }; call?: (typeof calls)[number] };
          if (m.ready) resolve(m.ready);
          if (m.call) calls.push(m.call);
        } catch { /* not ours */ }
      });
      child.once('exit', (c) => reject(new Error(`storm daemon exited with ${c}`)));
    });
    const { port, pid } = await ready;
    let peakRss = procStatus(pid, 'VmRSS');
    const rssStart = peakRss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, procStatus(pid, 'VmRSS')); }, 250);

    const out: Sent = { accepted: 0, refused452: 0, failed: 0, firstAcceptAt: 0, lastAcceptAt: 0, latencies: [], acceptedIds: new Set() };
    const spacing = (SECONDS * 1000) / N;
    const start = Date.now() + 200;
    let nextK = 0;
    const take = () => (nextK < N ? nextK++ : null);
    await Promise.all(Array.from({ length: CONNECTIONS }, () => session(port, take, (k) => start + k * spacing, out)));
    const ingestEnd = Date.now();
    // Let the calls in progress at the end of the storm show.
    await new Promise((r) => setTimeout(r, Math.max(2000, CALL_MS + 500)));
    clearInterval(sampler);
    const hwm = procStatus(pid, 'VmHWM');
    peakRss = Math.max(peakRss, procStatus(pid, 'VmRSS'));

    const db = new Database(join(dir, 'data', 'alertline.db'), { readonly: true });
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    const stored = new Set((db.prepare(`SELECT subject FROM alerts WHERE subject LIKE 'Problem: storm %'`).all() as { subject: string }[])
      .map((r) => Number(/^Problem: storm (\d+):/.exec(r.subject)?.[1])));
    const lost = [...out.acceptedIds].filter((k) => !stored.has(k)).length;
    const rateLimited = (db.prepare(`SELECT count(*) n FROM attempts WHERE outcome = 'skipped' AND reason LIKE 'rate limit%'`).get() as { n: number }).n;
    const acked = (db.prepare(`SELECT count(*) n FROM alerts WHERE state = 'acknowledged'`).get() as { n: number }).n;
    db.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));

    const ingestSec = (ingestEnd - start) / 1000;
    const firstDial = calls.length ? calls[0]!.at - out.firstAcceptAt : NaN;
    const people = new Set(calls.map((c) => c.to)).size;
    const mores = calls.map((c) => c.more);
    console.log(`bench/storm: ${N} alert mails paced over ${SECONDS} s to ${PEOPLE} people, ${CONNECTIONS} SMTP connections, loopback, ${process.arch}`);
    console.log(`  fake voice channel: ${LINES} lines, each call ${CALL_MS} ms, the person presses 1; escalation and limits as configured by default`);
    console.log(`accepted:             ${out.accepted} (${(out.accepted / ingestSec).toFixed(0)} /s over ${ingestSec.toFixed(1)} s; offered ${(N / SECONDS).toFixed(0)} /s)`);
    console.log(`refused:              ${out.refused452} with 452 (filter.maxPending reached; the sender retries), ${out.failed} other`);
    console.log(`250 latency:          p50 ${pct(out.latencies, 50).toFixed(1)} ms, p99 ${pct(out.latencies, 99).toFixed(1)} ms`);
    console.log(`time to first dial:   ${firstDial} ms after the first 250`);
    console.log(`calls placed:         ${calls.length} to ${people} people while ${out.accepted} alerts arrived (${acked} alerts acknowledged by key)`);
    console.log(`alerts merged:        each call also announced the person's other open alerts: max "and ${Math.max(0, ...mores)} more", median ${pct(mores, 50)}`);
    console.log(`call limit:           ${rateLimited} call steps skipped by escalation.maxCallsPerHour (those alerts are announced in the calls that are placed)`);
    console.log(`daemon RSS:           ${rssStart.toFixed(1)} MB at start, peak ${Math.max(peakRss, hwm).toFixed(1)} MB (VmHWM ${hwm.toFixed(1)} MB)`);
    console.log(`nothing lost:         ${out.accepted - lost}/${out.accepted} accepted alerts in the database, integrity_check ${integrity}`);
    if (lost || integrity !== 'ok') process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
