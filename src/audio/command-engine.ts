/**
 * TTS through any local program that writes a WAV (piper, pico2wave, a system espeak-ng ...).
 * voice.command is an argv template: {text}, {file}, {lang} and {rate} are replaced inside each
 * argument; the program is started directly (no shell), so text can never become a command.
 * Without {text} the text goes to the program's stdin; without {file} the WAV is read from stdout.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';
import { parseWav, wavToMono16, WavError } from './wav.js';
import { LANG_TAG, normalizeLang, TtsError, type Synthesis, type SynthesisOptions, type TtsEngine } from './tts-engine.js';

export interface CommandEngineOptions {
  argv: string[];
  /** Kill the program after this long (default 30 s). */
  timeoutMs?: number;
  /** Largest WAV accepted (default 64 MB). */
  maxOutputBytes?: number;
  logger?: Logger;
}

const PLACEHOLDER = /\{(text|file|lang|rate)\}/g;

export class CommandEngine implements TtsEngine {
  readonly id: string;
  private readonly argv: string[];
  private readonly timeoutMs: number;
  private readonly maxOutputBytes: number;
  private readonly logger: Logger;
  private readonly children = new Set<ReturnType<typeof spawn>>();

  constructor(opts: CommandEngineOptions) {
    if (!Array.isArray(opts.argv) || opts.argv.length === 0 || !opts.argv[0]) {
      throw new TtsError('voice.command must be a non-empty argv list, e.g. ["piper", "--model", "en.onnx", "--output_file", "{file}"]');
    }
    if (opts.argv[0].includes('{')) throw new TtsError('voice.command: the program name cannot be a placeholder');
    this.argv = [...opts.argv];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxOutputBytes = opts.maxOutputBytes ?? 64 * 1024 * 1024;
    this.logger = opts.logger ?? silentLogger;
    this.id = 'command:' + createHash('sha256').update(this.argv.join('\u0000')).digest('hex').slice(0, 16);
  }

  listLanguages(): string[] {
    return [];
  }

  /** The program's languages are unknown here; any well-formed tag is accepted. */
  hasLanguage(lang: string): boolean {
    return LANG_TAG.test(lang);
  }

  async synthesize(text: string, opts: SynthesisOptions): Promise<Synthesis> {
    if (!this.hasLanguage(opts.lang)) throw new TtsError(`bad language tag ${JSON.stringify(opts.lang)}`);
    const usesText = this.argv.some((a) => a.includes('{text}'));
    const usesFile = this.argv.some((a) => a.includes('{file}'));
    const dir = await mkdtemp(join(tmpdir(), 'alertline-tts-'));
    const file = join(dir, 'out.wav');
    // A text argument starting with "-" would be read as an option by most programs.
    const textArg = text.startsWith('-') ? ' ' + text : text;
    const values: Record<string, string> = { text: textArg, file, lang: normalizeLang(opts.lang), rate: String(opts.rate) };
    const args = this.argv.slice(1).map((a) => a.replace(PLACEHOLDER, (_, name: string) => values[name]!));
    try {
      const stdout = await this.run(this.argv[0]!, args, usesText ? undefined : text, !usesFile);
      const wav = usesFile ? await readFile(file).catch(() => undefined) : stdout;
      if (!wav || wav.length === 0) throw new TtsError(`${this.argv[0]} wrote no audio`);
      if (wav.length > this.maxOutputBytes) throw new TtsError(`${this.argv[0]} wrote more than ${this.maxOutputBytes} bytes`);
      const parsed = parseWav(wav);
      return { samples: wavToMono16(parsed), sampleRate: parsed.sampleRate };
    } catch (e) {
      if (e instanceof WavError) throw new TtsError(`${this.argv[0]} did not write a usable WAV: ${e.message}`);
      throw e;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
  }

  private run(program: string, args: string[], stdin: string | undefined, wantStdout: boolean): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const child = spawn(program, args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
      this.children.add(child);
      const out: Buffer[] = [];
      let outBytes = 0;
      let errTail = '';
      let settled = false;
      const finish = (err: Error | undefined, value?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.children.delete(child);
        if (err) reject(err);
        else resolve(value!);
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(new TtsError(`${program} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      child.on('error', (e) => finish(new TtsError(`cannot run ${program}: ${e.message}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        if (!wantStdout) return;
        outBytes += chunk.length;
        if (outBytes > this.maxOutputBytes) {
          child.kill('SIGKILL');
          finish(new TtsError(`${program} wrote more than ${this.maxOutputBytes} bytes`));
          return;
        }
        out.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        errTail = (errTail + chunk.toString('utf8')).slice(-500);
      });
      child.stdin!.on('error', () => undefined); // the program may not read stdin at all
      child.stdin!.end(stdin ?? '');
      child.on('close', (code, signal) => {
        if (code === 0) return finish(undefined, Buffer.concat(out));
        const why = signal ? `killed by ${signal}` : `exit status ${code}`;
        this.logger.warn('tts.command_failed', { program, status: why });
        finish(new TtsError(`${program} failed (${why})${errTail.trim() ? ': ' + errTail.trim().slice(-200) : ''}`));
      });
    });
  }
}
