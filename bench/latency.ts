/**
 * bench/latency: how long after the SMTP 250 the phone starts ringing. The real daemon runs as a
 * subprocess with its real channels: gsm to the SIM900 simulator (test/channels/gsm) over a socat
 * pty, voip to sipp (a callee that answers and presses 1 as SIP INFO), the espeak speech service
 * and its prompt cache. Alerts are sent one at a time, each to its own person, each call
 * answered and acknowledged before the next alert. Measured: from the 250 at the sender to the
 * first `ATD` line complete at the simulator, and to the first INVITE received by sipp (its
 * message log's timestamp).
 *
 * Prompts: "fresh" alerts each have a new subject (the message must be synthesized for the
 * call); "cached" alerts all say the same (the call's message is in the prompt cache).
 *
 * Baseline, same run: a bare process (smtp-server storing nothing) that writes the ATD to the
 * pty, or sends one INVITE datagram to sipp, right after its 250: the floor of SMTP + a write to
 * the peer on this machine, measured by the same clocks.
 *
 * Usage: npm run bench:latency [-- alerts=50 prompts=fresh,cached channels=gsm,voip]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { openStores } from '../src/store/index.js';
import { Sim900Simulator, type CallScript } from '../test/channels/gsm/sim900-simulator.js';
import { freePort, stop } from './lib/ports.js';
import { percentile } from './lib/smtp-load.js';

const ROOT = join(import.meta.dirname, '../..');
const PLAY = join(ROOT, 'test/channels/gsm/fixtures/play.mjs');
const SIPP_DIR = join(ROOT, 'bench/lib/sipp');
const argv = process.argv.slice(2);
const arg = (name: string, def: string) => argv.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? def;
const N = Number(arg('alerts', '50'));
const PROMPTS = arg('prompts', 'fresh,cached').split(',') as ('fresh' | 'cached')[];
const CHANNELS = arg('channels', 'gsm,voip').split(',') as ('gsm' | 'voip')[];

// ---- one clock for both processes: wall time with sub-ms resolution ----
// performance.now() is monotonic and fine-grained; Date.now() is the wall clock sipp also uses.
// The offset between them is taken at a Date.now() tick edge (median of several).
function wallOffset(): number {
  const offs: number[] = [];
  for (let k = 0; k < 7; k++) {
    const d0 = Date.now();
    let d = d0;
    let p = 0;
    while (d === d0) {
      p = performance.now();
      d = Date.now();
    }
    offs.push(d - p);
  }
  return offs.sort((a, b) => a - b)[3]!;
}
const OFFSET = wallOffset();
const wallNow = () => performance.now() + OFFSET;

// ---- a persistent SMTP session: one mail at a time, resolves with the 250's arrival time ----
class Sender {
  private buf = '';
  private waiter: ((line: string) => void) | null = null;
  private constructor(private readonly s: net.Socket) {
    s.on('data', (d) => {
      this.buf += d.toString('latin1');
      for (;;) {
        const i = this.buf.indexOf('\r\n');
        if (i < 0) break;
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (line[3] === '-') continue;
        const w = this.waiter;
        this.waiter = null;
        w?.(line);
      }
    });
  }
  static async open(port: number): Promise<Sender> {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const snd = new Sender(s);
    await snd.reply();
    await snd.cmd('EHLO latency');
    return snd;
  }
  private reply(): Promise<string> {
    return new Promise((r) => (this.waiter = r));
  }
  private async cmd(x: string, expect = /^2/): Promise<string> {
    const p = this.reply();
    this.s.write(`${x}\r\n`);
    const line = await p;
    if (!expect.test(line)) throw new Error(`${x.split(' ')[0]}: ${line}`);
    return line;
  }
  /** Sends one mail; resolves with the wall time the 250 arrived and its text. */
  async send(rcpt: string, subject: string): Promise<{ at: number; line: string }> {
    await this.cmd('MAIL FROM:<zabbix@monitor.example>');
    await this.cmd(`RCPT TO:<${rcpt}>`);
    await this.cmd('DATA', /^354/);
    const p = this.reply();
    this.s.write(`From: zabbix@monitor.example\r\nTo: ${rcpt}\r\nSubject: ${subject}\r\n\r\nHost: db1\r\nSeverity: High\r\n.\r\n`);
    const line = await p;
    const at = wallNow();
    if (!line.startsWith('250')) throw new Error(`DATA: ${line}`);
    return { at, line };
  }
  close(): void {
    this.s.end('QUIT\r\n');
  }
}

// ---- sipp ----
interface Sipp { port: number; log: string; child: ChildProcess; dir: string }

