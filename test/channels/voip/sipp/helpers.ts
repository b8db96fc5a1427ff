/**
 * Runs sipp (Debian sip-tester) as a child process on 127.0.0.1 with scenarios from this folder,
 * plus a small real-G.711 PromptAudio fake and a channel factory for the interop tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { G711Codec, PhraseKey, PromptAudio } from '../../../../src/audio/prompt-audio.js';
import { voiceSchema, voipSchema } from '../../../../src/config/schema.js';
import type { DeliveryJob } from '../../../../src/channels/channel.js';
import { memoryLogger } from '../../../../src/util/log.js';
import { alawEncode, ulawEncode } from '../../../../src/audio/g711.js';
import { VoipChannel, type VoipChannelOptions } from '../../../../src/channels/voip/voip-channel.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** A port free on 127.0.0.1 for both UDP and TCP at the time of asking. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const u = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      u.once('error', reject);
      u.bind(0, '127.0.0.1', () => resolve(u.address().port));
    });
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    await new Promise<void>((r) => u.close(() => r()));
    if (ok && port % 2 === 0 && port < 65000) return port;
  }
  throw new Error('no free port');
}

export interface SippRun {
  port: number;
  done: Promise<{ code: number | null; output: string }>;
  kill(): Promise<void>;
}

/** Starts sipp as a UAS with scenario `name` (file in this folder). Resolves once it listens. */
export async function startSipp(
  name: string,
  opts: { transport?: 'u1' | 't1'; vars?: Record<string, string | number>; mediaPort?: number; timeoutS?: number; port?: number; dir?: string; /** Calls (Call-IDs) sipp takes before it exits; 1 by default. */ maxCalls?: number } = {},
): Promise<SippRun> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'alertline-sipp-'));
  const args = [
    '-sf', join(opts.dir ?? HERE, name),
    '-i', '127.0.0.1',
    '-p', String(port),
    '-t', opts.transport ?? 'u1',
    '-m', String(opts.maxCalls ?? 1),
    '-nostdin',
    '-timeout', `${opts.timeoutS ?? 25}s`,
    '-timeout_error',
    '-max_recv_loops', '1000',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-trace_msg', '-message_file', join(dir, 'messages.log'),
  ];
  if (opts.mediaPort) args.push('-mi', '127.0.0.1', '-mp', String(opts.mediaPort));
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push('-set', k, String(v));
  const child: ChildProcess = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20000)));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    child.on('exit', (code) => {
      const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-12000) : '');
      const full = `${output}\n--- errors ---\n${read('errors.log')}\n--- messages ---\n${read('messages.log')}`;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output: full });
    });
  });
  await waitListening(port, opts.transport ?? 'u1', done);
  return {
    port,
    done,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await done;
    },
  };
}

async function waitListening(port: number, transport: 'u1' | 't1', done: Promise<unknown>): Promise<void> {
  let exited = false;
  void done.then(() => (exited = true));
  for (let i = 0; i < 100 && !exited; i++) {
    const busy =
      transport === 't1'
        ? await new Promise<boolean>((resolve) => {
            const s = net.connect(port, '127.0.0.1');
            s.once('connect', () => {
              s.destroy();
              resolve(true);
            });
            s.once('error', () => resolve(false));
          })
        : await new Promise<boolean>((resolve) => {
            const u = dgram.createSocket('udp4');
            u.once('error', () => resolve(true));
            u.bind(port, '127.0.0.1', () => u.close(() => resolve(false)));
          });
    if (busy) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited) throw new Error(`sipp exited early: ${JSON.stringify((await (done as Promise<{ output: string }>)).output)}`);
  throw new Error('sipp did not start listening');
}

export function toneFrames(codec: G711Codec, seconds: number, hz = 440): Buffer[] {
  const enc = codec === 'PCMU' ? ulawEncode : alawEncode;
  const frames: Buffer[] = [];
  const n = Math.round(seconds * 50);
  for (let f = 0; f < n; f++) {
    const b = Buffer.alloc(160);
    for (let i = 0; i < 160; i++) b[i] = enc(Math.round(8000 * Math.sin((2 * Math.PI * hz * (f * 160 + i)) / 8000)));
    frames.push(b);
  }
  frames.push(Buffer.alloc(160, codec === 'PCMU' ? 0xff : 0xd5)); // padded with the codec's silence
  return frames;
}

export class FakePromptAudio implements PromptAudio {
  calls: { message: string; lang: string; codec: G711Codec }[] = [];
  phrases: PhraseKey[] = [];
  constructor(private readonly seconds = 1.5) {}
  async callFrames(message: string, lang: string, codec: G711Codec): Promise<Buffer[]> {
    this.calls.push({ message, lang, codec });
    return toneFrames(codec, this.seconds);
  }
  async phraseFrames(key: PhraseKey, _lang: string, codec: G711Codec): Promise<Buffer[]> {
    this.phrases.push(key);
    return toneFrames(codec, 0.3, 880);
  }
  async callWav(): Promise<string> {
    throw new Error('not used by voip');
  }
  async phraseWav(): Promise<string> {
    throw new Error('not used by voip');
  }
}

export function makeChannel(
  sippPort: number,
  voip: Record<string, unknown> = {},
  extra: Partial<VoipChannelOptions> & { seconds?: number; repeat?: number } = {},
) {
  const logger = memoryLogger();
  const audio = new FakePromptAudio(extra.seconds ?? 1.5);
  const config = voipSchema.parse({
    enabled: true,
    // a test giving voip.servers (a pool) names every server itself
    server: voip.servers ? undefined : `127.0.0.1:${sippPort}`,
    domain: 'alertline.test',
    username: '200',
    password: 's3cret',
    register: false,
    localAddress: '127.0.0.1',
    localPort: 0,
    rtpPorts: '30000-39999',
    ringTimeout: '10s',
    maxCallDuration: '20s',
    ...voip,
  });
  const channel = new VoipChannel({
    config,
    voice: voiceSchema.parse({ repeat: extra.repeat ?? 1 }),
    audio,
    logger,
    keyGraceMs: 300,
    rtp: { pacer: 'main' },
    ...extra,
  });
  return { channel, audio, logger, config };
}

export function job(sip = '201'): DeliveryJob {
  return {
    alert: { id: 7, kind: 'problem', subject: 'Problem: disk full', text: 'Host: db1', receivedAt: 0, raw: Buffer.alloc(0) },
    recipient: { email: 'oncall@example.com', sip, lang: 'en' },
    address: sip,
    moreAlerts: 0,
    attemptId: 1,
  };
}

/** Collects RTP packets arriving at a UDP socket on 127.0.0.1. */
export async function rtpSink(): Promise<{ port: number; packets: Buffer[]; close(): Promise<void> }> {
  const port = await freePort();
  const sock = dgram.createSocket('udp4');
  const packets: Buffer[] = [];
  sock.on('message', (m) => packets.push(m));
  await new Promise<void>((resolve) => sock.bind(port, '127.0.0.1', () => resolve()));
  return { port, packets, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

/** Rows "----------> NAME  messages  retrans" of sipp's final scenario screen. */
export function sippRows(output: string, name: string): { messages: number; retrans: number }[] {
  const from = output.lastIndexOf('Scenario Screen');
  const end = output.indexOf('Statistics Screen', from);
  const screen = output.slice(from, end < 0 ? undefined : end);
  const re = new RegExp(`-{10}> ${name}\\s+(\\d+)\\s+(\\d+)`, 'g');
  return [...screen.matchAll(re)].map((m) => ({ messages: Number(m[1]), retrans: Number(m[2]) }));
}
