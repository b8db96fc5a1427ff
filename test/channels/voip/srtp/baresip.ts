/**
 * Runs baresip (Debian baresip-core) on 127.0.0.1 as the called phone: auto-answer, its `srtp`
 * module for SDES, a tone as its microphone (aufile), the decoded far-end audio dumped to WAV
 * (sndfile), and ctrl_tcp to make it press keys (RFC 4733 telephone-event).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../sipp/helpers.js';

export type MediaEnc = 'srtp-mand' | 'srtp' | 'none';

export interface Baresip {
  sipPort: number;
  /** Resolves after baresip reported the call established (per call, in order). */
  established(): Promise<void>;
  /** Presses a key in the current call (RFC 4733). */
  sendDigit(digit: string): void;
  /** Every decoded-audio WAV baresip wrote (one per call), after its calls ended. */
  decodedWavs(): Promise<Buffer[]>;
  output(): string;
  stop(): Promise<void>;
}

function toneWav(hz: number, seconds: number): Buffer {
  const n = 8000 * seconds;
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + 2 * n, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + 2 * i);
  return b;
}

/** 16-bit mono PCM samples of a WAV file. */
export function wavSamples(wav: Buffer): Int16Array {
  let o = 12;
  while (o + 8 <= wav.length) {
    const id = wav.toString('ascii', o, o + 4);
    const len = wav.readUInt32LE(o + 4);
    if (id === 'data') {
      const end = Math.min(wav.length, o + 8 + len);
      const out = new Int16Array((end - o - 8) >> 1);
      for (let i = 0; i < out.length; i++) out[i] = wav.readInt16LE(o + 8 + 2 * i);
      return out;
    }
    o += 8 + len + (len & 1);
  }
  return new Int16Array(0);
}

/** Seconds of audible signal (20 ms windows with RMS above 1000) and its frequency by zero crossings. */
export function audible(samples: Int16Array, firstSeconds = 1): { seconds: number; hz: number } {
  let loud = 0;
  let crossings = 0;
  let counted = 0;
  for (let w = 0; w + 160 <= samples.length; w += 160) {
    let sum = 0;
    for (let i = w; i < w + 160; i++) sum += samples[i]! * samples[i]!;
    if (Math.sqrt(sum / 160) < 1000) continue;
    loud++;
    if (counted < firstSeconds * 50) {
      counted++;
      for (let i = w + 1; i < w + 160; i++) if (samples[i - 1]! < 0 !== samples[i]! < 0) crossings++;
    }
  }
  return { seconds: loud / 50, hz: counted ? crossings / 2 / (counted / 50) : 0 };
}

export async function startBaresip(mediaenc: MediaEnc): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-baresip-'));
  const rec = join(dir, 'rec');
  mkdirSync(rec);
  writeFileSync(join(dir, 'tone.wav'), toneWav(600, 10));
  const sipPort = await freePort();
  const ctrlPort = await freePort();
  const rtpBase = 40000 + 2 * Math.floor(Math.random() * 4000);
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      `audio_source aufile,${join(dir, 'tone.wav')}`,
      `audio_alert aufile,${join(dir, 'tone.wav')}`,
      'audio_srate 8000',
      'audio_channels 1',
      `rtp_ports ${rtpBase}-${rtpBase + 1999}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module sndfile.so',
      'module srtp.so',
      'module account.so',
      'module menu.so',
      'module ctrl_tcp.so',
      `snd_path ${rec}`,
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      '',
    ].join('\n'),
  );
  const enc = mediaenc === 'none' ? '' : `;mediaenc=${mediaenc}`;
  writeFileSync(join(dir, 'accounts'), `<sip:bob@127.0.0.1>;regint=0${enc};answermode=auto;audio_codecs=PCMU/8000/1\n`);
  writeFileSync(join(dir, 'contacts'), '\n');

  const child: ChildProcess = spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => (out = (out + d.toString()).slice(-40000));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !out.includes('baresip is ready'); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!out.includes('baresip is ready')) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`baresip did not start: ${out.slice(-2000)}`);
  }

  const ctrl = net.connect(ctrlPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    ctrl.once('connect', () => resolve());
    ctrl.once('error', reject);
  });
  ctrl.on('error', () => {});
  let events = '';
  let seen = 0;
  const waiters: (() => void)[] = [];
  ctrl.on('data', (d: Buffer) => {
    events += d.toString();
    const count = events.split('"CALL_ESTABLISHED"').length - 1;
    while (seen < count) {
      seen++;
      waiters.shift()?.();
    }
  });
  let calls = 0;

  return {
    sipPort,
    established() {
      const want = ++calls;
      if (seen >= want) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    sendDigit(digit: string) {
      const msg = JSON.stringify({ command: 'sndcode', params: digit, token: 'alertline' });
      ctrl.write(`${Buffer.byteLength(msg)}:${msg},`);
    },
    async decodedWavs() {
      // sndfile closes a call's files when the call is destroyed, just after "terminated"
      for (let i = 0; i < 60 && !out.includes('terminated (duration'); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      return readdirSync(rec)
        .filter((f) => f.endsWith('-dec.wav'))
        .sort()
        .map((f) => readFileSync(join(rec, f)));
    },
    output: () => out,
    async stop() {
      ctrl.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
