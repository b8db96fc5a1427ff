/** Shared pieces for the GSM tests: config, a PromptAudio that writes real WAV files, jobs. */
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PromptAudio, PhraseKey } from '../../../src/audio/prompt-audio.js';
import type { DeliveryJob } from '../../../src/channels/channel.js';
import { gsmSchema, smsSchema, voiceSchema, type GsmConfig } from '../../../src/config/schema.js';
import { SharedModem } from '../../../src/channels/gsm/modem/shared-modem.js';
import type { Sim900Modem } from '../../../src/channels/gsm/sim900-modem.js';

export const PLAY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'play.mjs');

/** A short real WAV: 8 kHz mono 16-bit PCM, `ms` of a 440 Hz tone. */
export function wavBytes(ms = 100): Buffer {
  const samples = Math.round((8000 * ms) / 1000);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** PromptAudio for tests: writes one WAV per request into a temp dir; frames are not used by gsm. */
export class FakePromptAudio implements PromptAudio {
  readonly dir = mkdtempSync(join(tmpdir(), 'gsm-audio-'));
  readonly requests: string[] = [];
  private n = 0;
  async callFrames(): Promise<Buffer[]> {
    throw new Error('not used by the gsm channel');
  }
  async phraseFrames(): Promise<Buffer[]> {
    throw new Error('not used by the gsm channel');
  }
  async callWav(message: string, lang: string): Promise<string> {
    this.requests.push(`call:${lang}:${message}`);
    const f = join(this.dir, `call-${++this.n}.wav`);
    writeFileSync(f, wavBytes());
    return f;
  }
  async phraseWav(key: PhraseKey, lang: string): Promise<string> {
    this.requests.push(`phrase:${lang}:${key}`);
    const f = join(this.dir, `phrase-${key}.wav`);
    writeFileSync(f, wavBytes());
    return f;
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Lines "<pid> <file>" written by the play script. */
export function playLog(logFile: string): Array<{ pid: number; file: string }> {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pid, ...rest] = l.split(' ');
      return { pid: Number(pid), file: rest.join(' ') };
    });
}

/** True if a process with this pid exists (zombies included: an unreaped child counts). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function gsmConfig(port: string, over: Record<string, unknown> = {}): GsmConfig {
  return gsmSchema.parse({ enabled: true, port, baudRate: 9600, commandTimeout: '2s', ...over });
}

export const smsConfig = (over: Record<string, unknown> = {}) => smsSchema.parse({ enabled: true, ...over });
export const voiceConfig = (over: Record<string, unknown> = {}) => voiceSchema.parse(over);

/**
 * A delivery job for the gsm/sms channels. The channels compose their own text from the alert
 * (voiceText, shortSms/fullSms), so a test shapes what is said or sent through the alert:
 * `subject` is what a one-part SMS and the call speak, `text` the body a full-text SMS carries.
 */
export function job(over: { phone?: string; subject?: string; text?: string; id?: number; moreAlerts?: number } = {}): DeliveryJob {
  const subject = over.subject ?? 'Problem: disk full on db1';
  const phone = over.phone !== undefined ? over.phone : '+15551230001';
  return {
    alert: {
      id: over.id ?? 42,
      kind: 'problem',
      subject,
      text: over.text ?? 'Host: db1\nSeverity: High',
      receivedAt: Date.UTC(2026, 0, 1),
      raw: Buffer.from('raw'),
    },
    recipient: { email: 'ops@example.com', phone, lang: 'en' },
    address: phone,
    moreAlerts: over.moreAlerts ?? 0,
    attemptId: 1,
  };
}

/** A SharedModem around a modem a test started itself (channels take the shared owner). */
export function shared(modem: Sim900Modem): SharedModem {
  return new SharedModem(modem);
}

/** Children of this test process (from /proc), except socat (the simulator's pty pair). */
export function childProcesses(): Array<{ pid: number; comm: string; state: string }> {
  const out: Array<{ pid: number; comm: string; state: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) === process.pid && comm !== 'socat') out.push({ pid: Number(name), comm, state: state! });
  }
  return out;
}
