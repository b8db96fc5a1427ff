/**
 * baresip (Debian baresip-core) as a phone registered to a registrar over SIP over TLS:
 * auto-answer, its `srtp` module with a chosen mediaenc, a tone as its microphone (aufile), the
 * decoded far-end audio dumped to WAV (sndfile), ctrl_tcp to press keys and to see events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../sipp/helpers.js';

export interface TlsPhone {
  /** Resolves once the registrar answered baresip's REGISTER with 200. */
  registered(): Promise<void>;
  /** Resolves after baresip reported the call established. */
  established(): Promise<void>;
  sendDigit(digit: string): void;
  /** Hangs up the current call (its BYE reaches the caller through the registrar). */
  hangup(): void;
  decodedWavs(): Promise<Buffer[]>;
  output(): string;
  events(): string;
  /** What baresip's console UI showed. */
  screen(): string;
  stop(): Promise<void>;
}

function toneWav(hz: number, seconds: number): Buffer {
  const n = 8000 * seconds;
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + 2 * n, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + 2 * i);
  return b;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Starts baresip as `user@domain`, registering over TLS to 127.0.0.1:registrarPort. */
export async function startTlsPhone(opts: { user: string; password: string; domain: string; registrarPort: number; ca: string; mediaenc: 'srtp-mand' | 'srtp' | 'none' }): Promise<TlsPhone> {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-baresip-tls-'));
  const rec = join(dir, 'rec');
  mkdirSync(rec);
  writeFileSync(join(dir, 'tone.wav'), toneWav(600, 10));
  const sipPort = await freePort();
  const ctrlPort = await freePort();
  const consPort = await freePort();
  const rtpBase = 40000 + 2 * Math.floor(Math.random() * 4000);
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      `sip_cafile ${opts.ca}`,
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
      'module cons.so',
      `cons_listen 127.0.0.1:${consPort}`,
      `snd_path ${rec}`,
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      '',
    ].join('\n'),
  );
  const enc = opts.mediaenc === 'none' ? '' : `;mediaenc=${opts.mediaenc}`;
  writeFileSync(
    join(dir, 'accounts'),
    `<sip:${opts.user}@${opts.domain};transport=tls>;auth_pass=${opts.password};outbound="sip:127.0.0.1:${opts.registrarPort};transport=tls";regint=300${enc};answermode=auto;audio_codecs=PCMU/8000/1\n`,
  );
  writeFileSync(join(dir, 'contacts'), '\n');

  const child: ChildProcess = spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => (out = (out + d.toString()).slice(-60000));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!(await until(() => out.includes('baresip is ready') || child.exitCode !== null, 5000)) || child.exitCode !== null) {
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
  ctrl.on('data', (d: Buffer) => (events += d.toString()));
  // the console UI gets what baresip shows its user (incoming MESSAGE texts among it)
  const cons = net.connect(consPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    cons.once('connect', () => resolve());
    cons.once('error', reject);
  });
  cons.on('error', () => {});
  let screen = '';
  cons.on('data', (d: Buffer) => (screen = (screen + d.toString()).slice(-20000)));

  return {
    async registered() {
      // the event can come before ctrl_tcp is connected; the console line is always there
      const ok = () => events.includes('"REGISTER_OK"') || / 200 OK .*\[\d+ binding/.test(out);
      if (!(await until(() => ok() || events.includes('"REGISTER_FAIL"'), 8000)) || !ok()) {
        throw new Error(`baresip did not register: ${events.slice(-1000)} ${out.slice(-2000)}`);
      }
    },
    async established() {
      await until(() => events.includes('"CALL_ESTABLISHED"'), 15000);
    },
    sendDigit(digit: string) {
      const msg = JSON.stringify({ command: 'sndcode', params: digit, token: 'alertline' });
      ctrl.write(`${Buffer.byteLength(msg)}:${msg},`);
    },
    hangup() {
      const msg = JSON.stringify({ command: 'hangup', token: 'alertline' });
      ctrl.write(`${Buffer.byteLength(msg)}:${msg},`);
    },
    async decodedWavs() {
      await until(() => out.includes('terminated (duration'), 3000);
      await new Promise((r) => setTimeout(r, 300));
      return readdirSync(rec)
        .filter((f) => f.endsWith('-dec.wav'))
        .sort()
        .map((f) => readFileSync(join(rec, f)));
    },
    output: () => out,
    events: () => events,
    screen: () => screen,
    async stop() {
      ctrl.destroy();
      cons.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