async function startSipp(scenario: string, calls: number): Promise<Sipp> {
  const port = await freePort();
  const media = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'alertline-latency-sipp-'));
  const log = join(dir, 'messages.log');
  const child = spawn('sipp', ['-sf', join(SIPP_DIR, scenario), '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(media),
    '-t', 'u1', '-m', String(calls), '-nostdin', '-trace_msg', '-message_file', log, '-timeout', '3600s', '-max_recv_loops', '1000'],
  { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, TZ: 'UTC' } });
  await new Promise((r) => setTimeout(r, 400));
  if (child.exitCode !== null) throw new Error(`sipp exited (${child.exitCode})`);
  return { port, log, child, dir };
}

/** Wall time of the first INVITE to `user` in sipp's message log (its receive timestamp), or null. */
function inviteAt(log: string, user: string): number | null {
  if (!existsSync(log)) return null;
  const text = readFileSync(log, 'latin1');
  const re = /-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6})\r?\n\w+ message received \[\d+\] bytes :\r?\n\r?\nINVITE sip:([^@\s]+)@/g;
  for (const m of text.matchAll(re)) {
    if (m[3] === user) return Date.parse(`${m[1]!.replace(' ', 'T')}Z`) + Number(m[2]) / 1000;
  }
  return null;
}

async function until<T>(f: () => T | null | undefined | false, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const gsmNumber = (i: number) => `+1555100${String(i).padStart(4, '0')}`;
const bareNumber = (i: number) => `+1555999${String(i).padStart(4, '0')}`;
const sipUser = (i: number) => String(30000 + i);

function summary(xs: number[]): string {
  return `p50 ${percentile(xs, 50).toFixed(1).padStart(6)} ms   p99 ${percentile(xs, 99).toFixed(1).padStart(6)} ms   max ${Math.max(...xs).toFixed(1).padStart(6)} ms   (n=${xs.length})`;
}

// ---- baseline: the bare process ----
async function baseline(): Promise<{ gsm: number[]; voip: number[] }> {
  const calls: Record<string, CallScript> = {};
  for (let i = 0; i < N; i++) calls[bareNumber(i)] = { result: 'no-dialtone' };
  const sim = await Sim900Simulator.create({ calls });
  const sipp = await startSipp('see-invite.xml', N);
  const child = spawn(process.execPath, [join(ROOT, 'dist/bench/lib/bare-dialer.js'), sim.driverPath, String(sipp.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l)));
    child.once('exit', (c) => reject(new Error(`bare dialer exited with ${c}`)));
  });
  const out = { gsm: [] as number[], voip: [] as number[] };
  const smtp = await Sender.open(port);
  try {
    for (let i = 0; i < N; i++) {
      if (CHANNELS.includes('gsm')) {
        const from = sim.commands.length;
        const { at } = await smtp.send(`g${bareNumber(i)}@alerts.example`, `bare ${i}`);
        const k = await until(() => { const j = sim.commands.indexOf(`ATD${bareNumber(i)};`, from); return j >= 0 ? j + 1 : null; }, 'bare ATD');
        out.gsm.push(sim.commandTimes[k - 1]! - at);
      }
      if (CHANNELS.includes('voip')) {
        const { at } = await smtp.send(`v${sipUser(i)}@alerts.example`, `bare ${i}`);
        out.voip.push((await until(() => inviteAt(sipp.log, sipUser(i)), 'bare INVITE')) - at);
      }
    }
  } finally {
    smtp.close();
    await stop(child);
    sipp.child.kill('SIGKILL');
    rmSync(sipp.dir, { recursive: true, force: true });
    await sim.close();
  }
  return out;
}

// ---- the daemon ----
async function daemonRun(prompts: 'fresh' | 'cached'): Promise<{ gsm: number[]; voip: number[]; acked: { gsm: number; voip: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-latency-'));
  const calls: Record<string, CallScript> = {};
  // Warm-up alert (index N) first, then N measured ones: the callee answers after 500 ms and presses 1.
  for (let i = 0; i <= N; i++) calls[gsmNumber(i)] = { result: 'answer', afterMs: 500, keys: [{ afterMs: 200, key: '1' }] };
  const sim = await Sim900Simulator.create({ calls });
  const sipp = await startSipp('answer-info-1.xml', N + 1);
  let child: ChildProcess | undefined;
  try {
    const conf = join(dir, 'c.yaml');
    writeFileSync(conf, JSON.stringify({
      dataDir: join(dir, 'data'), audioCacheDir: join(dir, 'audio'), logLevel: 'warn',
      smtp: { port: 0 }, http: { port: 0 }, filter: { dedupeWindow: '0s' }, voice: { repeat: 1 },
      // One call per alert: a call that went wrong (a lost INFO) ends the alert instead of ringing again later.
      escalation: { rounds: 1 },
      channels: {
        order: ['gsm', 'voip'],
        gsm: { enabled: true, port: sim.driverPath, commandTimeout: '2s', ringTimeout: '20s', audioCommand: [process.execPath, PLAY, '{file}', join(dir, 'play.log'), '400'] },
        voip: { enabled: true, server: `127.0.0.1:${sipp.port}`, domain: 'alertline.test', username: '200', register: false, localAddress: '127.0.0.1', localPort: 0, rtpPorts: '30000-39999', ringTimeout: '20s' },
      },
    }));
    const stores = openStores(join(dir, 'data'));
    for (let i = 0; i <= N; i++) {
      await stores.users.add(`g${i}@alerts.example`, { phone: gsmNumber(i) });
      await stores.users.add(`v${i}@alerts.example`, { sip: sipUser(i) });
    }
    await stores.close();
    child = spawn(process.execPath, [join(ROOT, 'dist/bench/lib/latency-daemon.js'), conf], { stdio: ['ignore', 'pipe', 'inherit'] });
    const c = child;
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      createInterface({ input: c.stdout! }).on('line', (l) => {
        try {
          const m = JSON.parse(l) as { ready?: { port: number } };
          if (m.ready) resolve(m.ready);
        } catch { /* not ours */ }
      });
      c.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    });
    const db = new Database(join(dir, 'data', 'alertline.db'), { readonly: true });
    const state = db.prepare('SELECT state FROM alerts WHERE id = ?');
    const smtp = await Sender.open(port);
    const out = { gsm: [] as number[], voip: [] as number[], acked: { gsm: 0, voip: 0 } };
    const subject = (ch: string, i: number) => prompts === 'fresh' ? `Problem: disk ${i} full on ${ch} host ${i * 7919 % 1000}` : 'Problem: disk full on db1';
    const one = async (ch: 'gsm' | 'voip', i: number): Promise<number> => {
      const from = sim.commands.length;
      const { at, line } = await smtp.send(`${ch === 'gsm' ? 'g' : 'v'}${i}@alerts.example`, subject(ch, i));
      const id = Number(/alert (\d+)/.exec(line)?.[1]);
      let dialAt: number;
      if (ch === 'gsm') {
        const k = await until(() => { const j = sim.commands.indexOf(`ATD${gsmNumber(i)};`, from); return j >= 0 ? j + 1 : null; }, `ATD for alert ${id}`);
        dialAt = sim.commandTimes[k - 1]!;
        // The call ends with ATH; the alert is acknowledged by key 1.
        await until(() => sim.commands.indexOf('ATH', k) >= 0, `ATH for alert ${id}`);
      } else {
        dialAt = await until(() => inviteAt(sipp.log, sipUser(i)), `INVITE for alert ${id}`);
      }
      // The call is over once the alert has settled (acknowledged by key 1, or not: one round only).
      const settled = await until(() => { const s = (state.get(id) as { state: string } | undefined)?.state; return s && s !== 'pending' && s !== 'notifying' ? s : null; }, `alert ${id} settled`, 90_000);
      if (settled === 'acknowledged' && i < N) out.acked[ch]++;
      return dialAt - at;
    };
    for (const ch of CHANNELS) await one(ch, N); // warm-up: first synthesis, first connections
    for (let i = 0; i < N; i++) {
      for (const ch of CHANNELS) out[ch].push(await one(ch, i));
    }
    smtp.close();
    db.close();
    return out;
  } finally {
    if (child && child.exitCode === null) await stop(child);
    sipp.child.kill('SIGKILL');
    await sim.close();
    rmSync(sipp.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  console.log(`bench/latency: SMTP 250 → first dial at the peer, ${N} alerts one at a time, loopback, ${process.arch}`);
  console.log('  daemon: real receiver, SQLite commit, dispatcher, gsm channel → SIM900 simulator (socat pty), voip channel → sipp; espeak prompts');
  const base = await baseline();
  const rows: string[] = [];
  for (const ch of CHANNELS) rows.push(`  baseline ${ch === 'gsm' ? 'ATD   ' : 'INVITE'} (bare process: 250, then the write)        ${summary(base[ch])}`);
  for (const p of PROMPTS) {
    const r = await daemonRun(p);
    for (const ch of CHANNELS) rows.push(`  alertline ${ch === 'gsm' ? 'ATD at the SIM900 ' : 'INVITE at sipp    '} ${p.padEnd(6)} prompts     ${summary(r[ch])}   ${r.acked[ch]}/${N} calls acknowledged by key 1`);
  }
  console.log(rows.join('\n'));
  console.log('  fresh: every alert has a new subject (its message is synthesized for the call); cached: the message is in the prompt cache.');
  console.log('  times: the 250 as the sender reads it → the ATD line complete at the simulator / the INVITE in sipp\'s message log.');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
